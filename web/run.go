package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// Bounds of the run page's tables and of tags set through the UI.
const (
	maxEpochRows     = 1000 // epochs shown in the per-epoch table
	maxEpochKeyLen   = 2000 // metrics logged more often than this are step-level: charted, not tabled
	maxTagKeyBytes   = 250
	maxTagValueBytes = 5000
)

type keyValue struct {
	Key, Value string
}

// epochTable is the run's per-epoch metrics: one row per epoch, the last value logged in it.
type epochTable struct {
	Keys      []string
	Rows      []epochRow
	Truncated int      // epochs left out (the last maxEpochRows are shown)
	StepKeys  []string // metrics logged too often to table (charted only)
}

type epochRow struct {
	Epoch int
	Cells []string
}

type finalMetric struct {
	Key, Title, Unit, Text string
	Step                   int64
	Epoch                  int
}

type runView struct {
	Run       *tracker.RunRecord
	Config    string
	Params    []keyValue
	Tags      []keyValue // every tag but the environment's
	Env       []keyValue // env.* tags
	Final     []finalMetric
	Epochs    *epochTable
	Artifacts []artifactView
	Grid      gridView
	Chart     *chartView
	Live      bool
	Notes     template.HTML // the notes tag rendered (notes.go)
	NotesText string        // and as written, for the form
	Diff      *configDiff   // ?diff=OTHER: the config against another run's
}

func sortedKV(m map[string]string, keep func(string) bool) []keyValue {
	var out []keyValue
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if keep(k) {
			out = append(out, keyValue{k, m[k]})
		}
	}
	return out
}

func (s *Server) runData(id, diffWith string) (*runView, error) {
	rec, err := s.store.GetRun(id)
	if err != nil {
		return nil, err
	}
	isEnv := func(k string) bool { return strings.HasPrefix(k, "env.") }
	v := &runView{Run: rec, Live: rec.Status == tracker.StatusRunning,
		Params: sortedKV(rec.Params, func(string) bool { return true }),
		Tags:   sortedKV(rec.Tags, func(k string) bool { return !isEnv(k) && k != notesTag }),
		Env:    sortedKV(rec.Tags, isEnv)}
	if n := rec.Tags[notesTag]; n != "" {
		v.Notes, v.NotesText = renderNotes(n), n
	}
	if diffWith != "" {
		v.Diff = s.configDiff(rec, diffWith)
	}
	if len(rec.Config) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, rec.Config, "", "  ") == nil {
			v.Config = b.String()
		}
	}
	for _, k := range sortMetrics(slices.Collect(maps.Keys(rec.LatestMetrics))) {
		p := rec.LatestMetrics[k]
		info := metricMeta(k)
		v.Final = append(v.Final, finalMetric{Key: k, Title: info.Title, Unit: info.Unit, Text: info.Format(p.Value), Step: p.Step, Epoch: p.Epoch})
	}
	if v.Epochs, err = s.epochTable(rec.ID); err != nil {
		return nil, err
	}
	v.Artifacts = s.artifactViews(rec)
	v.Grid = s.gridState(rec)
	if v.Chart, err = s.newChartView([]*tracker.RunRecord{rec}, ""); err != nil {
		return nil, err
	}
	v.Chart.Live = v.Live
	return v, nil
}

// epochTable lays out by epoch the metrics logged once an epoch (the schema's per-epoch
// metrics from their first value on, undeclared ones from their second) and the sampled ones
// (CPU, memory) at most maxEpochKeyLen times. A row is an epoch that an epoch metric has
// reached: mid-run, the samples of the epoch under way make no row before its validation.
func (s *Server) epochTable(id string) (*epochTable, error) {
	hk, err := s.store.HistoryKeys(id)
	if err != nil {
		return nil, err
	}
	t := &epochTable{}
	byEpoch := map[int]map[string]float64{}
	done := map[int]bool{} // epochs with a value of an epoch metric
	for _, h := range hk {
		m, declared := experiments.LookupMetric(h.Key)
		switch {
		case declared && m.Kind == experiments.Final:
			continue
		case h.Points < 2 && !(declared && m.Kind == experiments.PerEpoch):
			continue
		case h.Points > maxEpochKeyLen:
			t.StepKeys = append(t.StepKeys, h.Key)
			continue
		}
		sampled := declared && m.Kind == experiments.Sampled
		series, err := s.store.MetricSeries(id, h.Key)
		if err != nil {
			return nil, err
		}
		t.Keys = append(t.Keys, h.Key)
		for j, e := range series.Epochs {
			if byEpoch[e] == nil {
				byEpoch[e] = map[string]float64{}
			}
			byEpoch[e][h.Key] = series.Values[j] // the last of the epoch wins (the series is in step order)
			if !sampled {
				done[e] = true
			}
		}
	}
	t.Keys = sortMetrics(t.Keys)
	epochs := slices.Sorted(maps.Keys(done))
	if len(epochs) > maxEpochRows {
		t.Truncated = len(epochs) - maxEpochRows
		epochs = epochs[len(epochs)-maxEpochRows:]
	}
	for _, e := range epochs {
		row := epochRow{Epoch: e}
		for _, k := range t.Keys {
			if val, ok := byEpoch[e][k]; ok {
				row.Cells = append(row.Cells, metricMeta(k).Format(val))
			} else {
				row.Cells = append(row.Cells, "–")
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// runStatus maps a lookup error to an HTTP status: a run that is not there is a 404.
func runStatus(err error) int {
	if errors.Is(err, tracker.ErrNoRun) || strings.Contains(err.Error(), "ambiguous") {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// configDiff compares rec's config with the run other names (id or prefix).
func (s *Server) configDiff(rec *tracker.RunRecord, other string) *configDiff {
	d := &configDiff{Other: other}
	o, err := s.store.GetRun(other)
	if err != nil {
		d.Err = fmt.Sprintf("no run %q to compare with: %v", clip(other, 40), err)
		return d
	}
	d.Other, d.OtherName = o.ID, o.Name
	a, b := indentConfig(o.Config), indentConfig(rec.Config)
	if a == nil || b == nil {
		d.Err = "one of the runs has no stored config"
		return d
	}
	d.Lines = diffLines(a, b)
	d.Same = !slices.ContainsFunc(d.Lines, func(l diffLine) bool { return l.Op != " " })
	return d
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.runData(r.PathValue("id"), strings.TrimSpace(r.URL.Query().Get("diff")))
	if err != nil {
		s.fail(w, r, runStatus(err), err)
		return
	}
	s.page(w, r, "run", v.Run.Name, v)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	rec, err := s.store.GetRun(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, runStatus(err), err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// changeRun resolves the run a POST names, applies change through the tracker API and sends
// the browser back to the run's page (or answers JSON to a script that asked for it).
func (s *Server) changeRun(w http.ResponseWriter, r *http.Request, change func(id string) error) {
	id, err := s.store.ResolveRunID(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, runStatus(err), err)
		return
	}
	if err := change(id); err != nil {
		code := http.StatusInternalServerError
		var bad badRequest
		if errors.As(err, &bad) {
			code = http.StatusBadRequest
		}
		s.fail(w, r, code, err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
		return
	}
	http.Redirect(w, r, "/runs/"+id, http.StatusSeeOther)
}

// badRequest marks a change refused for its input.
type badRequest struct{ error }

func (s *Server) setTag(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, func(id string) error {
		key, value := strings.TrimSpace(r.PostFormValue("key")), r.PostFormValue("value")
		if err := checkTag(key, value); err != nil {
			return err
		}
		return s.store.SetTag(id, key, value)
	})
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, func(id string) error {
		key := r.PostFormValue("key")
		if key == "" {
			return badRequest{errors.New("which tag? (no key)")}
		}
		return s.store.DeleteTag(id, key)
	})
}

func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, s.store.DeleteRun)
}

func (s *Server) restoreRun(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, s.store.UndeleteRun)
}
