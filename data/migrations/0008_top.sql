-- The "Top" listing: projects by the votes of their threads, then by recent activity. The
-- inputs are kept on the project row by triggers, whatever writes the threads (votes, new
-- threads, imports, moderation), in the write's own transaction, and a partial index on the
-- score answers any page of the listing without a sort:
--   score       = (up_total + 1) / (up_total + down_total + 2), the up share smoothed towards
--                 one half (a project with one up-vote does not beat ninety of a hundred);
--   last_active = the newest of the project's and its threads' creation times.
-- `up_total`/`down_total` count threads that are not hidden themselves (generator::ranking
-- computes the same from a snapshot; the property tests hold the two equal).

ALTER TABLE projects ADD COLUMN up_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN down_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN last_active TEXT NOT NULL DEFAULT '';

UPDATE projects SET
  up_total = coalesce((SELECT sum(up_vote) FROM threads t WHERE t.project_id = projects.project_id AND t.hidden = 0), 0),
  down_total = coalesce((SELECT sum(down_vote) FROM threads t WHERE t.project_id = projects.project_id AND t.hidden = 0), 0),
  last_active = max(created_at, coalesce((SELECT max(created_at) FROM threads t WHERE t.project_id = projects.project_id), ''));

CREATE INDEX projects_top ON projects (
  ((up_total + 1.0) / (up_total + down_total + 2.0)) DESC, last_active DESC, project_id DESC
) WHERE hidden = 0;

CREATE TRIGGER top_project_proposed AFTER INSERT ON projects
BEGIN
  UPDATE projects SET last_active = max(last_active, NEW.created_at) WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER top_thread_added AFTER INSERT ON threads
BEGIN
  UPDATE projects SET
    up_total = up_total + CASE WHEN NEW.hidden = 0 THEN NEW.up_vote ELSE 0 END,
    down_total = down_total + CASE WHEN NEW.hidden = 0 THEN NEW.down_vote ELSE 0 END,
    last_active = max(last_active, NEW.created_at)
  WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER top_thread_changed AFTER UPDATE OF up_vote, down_vote, hidden ON threads
BEGIN
  UPDATE projects SET
    up_total = up_total - CASE WHEN OLD.hidden = 0 THEN OLD.up_vote ELSE 0 END
                        + CASE WHEN NEW.hidden = 0 THEN NEW.up_vote ELSE 0 END,
    down_total = down_total - CASE WHEN OLD.hidden = 0 THEN OLD.down_vote ELSE 0 END
                            + CASE WHEN NEW.hidden = 0 THEN NEW.down_vote ELSE 0 END
  WHERE project_id = NEW.project_id;
END;
