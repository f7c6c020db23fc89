package tracker

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// When a run ends and its store still cannot take what the run logged (a
// PostgreSQL server that went away for good), Finish saves the run to a
// SQLite store file of its own, beside the store's artifacts: its record
// (experiment, name, source, config, params, tags, status) with every metric
// value and artifact it logged, so that `aelab runs push --db FILE --to STORE`
// brings it to the store once that is back. The file is named after the run:
// aelab-unsent-<first 8 characters of its id>.db.

// maxHistoryValues bounds the metric values a run remembers for its spill file
// (a flat copy: 24 bytes a value, besides the keys' text the caller made).
// Past it the run forgets them, and a spill holds only what the store lacks.
const maxHistoryValues = 1_000_000

// runRecord is what a run's spill file says of the run besides its writes:
// the text as the store records it (scrubbed of the password).
type runRecord struct {
	experiment, name, source string
	config                   any // string, or nil for none
	params, tags             map[string]string
	start                    int64
	pid                      int
	host                     string
	interval                 int64 // heartbeat interval, ms
}

// newRunRecord is the record of a run StartRun is about to write.
func (s *Store) newRunRecord(spec RunSpec, config any, host string, start int64, interval int64) runRecord {
	rec := runRecord{experiment: spec.Experiment, name: spec.Name, source: spec.Source, config: config,
		params: map[string]string{}, tags: map[string]string{}, start: start, pid: os.Getpid(), host: host, interval: interval}
	s.recordKV(rec.params, spec.Params)
	s.recordKV(rec.tags, spec.Tags)
	return rec
}

// recordKV copies kv into dst as upsertKV stores it.
func (s *Store) recordKV(dst, kv map[string]string) {
	for k, v := range kv {
		if k != "" {
			dst[s.scrubText(k)] = s.scrubText(v)
		}
	}
}

// remember records params or tags (table "params" or "tags") the run set, for its spill.
func (r *Run) remember(table string, kv map[string]string) {
	q := &r.writer
	q.mu.Lock()
	defer q.mu.Unlock()
	if table == "params" {
		r.store.recordKV(r.rec.params, kv)
	} else {
		r.store.recordKV(r.rec.tags, kv)
	}
}

// runHistory is every write of a run, flattened, for its spill file.
type runHistory struct {
	writes []historyWrite
	keys   []string
	values []float64
	cut    bool // more than maxHistoryValues were logged: the history is gone
}

// historyWrite is one write of a run: its metric values are keys[from:to],
// values[from:to] of the history.
type historyWrite struct {
	seq, at, step int64
	epoch         int
	from, to      int
	artifact      *Artifact
}

// add records w (seq set). Needs the run's writer.mu.
func (h *runHistory) add(w pendingWrite) {
	if h.cut {
		return
	}
	if len(h.values)+len(w.metrics) > maxHistoryValues {
		*h = runHistory{cut: true}
		return
	}
	hw := historyWrite{seq: w.seq, at: w.at, step: w.step, epoch: w.epoch, from: len(h.keys), artifact: w.artifact}
	for _, k := range slices.Sorted(maps.Keys(w.metrics)) {
		h.keys = append(h.keys, k)
		h.values = append(h.values, w.metrics[k])
	}
	hw.to = len(h.keys)
	h.writes = append(h.writes, hw)
}

// spillWrites is what the spill file holds of the run's writes: every one
// when the history is whole, else those the store has not taken. Needs writer.mu.
func (r *Run) spillWrites() (writes []pendingWrite, whole bool) {
	q := &r.writer
	if q.history.cut {
		return slices.Clone(q.pending), false
	}
	h := &q.history
	for _, hw := range h.writes {
		w := pendingWrite{seq: hw.seq, at: hw.at, step: hw.step, epoch: hw.epoch, artifact: hw.artifact}
		if hw.to > hw.from {
			w.metrics = make(map[string]float64, hw.to-hw.from)
			for i := hw.from; i < hw.to; i++ {
				w.metrics[h.keys[i]] = h.values[i]
			}
		}
		writes = append(writes, w)
	}
	return writes, true
}

// spill saves the run, ended with status and reason at end (Unix ms), to its
// spill file, and returns the sentence Finish adds to its error: where the
// run is and how to push it, or why it could not be saved.
func (r *Run) spill(status Status, reason string, end int64) string {
	s := r.store
	q := &r.writer
	q.mu.Lock()
	writes, whole := r.spillWrites()
	rec := r.rec
	rec.params, rec.tags = maps.Clone(rec.params), maps.Clone(rec.tags)
	q.mu.Unlock()

	dir, inRoot := s.artifactRoot, true
	if dir == "" || os.MkdirAll(dir, 0o755) != nil || !writableDir(dir) {
		dir, inRoot = os.TempDir(), false
	}
	path := filepath.Join(dir, "aelab-unsent-"+short(r.id)+".db")
	if _, err := os.Lstat(path); err == nil {
		path = filepath.Join(dir, "aelab-unsent-"+r.id+".db")
	}
	if !inRoot { // the spill's own root is its folder: artifacts by their full paths
		for i, w := range writes {
			if w.artifact != nil {
				a := *w.artifact
				a.Path = s.artifactPath(a.Path)
				writes[i].artifact = &a
			}
		}
	}
	if err := writeSpill(path, r.id, rec, status, s.scrubText(reason), end, writes); err != nil {
		return fmt.Sprintf("; saving the run to %s failed too: %v", path, scrub(err, s.secret))
	}
	if !whole {
		return fmt.Sprintf("; the writes the store lacks are saved in %s, not the earlier ones (the run logged more than %d values to keep them all; aelab runs push --overwrite from it would replace the store's copy of the run with them)",
			path, maxHistoryValues)
	}
	return fmt.Sprintf("; the run is saved in %s with all it logged: once the store is back, aelab runs push --db %s --to %s --overwrite (the store's copy of the run lacks part of it, which push reports as a conflict)",
		path, path, s.path)
}

// writableDir reports whether files can be made in dir.
func writableDir(dir string) bool {
	f, err := os.CreateTemp(dir, ".aelab-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// writeSpill writes a new SQLite store at path holding run id: its record, its
// end, and writes.
func writeSpill(path, id string, rec runRecord, status Status, reason string, end int64, writes []pendingWrite) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	}
	st, err := openSQLite(path, Options{}, CurrentSchemaVersion)
	if err != nil {
		return err
	}
	var seq int64
	for _, w := range writes {
		seq = max(seq, w.seq)
	}
	history, latestRows, artifacts := pendingRows(id, writes)
	err = st.writeTx(func(tx sqlRunner) error {
		if _, err := tx.exec(`INSERT INTO experiments(name, created) VALUES (?, ?)`, rec.experiment, rec.start); err != nil {
			return err
		}
		var expID int64
		if err := tx.queryRow(`SELECT id FROM experiments WHERE name = ?`, rec.experiment).Scan(&expID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO runs(id, experiment_id, name, status, start_time, end_time, source, error, config,
				owner_pid, owner_host, heartbeat, heartbeat_interval, logged_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			id, expID, rec.name, string(status), rec.start, end, rec.source, reason, rec.config,
			rec.pid, rec.host, end, rec.interval, seq); err != nil {
			return err
		}
		for _, kv := range []struct {
			table string
			m     map[string]string
		}{{"params", rec.params}, {"tags", rec.tags}} {
			rows := make([][]any, 0, len(kv.m))
			for _, k := range slices.Sorted(maps.Keys(kv.m)) {
				rows = append(rows, []any{id, k, kv.m[k]})
			}
			if err := insertRows(tx, kv.table, []string{"run_id", "key", "value"}, rows, ""); err != nil {
				return err
			}
		}
		if err := insertRows(tx, "metrics", metricColumns, history, ""); err != nil {
			return err
		}
		if err := insertRows(tx, "latest_metrics", metricColumns, latestRows, ""); err != nil {
			return err
		}
		return insertRows(tx, "artifacts", artifactColumns, artifacts, "")
	})
	err = errors.Join(err, st.Close())
	os.Remove(path + "-reserve") // a file of its own needs no room kept for ending runs
	if err != nil {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		return err
	}
	return nil
}

// oneLine is text on one line, for a notice.
func oneLine(text string) string { return strings.Join(strings.Fields(text), " ") }
