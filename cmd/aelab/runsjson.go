package main

// The JSON of runs with their metric histories (runs list/export --json, runs show --json).

import (
	"bufio"
	"io"
	"strconv"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// jsonColumns are what the records of a JSON export load: every param and tag, no latest
// metric (tracker.AppendRunJSON takes those from the histories: 400,000 rows fewer to read
// for 10,000 runs).
var jsonColumns = []query.Field{{Kind: query.FieldParam}, {Kind: query.FieldTag}}

// writeRunsJSON writes the runs q selects, with their histories, as one JSON array, run by
// run as tracker.EachRun reads them: the memory of two batches of runs, whatever the store
// holds. It returns how many runs it wrote. A bad query fails before anything is written.
func writeRunsJSON(s *tracker.Store, q tracker.Search, w io.Writer) (int, error) {
	q.Columns = jsonColumns
	bw := bufio.NewWriterSize(w, 1<<16)
	var b []byte
	n := 0
	err := s.EachRun(q, func(r *tracker.RunRecord, h *tracker.History) error {
		b = append(b[:0], ",\n  "...)
		if n == 0 {
			b[0] = '['
		}
		var err error
		if b, err = tracker.AppendRunJSON(b, r, h, "  "); err != nil {
			return err
		}
		n++
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		bw.WriteString("[")
	} else {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return n, bw.Flush()
}

// writeRunJSON writes the run of full id with its history as JSON (runs show --json).
func writeRunJSON(s *tracker.Store, id string, w io.Writer) error {
	q := tracker.Search{Filter: "attributes.id = " + strconv.Quote(id), IncludeDeleted: true, Columns: jsonColumns}
	return s.EachRun(q, func(r *tracker.RunRecord, h *tracker.History) error {
		b, err := tracker.AppendRunJSON(nil, r, h, "")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
}
