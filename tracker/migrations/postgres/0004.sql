
CREATE INDEX params_key ON params(key, value);
CREATE INDEX tags_key ON tags(key, value);
DROP INDEX metrics_run_key;
CREATE INDEX metrics_run_key ON metrics(run_id, key, step, id);
