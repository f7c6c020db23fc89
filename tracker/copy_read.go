package tracker

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math"
	"slices"
)

// copiedRun is one run as a store holds it: what Copy compares and writes.
type copiedRun struct {
	id, experiment, name, status, source, errText string
	start                                         int64
	end, heartbeat, interval                      sql.NullInt64
	config                                        sql.NullString
	pid, deleted                                  int
	host                                          string
	params, tags                                  map[string]string
	history, latest                               [][]any // metric rows, metricColumns
	artifacts                                     []artifactRow
	sums                                          map[string][32]byte // digests, once computed
	sum                                           string              // contentDigest, once computed
}

type artifactRow struct {
	kind, path, description string
	created                 int64
}

// contentFields are the parts of a run's content that Copy compares, by the
// names a conflict reports. Tags are compared apart (they merge); heartbeats,
// owners and artifact paths (each store has its own root) are not content.
var contentFields = []string{"experiment", "name", "status", "params", "metrics", "config", "artifacts", "deleted", "start"}

// digests is the SHA-256 of each of r's contentFields, and of its tags.
func (r *copiedRun) digests() map[string][32]byte {
	if r.sums == nil {
		r.sums = r.computeDigests()
	}
	return r.sums
}

// contentDigest is one digest of r's content fields (tags aside), as hex.
func (r *copiedRun) contentDigest() string {
	if r.sum == "" {
		r.sum = contentDigest(r.digests())
	}
	return r.sum
}

func (r *copiedRun) computeDigests() map[string][32]byte {
	h := func(write func(w *digestWriter)) [32]byte {
		var w digestWriter
		write(&w)
		return sha256.Sum256(w.b)
	}
	kv := func(m map[string]string) func(w *digestWriter) {
		return func(w *digestWriter) {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				w.str(k)
				w.str(m[k])
			}
		}
	}
	rows := func(w *digestWriter, rows [][]any) {
		w.int(int64(len(rows)))
		for _, row := range rows { // run_id, key, step, epoch, value, timestamp
			w.str(row[1].(string))
			w.int(row[2].(int64))
			w.int(int64(row[3].(int)))
			if v := row[4].(sql.NullFloat64); v.Valid {
				w.int(1)
				w.int(int64(math.Float64bits(v.Float64)))
			} else {
				w.int(0)
			}
			w.int(row[5].(int64))
		}
	}
	return map[string][32]byte{
		"experiment": h(func(w *digestWriter) { w.str(r.experiment) }),
		"name":       h(func(w *digestWriter) { w.str(r.name) }),
		"status": h(func(w *digestWriter) {
			w.str(r.status)
			w.str(r.errText)
			w.null(r.end)
		}),
		"params":  h(kv(r.params)),
		"tags":    h(kv(r.tags)),
		"metrics": h(func(w *digestWriter) { rows(w, r.history); rows(w, r.latest) }),
		"config": h(func(w *digestWriter) {
			w.int(map[bool]int64{false: 0, true: 1}[r.config.Valid])
			w.str(r.config.String)
		}),
		"artifacts": h(func(w *digestWriter) {
			w.int(int64(len(r.artifacts)))
			for _, a := range r.artifacts {
				w.str(a.kind)
				w.str(a.description)
				w.int(a.created)
			}
		}),
		"deleted": h(func(w *digestWriter) { w.int(int64(r.deleted)) }),
		"start": h(func(w *digestWriter) {
			w.int(r.start)
			w.str(r.source)
		}),
	}
}

// contentDigest is one digest of the content fields of d (tags aside), as hex.
func contentDigest(d map[string][32]byte) string {
	sum := sha256.New()
	for _, f := range contentFields {
		v := d[f]
		sum.Write([]byte(f))
		sum.Write(v[:])
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// differing lists the fields (content and tags) in which two digests differ.
func differing(a, b map[string][32]byte) []string {
	var out []string
	for _, f := range append(slices.Clone(contentFields), "tags") {
		if a[f] != b[f] {
			out = append(out, f)
		}
	}
	return out
}

// digestWriter encodes values unambiguously for hashing: lengths before texts.
type digestWriter struct{ b []byte }

func (w *digestWriter) int(v int64) { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)) }
func (w *digestWriter) str(s string) {
	w.int(int64(len(s)))
	w.b = append(w.b, s...)
}
func (w *digestWriter) null(v sql.NullInt64) {
	if !v.Valid {
		w.int(0)
		return
	}
	w.int(1)
	w.int(v.Int64)
}

// readRuns reads the runs ids that s has, whole: row, params, tags, metric
// history and latest values (in logged order), artifacts. Rows whose run is
// missing (a source whose foreign keys were off) are left out.
func (s *Store) readRuns(ids []string) (map[string]*copiedRun, error) {
	in, args := placeholders(len(ids)), anys(ids)
	q := s.reader()
	out := map[string]*copiedRun{}
	rows, err := q.query(`SELECT runs.id, e.name, runs.name, runs.status, runs.start_time, runs.end_time, runs.source,
		runs.error, runs.config, runs.owner_pid, runs.owner_host, runs.deleted, runs.heartbeat, runs.heartbeat_interval
		FROM runs JOIN experiments e ON e.id = runs.experiment_id WHERE runs.id IN `+in, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r := &copiedRun{params: map[string]string{}, tags: map[string]string{}}
		if err := rows.Scan(&r.id, &r.experiment, &r.name, &r.status, &r.start, &r.end, &r.source, &r.errText,
			&r.config, &r.pid, &r.host, &r.deleted, &r.heartbeat, &r.interval); err != nil {
			rows.Close()
			return nil, err
		}
		out[r.id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, table := range []string{"params", "tags"} {
		rows, err := q.query(`SELECT run_id, key, value FROM `+table+` WHERE run_id IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			switch r := out[id]; {
			case r == nil:
			case table == "params":
				r.params[k] = v
			default:
				r.tags[k] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, m := range []struct {
		sql  string
		rows func(r *copiedRun) *[][]any
	}{
		{`SELECT run_id, key, step, epoch, value, timestamp FROM metrics WHERE run_id IN ` + in +
			` ORDER BY run_id, key, step, ` + s.d.rowOrder, func(r *copiedRun) *[][]any { return &r.history }},
		{`SELECT run_id, key, step, epoch, value, timestamp FROM latest_metrics WHERE run_id IN ` + in +
			` ORDER BY run_id, key`, func(r *copiedRun) *[][]any { return &r.latest }},
	} {
		rows, err := q.query(m.sql, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, key string
			var step, ts int64
			var epoch int
			var v sql.NullFloat64
			if err := rows.Scan(&id, &key, &step, &epoch, &v, &ts); err != nil {
				rows.Close()
				return nil, err
			}
			if r := out[id]; r != nil {
				*m.rows(r) = append(*m.rows(r), []any{id, key, step, epoch, v, ts})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err = q.query(`SELECT run_id, kind, path, description, created FROM artifacts WHERE run_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a artifactRow
		if err := rows.Scan(&id, &a.kind, &a.path, &a.description, &a.created); err != nil {
			return nil, err
		}
		if r := out[id]; r != nil {
			r.artifacts = append(r.artifacts, a)
		}
	}
	return out, rows.Err()
}

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
