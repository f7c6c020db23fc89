
CREATE INDEX params_key ON params(key, value);
CREATE INDEX tags_key ON tags(key, value);
