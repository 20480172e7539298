-- Search: an FTS5 index of every shown project's name, tagline and tags (rowid = project_id),
-- case-insensitive and accent-folded (`remove_diacritics 2`: "cafe" finds "Café"). The writes
-- that change what it holds re-index their project with one statement in their own batch
-- (core/src/search.rs: proposals, tag edits, imports), and the trigger below follows
-- moderation: no write commits without its index entry. (Triggers on `tags` would re-index a
-- project once per tag: about ten rows written per tag instead of seven per proposal.)

CREATE VIRTUAL TABLE project_search USING fts5 (
  name, tagline, tags,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- Matches rank by BM25, a word in the name counting most, then in the tags, then the tagline.
INSERT INTO project_search (project_search, rank) VALUES ('rank', 'bm25(10.0, 3.0, 5.0)');

INSERT INTO project_search (rowid, name, tagline, tags)
SELECT p.project_id, p.project_name, p.tagline,
       coalesce((SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.project_id = p.project_id), '')
FROM projects p WHERE p.hidden = 0;

-- Hidden or restored by a moderator (or renamed, should that ever be allowed).
CREATE TRIGGER project_search_changed AFTER UPDATE OF hidden, project_name, tagline ON projects
BEGIN
  DELETE FROM project_search WHERE rowid = OLD.project_id;
  INSERT INTO project_search (rowid, name, tagline, tags)
  SELECT NEW.project_id, NEW.project_name, NEW.tagline,
         coalesce((SELECT group_concat(tag, ' ') FROM tags WHERE project_id = NEW.project_id), '')
  WHERE NEW.hidden = 0;
END;
