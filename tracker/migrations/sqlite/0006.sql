
ALTER TABLE runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER runs_revision AFTER UPDATE OF name, status, error, end_time, deleted ON runs
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.id; END;
CREATE TRIGGER tags_revision_INSERT AFTER INSERT ON tags
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER tags_revision_UPDATE AFTER UPDATE ON tags
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER tags_revision_DELETE AFTER DELETE ON tags
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = OLD.run_id; END;
CREATE TRIGGER params_revision_INSERT AFTER INSERT ON params
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER params_revision_UPDATE AFTER UPDATE ON params
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER params_revision_DELETE AFTER DELETE ON params
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = OLD.run_id; END;
CREATE TRIGGER latest_metrics_revision_INSERT AFTER INSERT ON latest_metrics
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER latest_metrics_revision_UPDATE AFTER UPDATE ON latest_metrics
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id; END;
CREATE TRIGGER latest_metrics_revision_DELETE AFTER DELETE ON latest_metrics
BEGIN UPDATE runs SET revision = revision + 1 WHERE id = OLD.run_id; END;
