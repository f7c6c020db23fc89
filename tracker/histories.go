package tracker

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aelab/aelab/tracker/query"
)

// History is a run's whole metric history in columns: the points of metric Keys[i] are
// those from Start[i] up to Start[i+1] of Steps, Epochs, Values and Times, in step order
// (values of one step in the order logged). Columns rather than a map of point slices: an
// export of 10,000 runs reads a million points, and columns cost no allocation per point.
type History struct {
	Keys   []string // the metrics' keys, in bytewise order
	Start  []int    // len(Keys)+1 offsets into the point columns
	Steps  []int64
	Epochs []int
	Values []float64 // NaN where the logged value was NaN
	Times  []int64   // Unix milliseconds; 0 where the store has no time
}

// Point is the j-th point of the columns.
func (h *History) Point(j int) MetricPoint {
	return MetricPoint{Step: h.Steps[j], Epoch: h.Epochs[j], Value: h.Values[j], Time: unixMS(h.Times[j])}
}

// Latest is the latest point of metric Keys[i]: the last of the highest step, as the store
// keeps it for searches (RunRecord.LatestMetrics).
func (h *History) Latest(i int) MetricPoint { return h.Point(h.Start[i+1] - 1) }

// Map is the history as MetricHistories returns it: each key's points.
func (h *History) Map() map[string][]MetricPoint {
	out := make(map[string][]MetricPoint, len(h.Keys))
	for i, k := range h.Keys {
		points := make([]MetricPoint, 0, h.Start[i+1]-h.Start[i])
		for j := h.Start[i]; j < h.Start[i+1]; j++ {
			points = append(points, h.Point(j))
		}
		out[k] = points
	}
	return out
}

// unixMS is the time of a stored Unix-milliseconds value (zero for 0).
func unixMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// eachRunBatch is how many runs EachRun reads at once: one query for their records' rows
// of each table, one for their metric histories (about 50,000 rows for runs of 100). A
// variable so that tests read a few runs in many batches.
var eachRunBatch = 500

// eachRunReaders is how many batches EachRun reads at once, each on its own connection:
// reading (SQLite's B-trees, the driver's values) costs more than writing JSON, and on two
// cores two readers and the writer keep both busy.
const eachRunReaders = 2

// EachRun calls fn with each run q selects, in q's order, and the run's whole metric history.
// The records are SearchRuns' (q.Columns limits their params, tags and latest metrics the
// same way; the history has every metric either way). Runs are read eachRunBatch at a time,
// eachRunReaders batches at once while fn handles an earlier one, so an export of 10,000 runs
// with a million metric values holds a few batches in memory, not the store. r and h are
// fn's until it returns: h's columns are reused for a later batch. An error of fn stops
// EachRun and is returned.
func (s *Store) EachRun(q Search, fn func(r *RunRecord, h *History) error) error {
	ids, lost, err := s.searchIDs(q)
	if err != nil {
		return err
	}
	type batch struct {
		ids  []string
		recs []*RunRecord
		hist *historyBatch
		err  error
		read chan struct{} // closed when recs, hist and err are set
	}
	// A history buffer for each reader and one for fn.
	free := make(chan *historyBatch, eachRunReaders+1)
	for range cap(free) {
		free <- &historyBatch{}
	}
	toRead, inOrder, done := make(chan *batch), make(chan *batch, eachRunReaders), make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait() // the readers are done with the store when EachRun returns
	defer close(done)
	wg.Go(func() { // hands out the batches to the readers, and to fn in order
		defer close(inOrder)
		defer close(toRead)
		for start := 0; start < len(ids); start += eachRunBatch {
			b := &batch{ids: ids[start:min(start+eachRunBatch, len(ids))], read: make(chan struct{})}
			select {
			case b.hist = <-free:
			case <-done:
				return
			}
			select {
			case toRead <- b:
			case <-done:
				return
			}
			select {
			case inOrder <- b:
			case <-done:
				return
			}
		}
	})
	for range eachRunReaders {
		wg.Go(func() {
			for b := range toRead {
				b.recs, b.err = s.readBatch(b.ids, lost, q.Columns, b.hist)
				close(b.read)
			}
		})
	}
	for b := range inOrder {
		<-b.read
		if b.err != nil {
			return fmt.Errorf("tracker: runs with histories: %w", scrub(b.err, s.secret))
		}
		j := 0 // the position of each record's id in the batch (runs deleted meanwhile are missing)
		for _, r := range b.recs {
			for b.ids[j] != r.ID {
				j++
			}
			if err := fn(r, &b.hist.hist[j]); err != nil {
				return err
			}
		}
		free <- b.hist
	}
	return nil
}

// readBatch reads the records of runs ids (columns as SearchRuns) and their histories
// (into hist) in one read transaction: one snapshot of the store.
func (s *Store) readBatch(ids []string, lost map[string]string, columns []query.Field, hist *historyBatch) ([]*RunRecord, error) {
	ctx := context.Background()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // it wrote nothing
	db := sqlRunner{ctx, s.d, tx}
	if s.d.batchReadHint != "" {
		if _, err := db.exec(s.d.batchReadHint); err != nil {
			return nil, err
		}
	}
	recs, err := s.loadRuns(db, ids, lost, columns)
	if err != nil {
		return nil, err
	}
	return recs, hist.read(db, ids)
}

// historyBatch reads the metric histories of a batch of runs in one query, into columns
// it reuses from batch to batch.
type historyBatch struct {
	ids  []string
	hist []History // by position in ids
	pos  map[string]int32
	// keys are the batch's distinct metric keys by first appearance, rank their bytewise order.
	keys  []string
	keyOf map[string]int32
	rank  []int32
	// The rows in the order the database sends them: run (position) and key (index in keys).
	run, key    []int32
	step, seq   []int64
	epoch       []int
	value       []float64
	time        []int64
	order       []int32 // row indices by run, then key rank, step and seq
	first       []int   // the rows of run i are order[first[i]:first[i+1]]
	runKeys     []string
	runStarts   []int
	steps       []int64
	epochs      []int
	values      []float64
	times       []int64
	scanned     [7]any
	scanTargets []any
}

// read reads the histories of runs ids (full ids, distinct).
func (b *historyBatch) read(db sqlRunner, ids []string) error {
	b.reset(ids)
	// No ORDER BY: PostgreSQL sorted each batch's 50,000 rows on disk (100 of its 130 ms);
	// putting rows in order here costs a few ms.
	rows, err := db.query(`SELECT run_id, key, step, epoch, value, timestamp, `+db.d.rowOrder+
		` FROM metrics WHERE run_id IN `+placeholders(len(ids)), anys(ids)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	lastRun, lastKey := "", ""
	ri, ki := int32(-1), int32(-1)
	for rows.Next() {
		// Scanning into any keeps the driver's values as they are: no conversion by
		// reflection, no Null wrapper (a million rows).
		if err := rows.Scan(b.scanTargets...); err != nil {
			return err
		}
		v := &b.scanned
		id, err := textValue(v[0])
		if err != nil {
			return fmt.Errorf("metrics.run_id: %w", err)
		}
		if ri < 0 || id != lastRun {
			p, ok := b.pos[id]
			if !ok {
				return fmt.Errorf("metrics.run_id: a row of run %s, which was not asked for", id)
			}
			ri, lastRun = p, id
		}
		k, err := textValue(v[1])
		if err != nil {
			return fmt.Errorf("metrics.key: %w", err)
		}
		if ki < 0 || k != lastKey {
			idx, ok := b.keyOf[k]
			if !ok {
				idx = int32(len(b.keys))
				b.keys = append(b.keys, k)
				b.keyOf[k] = idx
			}
			ki, lastKey = idx, k
		}
		step, err1 := intValue(v[2])
		epoch, err2 := intValue(v[3])
		value, err3 := floatValue(v[4])
		ts, err4 := intValue(v[5])
		seq, err5 := intValue(v[6])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
			return fmt.Errorf("metrics of run %s: %w", short(id), errors.Join(err1, err2, err3, err4, err5))
		}
		b.run, b.key = append(b.run, ri), append(b.key, ki)
		b.step, b.epoch, b.value = append(b.step, step), append(b.epoch, int(epoch)), append(b.value, value)
		b.time, b.seq = append(b.time, ts), append(b.seq, seq)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.arrange()
	return nil
}

// reset empties the batch for the runs ids, keeping its memory.
func (b *historyBatch) reset(ids []string) {
	b.ids = ids
	if b.pos == nil {
		b.pos, b.keyOf = map[string]int32{}, map[string]int32{}
		b.scanTargets = make([]any, len(b.scanned))
		for i := range b.scanned {
			b.scanTargets[i] = &b.scanned[i]
		}
	}
	clear(b.pos)
	for i, id := range ids {
		b.pos[id] = int32(i)
	}
	clear(b.keyOf)
	b.keys = b.keys[:0]
	b.run, b.key, b.step, b.seq = b.run[:0], b.key[:0], b.step[:0], b.seq[:0]
	b.epoch, b.value, b.time = b.epoch[:0], b.value[:0], b.time[:0]
	b.hist = slices.Grow(b.hist[:0], len(ids))[:len(ids)]
}

// arrange puts the rows read in history order (by run, key, step and insertion) into the
// point columns, and points each run's History at its part of them.
func (b *historyBatch) arrange() {
	// Rank the keys bytewise, then order the rows by run (a counting sort, stable) and,
	// within each run, by key rank, step and seq (rows usually come close to that order).
	byName := make([]int32, len(b.keys))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(x, y int32) int { return cmp.Compare(b.keys[x], b.keys[y]) })
	b.rank = slices.Grow(b.rank[:0], len(b.keys))[:len(b.keys)]
	for r, k := range byName {
		b.rank[k] = int32(r)
	}
	n, runs := len(b.run), len(b.ids)
	b.first = slices.Grow(b.first[:0], runs+1)[:runs+1]
	clear(b.first)
	for _, r := range b.run {
		b.first[r+1]++
	}
	for i := 1; i <= runs; i++ {
		b.first[i] += b.first[i-1]
	}
	b.order = slices.Grow(b.order[:0], n)[:n]
	next := slices.Clone(b.first[:runs])
	for i, r := range b.run {
		b.order[next[r]] = int32(i)
		next[r]++
	}
	less := func(x, y int32) int {
		if c := cmp.Compare(b.rank[b.key[x]], b.rank[b.key[y]]); c != 0 {
			return c
		}
		if c := cmp.Compare(b.step[x], b.step[y]); c != 0 {
			return c
		}
		return cmp.Compare(b.seq[x], b.seq[y])
	}
	b.steps, b.epochs = slices.Grow(b.steps[:0], n)[:n], slices.Grow(b.epochs[:0], n)[:n]
	b.values, b.times = slices.Grow(b.values[:0], n)[:n], slices.Grow(b.times[:0], n)[:n]
	b.runKeys, b.runStarts = b.runKeys[:0], b.runStarts[:0]
	for r := range runs {
		lo, hi := b.first[r], b.first[r+1]
		part := b.order[lo:hi]
		if !slices.IsSortedFunc(part, less) {
			slices.SortFunc(part, less)
		}
		keys0, starts0 := len(b.runKeys), len(b.runStarts)
		for j, row := range part {
			if j == 0 || b.key[row] != b.key[part[j-1]] {
				b.runKeys = append(b.runKeys, b.keys[b.key[row]])
				b.runStarts = append(b.runStarts, j)
			}
			b.steps[lo+j], b.epochs[lo+j], b.values[lo+j], b.times[lo+j] = b.step[row], b.epoch[row], b.value[row], b.time[row]
		}
		b.runStarts = append(b.runStarts, len(part))
		// (A later append may move runKeys and runStarts: the slices taken here keep their values.)
		b.hist[r] = History{Keys: b.runKeys[keys0:len(b.runKeys):len(b.runKeys)],
			Start: b.runStarts[starts0:len(b.runStarts):len(b.runStarts)],
			Steps: b.steps[lo:hi:hi], Epochs: b.epochs[lo:hi:hi], Values: b.values[lo:hi:hi], Times: b.times[lo:hi:hi]}
	}
}

// textValue is a driver's value of a text column.
func textValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("%v (%T) is not text", v, v)
}

// intValue is a driver's value of an integer column (NULL reads as 0).
func intValue(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case nil:
		return 0, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			return int64(v), nil
		}
	case string:
		return strconv.ParseInt(v, 10, 64)
	case []byte:
		return strconv.ParseInt(string(v), 10, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}

// floatValue is a driver's value of a metric value column (NULL stands for NaN).
func floatValue(v any) (float64, error) {
	switch v := v.(type) {
	case float64:
		return v, nil
	case nil:
		return math.NaN(), nil
	case int64:
		return float64(v), nil
	case string:
		return strconv.ParseFloat(v, 64)
	case []byte:
		return strconv.ParseFloat(string(v), 64)
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}
