-- Edge-cache purges owed. The publisher records the cache tags of the pages it stored in the
-- same batch that clears their outbox rows, so a change's purge can never be lost: the row
-- stays until a purge covering the tag succeeded. After that first purge a tag is kept as a
-- "settle" row, due again a moment later, so an edge response read from the page store just
-- before the publish and cached just after the purge is purged too.
CREATE TABLE purges (
  tag       TEXT    PRIMARY KEY,
  queued_ms INTEGER NOT NULL,           -- when it became owed (the oldest, if owed twice)
  settle    INTEGER NOT NULL DEFAULT 0, -- 0: owed; 1: purged once, due again at due_ms
  due_ms    INTEGER NOT NULL
);
CREATE INDEX purges_by_due ON purges (settle, due_ms);
