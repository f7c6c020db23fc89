package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// How a run's writes ride out trouble with the store (a PostgreSQL server
// restarting, a network drop, a SQLite file locked for long): a write that
// fails for such a passing reason is kept, in order, and tried again in the
// background with backoff, while training goes on; LogMetrics returns at once,
// and the run says so in one line (SetNotices), and again when the store is
// back. Finish writes what is kept before the run's end, waiting up to
// FlushTimeout; when the store never takes it, the run is saved to a file of
// its own that `aelab runs push` brings to the store later (spill.go).
const (
	// MaxPendingValues bounds the metric values a run keeps while the store is
	// unreachable; past it new values are dropped and counted (Finish reports them).
	MaxPendingValues = 100_000
	// FlushTimeout is how long Finish (and Close) wait by default for the
	// store to take the writes kept for it and the run's end (SetFlushTimeout).
	FlushTimeout = 2 * time.Minute
	// writeTimeout bounds one attempt to write, so that a hung connection
	// stalls training at most this long before the writes are kept for later.
	writeTimeout = 10 * time.Second
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// pendingWrite is one LogMetrics or LogArtifact call of a run.
type pendingWrite struct {
	seq      int64 // the run's write number, recorded in runs.logged_seq with it
	at       int64 // Unix ms of the call
	metrics  map[string]float64
	step     int64
	epoch    int
	artifact *Artifact // Path as it is to be recorded
}

func (w pendingWrite) values() int { return len(w.metrics) }

// runWriter orders a run's writes and keeps those the store could not take yet.
type runWriter struct {
	// writeMu is held while a write is sent, so that the run's writes reach the
	// store in seq order and logged_seq says exactly which did.
	writeMu sync.Mutex

	mu       sync.Mutex
	seq      int64
	pending  []pendingWrite
	values   int           // metric values in pending
	dropped  int           // metric values dropped because pending was full
	dropFrom int           // epochs of the dropped values
	dropTo   int           //
	lastErr  error         // why pending is not empty
	fatal    error         // a write failed for good: returned by the next calls
	retrying chan struct{} // open while the retry goroutine runs; closed when it ends
	now      chan struct{} // asks the retry goroutine not to wait out its backoff
	noticed  bool          // the run said that the store is unreachable, and not yet that it is back
	history  runHistory    // every write, for a spill file
}

// SetNotices sets where the runs of s say, in one line each time, that the
// store has become unreachable (their metrics are kept meanwhile), that it is
// back, and that Finish waits for it: os.Stderr by default; nil or io.Discard
// for silence.
func (s *Store) SetNotices(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	s.mu.Lock()
	s.notices = w
	s.mu.Unlock()
}

// notice writes one line to the store's notices.
func (s *Store) notice(format string, args ...any) {
	s.mu.Lock()
	w := s.notices
	s.mu.Unlock()
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintln(w, oneLine(s.scrubText(fmt.Sprintf(format, args...))))
}

// log writes w, or keeps it for the retry goroutine. The error is a write
// that failed for good (the store refused it), nil when written or kept.
func (r *Run) log(w pendingWrite) error {
	q := &r.writer
	q.mu.Lock()
	if q.fatal != nil {
		err := q.fatal
		q.mu.Unlock()
		return err
	}
	q.seq++
	w.seq = q.seq
	q.history.add(w)
	if len(q.pending) > 0 { // in trouble already: keep it behind the others
		q.keep(w)
		q.mu.Unlock()
		return nil
	}
	q.mu.Unlock()

	q.writeMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err := r.store.writePending(ctx, r.id, []pendingWrite{w})
	cancel()
	q.writeMu.Unlock()
	if err == nil {
		return nil
	}
	if !isTransient(err) {
		return err
	}
	q.mu.Lock()
	q.lastErr = err
	q.keep(w)
	r.startRetry()
	first := !q.noticed
	q.noticed = true
	q.mu.Unlock()
	if first {
		r.store.notice("aelab: store %s unreachable (%v): run %s keeps its metrics in memory and writes them once the store is back; training goes on",
			r.store.path, scrub(err, r.store.secret), short(r.id))
	}
	return nil
}

// keep queues w, or drops its values when the queue is full. Needs q.mu.
func (q *runWriter) keep(w pendingWrite) {
	if n := w.values(); n > 0 && q.values+n > MaxPendingValues {
		if q.dropped == 0 {
			q.dropFrom, q.dropTo = w.epoch, w.epoch
		}
		q.dropped += n
		q.dropFrom, q.dropTo = min(q.dropFrom, w.epoch), max(q.dropTo, w.epoch)
		return
	}
	q.pending = append(q.pending, w)
	q.values += w.values()
}

// startRetry starts the retry goroutine unless it runs. Needs r.writer.mu.
func (r *Run) startRetry() {
	q := &r.writer
	if q.retrying != nil {
		select {
		case <-q.retrying:
		default:
			return // running
		}
	}
	q.retrying, q.now = make(chan struct{}), make(chan struct{}, 1)
	go r.retry(q.retrying, q.now)
}

// retry writes the kept writes, in order, with backoff, until none are left or
// one fails for good.
func (r *Run) retry(done chan struct{}, now chan struct{}) {
	defer close(done)
	q := &r.writer
	backoff := minBackoff
	for {
		select {
		case <-time.After(backoff):
		case <-now:
		}
		q.mu.Lock()
		batch := slices.Clone(q.pending)
		q.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		q.writeMu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		// The last attempt may have reached the store before its connection
		// dropped: logged_seq says how far.
		var written int64 // the writes up to this seq are in the store
		err := sqlRunner{ctx, r.store.d, r.store.r}.queryRow(`SELECT logged_seq FROM runs WHERE id = ?`, r.id).Scan(&written)
		if err == nil {
			for len(batch) > 0 && batch[0].seq <= written {
				batch = batch[1:]
			}
			if len(batch) > 0 {
				if err = r.store.writePending(ctx, r.id, batch); err == nil {
					written = batch[len(batch)-1].seq
				}
			}
		}
		cancel()
		q.writeMu.Unlock()

		q.mu.Lock()
		switch {
		case err == nil:
			for len(q.pending) > 0 && q.pending[0].seq <= written {
				q.values -= q.pending[0].values()
				q.pending = q.pending[1:]
			}
			if len(q.pending) == 0 {
				q.lastErr = nil
				back := q.noticed
				q.noticed = false
				q.mu.Unlock()
				if back {
					r.store.notice("aelab: store %s is back: run %s's kept metrics are written", r.store.path, short(r.id))
				}
				return
			}
			backoff = minBackoff
		case !isTransient(err):
			q.fatal, q.lastErr = err, err
			q.mu.Unlock()
			return
		default:
			q.lastErr = err
			backoff = min(2*backoff, maxBackoff)
		}
		q.mu.Unlock()
	}
}

// flush waits until the kept writes are written, one fails for good, or the
// deadline passes, and says what could not be written.
func (r *Run) flush(deadline time.Time) error {
	q := &r.writer
	for said := false; ; said = true {
		q.mu.Lock()
		pending, values, fatal, done, now := len(q.pending), q.values, q.fatal, q.retrying, q.now
		if pending == 0 || fatal != nil {
			err := q.lossLocked()
			q.mu.Unlock()
			return err
		}
		q.mu.Unlock()
		if !said {
			wait := time.Until(deadline).Round(100 * time.Millisecond)
			if wait >= time.Second {
				wait = wait.Round(time.Second)
			}
			r.store.notice("aelab: waiting up to %v for store %s to take run %s's %d kept metric values",
				wait, r.store.path, short(r.id), values)
		}
		select {
		case now <- struct{}{}: // try now, not after the backoff
		default:
		}
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			q.mu.Lock()
			err := q.lossLocked()
			q.mu.Unlock()
			return err
		}
	}
}

// lossLocked describes the writes that did not reach the store. Needs q.mu.
func (q *runWriter) lossLocked() error {
	if len(q.pending) == 0 && q.dropped == 0 {
		return q.fatal
	}
	var lost []string
	if len(q.pending) > 0 {
		what := fmt.Sprintf("%d metric values", q.values)
		if first, last, ok := epochRange(q.pending); ok {
			what += " of " + epochsText(first, last)
		}
		switch artifacts := len(q.pending) - q.metricWritesLocked(); {
		case artifacts == 1:
			what += " and 1 artifact record"
		case artifacts > 1:
			what += fmt.Sprintf(" and %d artifact records", artifacts)
		}
		lost = append(lost, fmt.Sprintf("%s not written (%v)", what, q.lastErr))
	}
	if q.dropped > 0 {
		lost = append(lost, fmt.Sprintf("%d metric values of %s dropped (more than %d waited for the store)",
			q.dropped, epochsText(q.dropFrom, q.dropTo), MaxPendingValues))
	}
	return errors.New(strings.Join(lost, "; "))
}

// epochRange is the lowest and highest epoch of the writes with metric values
// (an artifact's write has no epoch); ok is false when there are none.
func epochRange(writes []pendingWrite) (first, last int, ok bool) {
	for _, w := range writes {
		if w.values() == 0 {
			continue
		}
		if !ok {
			first, last, ok = w.epoch, w.epoch, true
		}
		first, last = min(first, w.epoch), max(last, w.epoch)
	}
	return first, last, ok
}

// epochsText says "epoch 4" or "epochs 4–6".
func epochsText(first, last int) string {
	if first == last {
		return fmt.Sprintf("epoch %d", first)
	}
	return fmt.Sprintf("epochs %d–%d", first, last)
}

// metricWritesLocked counts the pending writes that carry metric values. Needs q.mu.
func (q *runWriter) metricWritesLocked() int {
	n := 0
	for _, w := range q.pending {
		if w.values() > 0 {
			n++
		}
	}
	return n
}

// pendingRows turns a run's writes into rows of the metrics, latest_metrics and artifacts
// tables: every metric value (NaN as NULL), the latest of each key (the highest step, the later
// of equals), and the artifact records.
func pendingRows(runID string, writes []pendingWrite) (history, latest, artifacts [][]any) {
	byKey := map[string][]any{}
	for _, w := range writes {
		for _, k := range slices.Sorted(maps.Keys(w.metrics)) {
			var v any = w.metrics[k]
			if math.IsNaN(w.metrics[k]) {
				v = nil // NULL stands for NaN
			}
			row := []any{runID, k, w.step, w.epoch, v, w.at}
			history = append(history, row)
			if cur, ok := byKey[k]; !ok || w.step >= cur[2].(int64) {
				byKey[k] = row
			}
		}
		if a := w.artifact; a != nil {
			artifacts = append(artifacts, []any{runID, a.Kind, a.Path, a.Description, w.at})
		}
	}
	latest = make([][]any, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		latest = append(latest, byKey[k])
	}
	return history, latest, artifacts
}

// writePending writes a run's writes in one transaction, with the last one's
// seq as the run's logged_seq: each table in one statement (an epoch's metrics
// cost three round trips to a server, not two per value).
func (s *Store) writePending(ctx context.Context, runID string, writes []pendingWrite) error {
	history, latestRows, artifacts := pendingRows(runID, writes)
	return s.writeTxContext(ctx, func(tx sqlRunner) error {
		if err := insertRows(tx, "metrics", metricColumns, history, ""); err != nil {
			return err
		}
		if err := insertRows(tx, "latest_metrics", metricColumns, latestRows, `
			ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, epoch = excluded.epoch,
				value = excluded.value, timestamp = excluded.timestamp
			WHERE excluded.step >= latest_metrics.step`); err != nil {
			return err
		}
		if err := insertRows(tx, "artifacts", artifactColumns, artifacts, ""); err != nil {
			return err
		}
		_, err := tx.exec(`UPDATE runs SET logged_seq = ? WHERE id = ?`, writes[len(writes)-1].seq, runID)
		return err
	})
}
