package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/reports"
)

// reportsCached is how many report documents the server keeps.
const reportsCached = 8

// reportPage serves the comparison report of package reports for the selected runs
// (?run=ID…): the same document `aelab report` writes, with reconstruction grids. It is
// built once per selection and state of those runs.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.requestedRuns(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	if len(recs) == 0 {
		s.fail(w, r, http.StatusBadRequest, errors.New("no runs selected: tick some runs on the Runs page, then Report"))
		return
	}
	ids := make([]string, len(recs))
	quoted := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	slices.Sort(ids)
	for i, id := range ids {
		quoted[i] = strconv.Quote(id)
	}
	version, err := s.store.Version(ids...)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	doc, err := s.reports.get(strings.Join(ids, ",")+"@"+version, func() ([]byte, error) {
		rep, err := reports.Build(s.store, reports.Options{
			Where: "attributes.id in (" + strings.Join(quoted, ", ") + ")",
			Title: fmt.Sprintf("aelab report: %d selected run%s", len(ids), map[bool]string{true: "", false: "s"}[len(ids) == 1]),
		})
		if err != nil {
			return nil, err
		}
		return []byte(rep.Document()), nil
	})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeReport(w, doc)
}

// writeReport serves a report document of package reports, under its own strict policy.
func writeReport(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Security-Policy", reportPolicy)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(doc)
}
