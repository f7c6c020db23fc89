
-- 6 → 7: what runs push/pull last copied into this store, so that a later copy tells
-- a change in the source from an edit made here (copy_marks.go). No foreign key: a
-- mark outlives a run deleted here, which keeps it deleted.
CREATE TABLE copy_marks (
	run_id      TEXT PRIMARY KEY,   -- UUID
	digest      TEXT NOT NULL,      -- the run's content, tags aside, after the copy
	source_tags TEXT NOT NULL,      -- JSON object: the source's tags at the copy
	target_tags TEXT NOT NULL,      -- JSON object: this store's tags after it
	copied      INTEGER NOT NULL    -- Unix ms
);
