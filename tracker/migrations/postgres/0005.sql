
CREATE TABLE sweeps (
	id              TEXT COLLATE "C" PRIMARY KEY,
	name            TEXT NOT NULL,
	experiment      TEXT NOT NULL,
	model           TEXT NOT NULL,
	spec            TEXT NOT NULL,
	metric          TEXT NOT NULL,
	lower_is_better BOOLEAN NOT NULL,
	parameters      TEXT NOT NULL,
	trials          TEXT NOT NULL,
	stopping        TEXT NOT NULL DEFAULT '',
	created         BIGINT NOT NULL,
	cancelled       BIGINT
);
CREATE INDEX sweeps_created ON sweeps(created);
