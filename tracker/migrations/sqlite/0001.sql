
CREATE TABLE experiments (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL              -- Unix ms
);
CREATE TABLE runs (
	id            TEXT PRIMARY KEY,       -- UUID
	experiment_id INTEGER NOT NULL REFERENCES experiments(id),
	name          TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	start_time    INTEGER NOT NULL,       -- Unix ms
	end_time      INTEGER,                -- Unix ms, NULL while running
	source        TEXT NOT NULL DEFAULT '',
	error         TEXT NOT NULL DEFAULT '',
	config        TEXT,                   -- JSON
	owner_pid     INTEGER NOT NULL DEFAULT 0,
	owner_host    TEXT NOT NULL DEFAULT '',
	deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_experiment ON runs(experiment_id, start_time);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE params (
	run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE TABLE tags (
	run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
	run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	step      INTEGER NOT NULL,
	epoch     INTEGER NOT NULL,
	value     REAL,                       -- NULL stands for NaN
	timestamp INTEGER NOT NULL            -- Unix ms
);
CREATE INDEX metrics_run_key ON metrics(run_id, key, step);
CREATE TABLE latest_metrics (
	run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	step      INTEGER NOT NULL,
	epoch     INTEGER NOT NULL,
	value     REAL,
	timestamp INTEGER NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key ON latest_metrics(key, value);
CREATE TABLE artifacts (
	id      INTEGER PRIMARY KEY,
	run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	path    TEXT NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX artifacts_run ON artifacts(run_id);
