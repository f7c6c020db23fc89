
ALTER TABLE runs ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION aelab_run_revision() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
	NEW.revision := OLD.revision + 1;
	RETURN NEW;
END
$fn$;
CREATE TRIGGER runs_revision BEFORE UPDATE OF name, status, error, end_time, deleted ON runs FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.status IS DISTINCT FROM NEW.status OR OLD.error IS DISTINCT FROM NEW.error
	OR OLD.end_time IS DISTINCT FROM NEW.end_time OR OLD.deleted IS DISTINCT FROM NEW.deleted)
EXECUTE FUNCTION aelab_run_revision();
CREATE FUNCTION aelab_child_revision() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
	UPDATE runs SET revision = revision + 1 WHERE id IN (SELECT DISTINCT run_id FROM changed);
	RETURN NULL;
END
$fn$;
CREATE TRIGGER tags_revision_insert AFTER INSERT ON tags REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER tags_revision_update AFTER UPDATE ON tags REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER tags_revision_delete AFTER DELETE ON tags REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER params_revision_insert AFTER INSERT ON params REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER params_revision_update AFTER UPDATE ON params REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER params_revision_delete AFTER DELETE ON params REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER latest_metrics_revision_insert AFTER INSERT ON latest_metrics REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER latest_metrics_revision_update AFTER UPDATE ON latest_metrics REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
CREATE TRIGGER latest_metrics_revision_delete AFTER DELETE ON latest_metrics REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION aelab_child_revision();
