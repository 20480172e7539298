-- crowdfund's schema. Two bounded contexts (projects: projects + tags; threads: threads +
-- votes) in one D1 database, plus the outbox that links writes to page renders and the
-- idempotency store. Never edit a migration that has been applied: add a new one.

CREATE TABLE projects (
  project_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  project_name TEXT    NOT NULL,
  -- lower-cased name: two projects may not share a name whatever the case
  name_key     TEXT    NOT NULL UNIQUE,
  tagline      TEXT    NOT NULL,
  created_at   TEXT    NOT NULL
);

CREATE TABLE tags (
  tag_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects (project_id),
  tag        TEXT    NOT NULL,
  UNIQUE (project_id, tag)
);
-- tag pages: a tag's projects in id order, counts before an id
CREATE INDEX tags_by_tag ON tags (tag, project_id);

CREATE TABLE threads (
  thread_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id  INTEGER NOT NULL REFERENCES projects (project_id),
  parent_id   INTEGER REFERENCES threads (thread_id),
  thread_type TEXT    NOT NULL CHECK (thread_type IN ('PROBLEM', 'SOLUTION', 'COMMENT')),
  message     TEXT    NOT NULL,
  up_vote     INTEGER NOT NULL DEFAULT 0,
  down_vote   INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT    NOT NULL,
  updated_at  TEXT
);
-- a project's threads in order (detail pages, GetProjectThreads)
CREATE INDEX threads_by_project ON threads (project_id, thread_id);

CREATE TABLE votes (
  thread_id INTEGER NOT NULL REFERENCES threads (thread_id),
  voter     TEXT    NOT NULL,
  direction INTEGER NOT NULL CHECK (direction IN (1, -1)),
  PRIMARY KEY (thread_id, voter)
) WITHOUT ROWID;

-- One row per acknowledged write whose pages are not yet known to be published. Written in
-- the same batch as the state it describes; deleted by the consumer after the pages are in
-- the page store; re-driven by the cron when older than a threshold.
CREATE TABLE outbox (
  outbox_id  TEXT    PRIMARY KEY,
  change     TEXT    NOT NULL,   -- JSON of generator::paths::Change
  created_ms INTEGER NOT NULL
);
CREATE INDEX outbox_by_age ON outbox (created_ms);

-- First answers to requests that carried an Idempotency-Key.
CREATE TABLE idempotency (
  idem_key   TEXT    PRIMARY KEY,  -- route + ':' + the client's key
  status     INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
);
