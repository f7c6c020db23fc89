
ALTER TABLE runs ADD COLUMN heartbeat BIGINT;
ALTER TABLE runs ADD COLUMN heartbeat_interval BIGINT;
UPDATE runs SET heartbeat = COALESCE(end_time, start_time);
ALTER TABLE artifacts ADD COLUMN description TEXT COLLATE "C" NOT NULL DEFAULT '';
