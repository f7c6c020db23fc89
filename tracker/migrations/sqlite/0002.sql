
ALTER TABLE runs ADD COLUMN heartbeat INTEGER;           -- Unix ms
ALTER TABLE runs ADD COLUMN heartbeat_interval INTEGER;  -- ms
UPDATE runs SET heartbeat = COALESCE(end_time, start_time);
ALTER TABLE artifacts ADD COLUMN description TEXT NOT NULL DEFAULT '';
