-- What an operator needs to know of the publishing pipeline, for /api/v1/health: when it last
-- published and when the cron last ran (`ops`), and the messages the queue gave up on
-- (`dead_letters`, filled by the dead-letter queue's consumer).
CREATE TABLE ops (
  key   TEXT    PRIMARY KEY,   -- last_publish_ms | last_cron_ms
  value INTEGER NOT NULL
);

CREATE TABLE dead_letters (
  message_id  TEXT    PRIMARY KEY,   -- the queue's message id (a redelivery is stored once)
  body        TEXT    NOT NULL,      -- the message as JSON
  outbox_id   TEXT,                  -- a change's outbox row: resolved once the row is gone
  received_ms INTEGER NOT NULL
);
