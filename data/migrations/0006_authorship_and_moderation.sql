-- Who wrote what, what it said before, and what moderators did.
--
-- `author` is a keyed digest of the writer's visitor id (HMAC with the Worker's secret): it
-- identifies the author for authorization and on pages (as a pseudonym), and cannot be turned
-- back into the visitor's token. `author_name` is the display name the author had chosen when
-- writing (NULL: the pages show the pseudonym). Rows written before this migration have no
-- author: only a moderator can change them.
ALTER TABLE projects ADD COLUMN author TEXT;
ALTER TABLE projects ADD COLUMN author_name TEXT;
ALTER TABLE projects ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN author TEXT;
ALTER TABLE threads ADD COLUMN author_name TEXT;
ALTER TABLE threads ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- Every edit keeps the text it replaced (append-only).
CREATE TABLE revisions (
  revision_id INTEGER PRIMARY KEY AUTOINCREMENT,
  thread_id   INTEGER NOT NULL REFERENCES threads (thread_id),
  message     TEXT    NOT NULL,   -- the text as it was
  written_at  TEXT    NOT NULL,   -- when that text was written
  replaced_at TEXT    NOT NULL,   -- when an edit (or a moderator's revert) replaced it
  replaced_by TEXT    NOT NULL    -- 'author' or 'moderator:<name>'
);
CREATE INDEX revisions_by_thread ON revisions (thread_id, revision_id);

-- Display names visitors chose (used for what they write from then on).
CREATE TABLE visitors (
  author       TEXT    PRIMARY KEY,
  display_name TEXT    NOT NULL,
  updated_ms   INTEGER NOT NULL
);

-- Visitors' reports of threads, one per visitor and thread.
CREATE TABLE reports (
  report_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  thread_id  INTEGER NOT NULL REFERENCES threads (thread_id),
  reporter   TEXT    NOT NULL,    -- the reporter's author key
  reason     TEXT    NOT NULL,
  created_at TEXT    NOT NULL,
  UNIQUE (thread_id, reporter)
);

-- Every moderation action: who, what, when (never a token).
CREATE TABLE moderation_log (
  action_id INTEGER PRIMARY KEY AUTOINCREMENT,
  moderator TEXT    NOT NULL,
  action    TEXT    NOT NULL,     -- hide | restore | revert
  target    TEXT    NOT NULL,     -- thread:<id> | project:<id>
  detail    TEXT,                 -- the revision reverted to, the reason given
  at        TEXT    NOT NULL
);
