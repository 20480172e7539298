-- A rebuild's progress against its size: the projects there were when it started, and how
-- many of them are rendered (so `crowdfund rebuild --wait` can show done/total, rate and ETA).
ALTER TABLE rebuilds ADD COLUMN projects_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rebuilds ADD COLUMN projects_done INTEGER NOT NULL DEFAULT 0;
