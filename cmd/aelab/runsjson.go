package main

// The JSON of runs with their metric histories (runs list/export --json, runs show --json).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/aelab/aelab/tracker"
)

// appendRunJSON appends run r as indented JSON, its lines after the first prefixed by
// prefix: the record's fields, then "history", each metric's points one per line. Written by
// hand rather than by json.MarshalIndent, which spent 2 of the 4.5 CPU seconds of an export
// of 10,000 runs (1,000,000 points) compacting and indenting each point.
func appendRunJSON(b []byte, r *tracker.RunRecord, hist map[string][]tracker.MetricPoint, prefix string) ([]byte, error) {
	rec, err := json.MarshalIndent(r, prefix, "  ")
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(rec, '\n') // rec ends "\n" + prefix + "}": the history goes before
	b = append(b, rec[:end]...)
	in := prefix + "  "
	b = append(b, ",\n"+in+`"history": {`...)
	keys := slices.Sorted(maps.Keys(hist))
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(k)
		b = append(b, "\n"+in+"  "...)
		b = append(b, name...)
		b = append(b, ": ["...)
		for j, p := range hist[k] {
			if j > 0 {
				b = append(b, ',')
			}
			point, err := p.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b = append(b, "\n"+in+"    "...)
			b = append(b, point...)
		}
		if len(hist[k]) > 0 {
			b = append(b, "\n"+in+"  "...)
		}
		b = append(b, ']')
	}
	if len(keys) > 0 {
		b = append(b, "\n"+in...)
	}
	b = append(b, '}')
	return append(b, rec[end:]...), nil
}

// jsonColumns are what a search for writeRunsJSON loads: every param and tag, no metric (their
// latest values come with the histories: 400,000 rows fewer to read for 10,000 runs).
var jsonColumns = []tracker.Field{{Kind: tracker.FieldParam}, {Kind: tracker.FieldTag}}

// latestFromHistory sets the run's latest metrics from its histories: each key's point of the
// highest step, the last logged of equals, as the store keeps it.
func latestFromHistory(r *tracker.RunRecord, hist map[string][]tracker.MetricPoint) {
	r.Metrics, r.LatestMetrics = map[string]float64{}, map[string]tracker.MetricPoint{}
	for k, points := range hist {
		if n := len(points); n > 0 {
			r.Metrics[k], r.LatestMetrics[k] = points[n-1].Value, points[n-1]
		}
	}
}

// writeRunsJSON writes the runs with their histories as one JSON array. It reads the histories
// 500 runs at a time (tracker.MetricHistoriesOf), the next batch while it writes one, so 10,000
// runs cost 20 queries, the memory of 1,000, and on two cores about the time of the reading.
func writeRunsJSON(s *tracker.Store, runs []*tracker.RunRecord, w io.Writer) error {
	type batch struct {
		runs []*tracker.RunRecord
		hist map[string]map[string][]tracker.MetricPoint
		err  error
	}
	const size = 500
	batches, done := make(chan batch, 1), make(chan struct{})
	defer close(done)
	go func() {
		defer close(batches)
		for start := 0; start < len(runs); start += size {
			part := runs[start:min(start+size, len(runs))]
			ids := make([]string, len(part))
			for i, r := range part {
				ids[i] = r.ID
			}
			hist, err := s.MetricHistoriesOf(ids)
			select {
			case batches <- batch{part, hist, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("[")
	var b []byte
	first := true
	for bt := range batches {
		if bt.err != nil {
			return bt.err
		}
		for _, r := range bt.runs {
			latestFromHistory(r, bt.hist[r.ID])
			if !first {
				bw.WriteString(",")
			}
			first = false
			bw.WriteString("\n  ")
			var err error
			if b, err = appendRunJSON(b[:0], r, bt.hist[r.ID], "  "); err != nil {
				return err
			}
			bw.Write(b)
		}
	}
	if len(runs) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}
