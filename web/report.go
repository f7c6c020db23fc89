package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
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
	ids := runIDs(recs)
	slices.Sort(ids)
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = strconv.Quote(id)
	}
	s.serveReport(w, r, strings.Join(ids, ","), ids, func() (string, error) {
		rep, err := reports.Build(s.store, reports.Options{
			Where: "attributes.id in (" + strings.Join(quoted, ", ") + ")",
			Title: fmt.Sprintf("aelab report: %d selected run%s", len(ids), map[bool]string{true: "", false: "s"}[len(ids) == 1]),
		})
		if err != nil {
			return "", err
		}
		return rep.Document(), nil
	})
}

// serveReport serves a report document of package reports under its own strict policy:
// build's document, kept in the cache under key and the version of the runs it shows, so it
// is built again only when one of them changes.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, key string, runIDs []string, build func() (string, error)) {
	version, err := s.store.Version(runIDs...)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	doc, err := s.reports.get(key+"@"+version, func() ([]byte, error) {
		doc, err := build()
		return []byte(doc), err
	})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Security-Policy", reportPolicy)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(doc)
}

// runIDs are the ids of the runs.
func runIDs(recs []*tracker.RunRecord) []string {
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	return ids
}
