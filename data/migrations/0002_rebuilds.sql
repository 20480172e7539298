-- Admin rebuilds: re-render every page from D1 in bounded steps (a chain of queue messages),
-- with progress readable at GET /api/v1/admin/rebuilds/{rebuild_id}.
CREATE TABLE rebuilds (
  rebuild_id  TEXT    PRIMARY KEY,
  started_ms  INTEGER NOT NULL,
  phase       TEXT    NOT NULL,          -- projects | tags | site | done
  pages       INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER
);
