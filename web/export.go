package web

// Exporting the runs table: /runs/export?format=csv|json&q=…&col=… downloads every run the
// query selects, in its order, with the columns the table shows.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// exportRuns answers /runs/export: all the runs of the query (not one page), as CSV or JSON.
func (s *Server) exportRuns(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("format=%q: use csv or json", clip(format, 20)))
		return
	}
	q, err := parseRunsQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	q.Group = ""
	fields := columnFields(q.Cols)
	order := q.Order
	if _, own, err := query.ParseFilter(q.Q); err == nil && own != nil {
		order = ""
	}
	page, err := s.store.SearchPage(tracker.PageQuery{
		Search:  tracker.Search{Filter: q.Q, OrderBy: order, IncludeDeleted: q.Deleted},
		Columns: fields,
	})
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) || strings.HasPrefix(err.Error(), "query:") {
			s.fail(w, r, http.StatusBadRequest, err)
			return
		}
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.String()
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="aelab-runs.`+format+`"`)
	if format == "json" {
		h.Set("Content-Type", "application/json")
		writeJSON(w, http.StatusOK, map[string]any{"total": page.Total, "query": q.Q, "columns": names, "runs": page.Rows})
		return
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"id", "name", "status", "experiment", "start_time", "duration_seconds"}, names...))
	for _, row := range page.Rows {
		rec := []string{row.ID, csvText(row.Name), string(row.Status), csvText(row.Experiment),
			row.StartTime.UTC().Format("2006-01-02T15:04:05.000Z"), strconv.FormatFloat(row.Duration().Seconds(), 'f', 3, 64)}
		for _, f := range fields {
			rec = append(rec, exportValue(row, f))
		}
		cw.Write(rec)
	}
	cw.Flush()
}

// columnFields parses the table's column names, leaving out those it would skip.
func columnFields(cols []string) []query.Field {
	var fields []query.Field
	for _, name := range cols {
		if f, err := query.ParseField(name); err == nil && f.Kind != query.FieldAttribute {
			fields = append(fields, f)
		}
	}
	return fields
}

// exportValue is a run's exact value of a column: a metric in full precision, a param's or
// tag's text; "" when the run has none.
func exportValue(row tracker.RunRow, f query.Field) string {
	switch f.Kind {
	case query.FieldMetric:
		if p, ok := row.Metrics[f.Key]; ok {
			return strconv.FormatFloat(p.Value, 'g', -1, 64)
		}
	case query.FieldParam:
		return csvText(row.Params[f.Key])
	case query.FieldTag:
		return csvText(row.Tags[f.Key])
	}
	return ""
}

// csvText keeps a spreadsheet from reading text as a formula: text that starts with = + - @
// (and is not a number) or with a tab or carriage return gets a leading apostrophe.
func csvText(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
