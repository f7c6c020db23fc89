
CREATE TABLE sweeps (
	id              TEXT PRIMARY KEY,       -- UUID
	name            TEXT NOT NULL,
	experiment      TEXT NOT NULL,          -- where its trial runs land
	model           TEXT NOT NULL,
	spec            TEXT NOT NULL,          -- the spec as written
	metric          TEXT NOT NULL,
	lower_is_better INTEGER NOT NULL,
	parameters      TEXT NOT NULL,          -- JSON list of the varied parameter names
	trials          TEXT NOT NULL,          -- JSON list of SweepTrial
	stopping        TEXT NOT NULL DEFAULT '',
	created         INTEGER NOT NULL,       -- Unix ms
	cancelled       INTEGER                 -- Unix ms, NULL unless cancelled
);
CREATE INDEX sweeps_created ON sweeps(created);
