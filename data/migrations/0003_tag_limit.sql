-- "At most 10 tags a project" held by the database itself, so no interleaving of concurrent
-- tag edits can exceed it: a checked count read before the write would be stale by the time
-- the write commits. A new (project, tag) row is refused when the project already has 10;
-- re-adding a tag it has is not a new row and passes (INSERT OR IGNORE then ignores it). The
-- abort rolls back the whole D1 batch, so a refused edit changes nothing. The message starts
-- with the key the Worker maps to its 422 (`tag_limit`).
CREATE TRIGGER tags_at_most_ten BEFORE INSERT ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags WHERE project_id = NEW.project_id AND tag = NEW.tag)
  AND (SELECT count(*) FROM tags WHERE project_id = NEW.project_id) >= 10
BEGIN
  SELECT RAISE(ABORT, 'tag_limit: a project has at most 10 tags');
END;
