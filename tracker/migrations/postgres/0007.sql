
-- 6 → 7: what runs push/pull last copied into this store (see the SQLite step).
CREATE TABLE copy_marks (
	run_id      TEXT COLLATE "C" PRIMARY KEY,
	digest      TEXT COLLATE "C" NOT NULL,
	source_tags TEXT NOT NULL,
	target_tags TEXT NOT NULL,
	copied      BIGINT NOT NULL
);
