package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

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

func (s *Server) runData(id string) (*runView, error) {
	rec, err := s.store.GetRun(id)
	if err != nil {
		return nil, err
	}
	isEnv := func(k string) bool { return strings.HasPrefix(k, "env.") }
	v := &runView{Run: rec, Live: rec.Status == tracker.StatusRunning,
		Params: sortedKV(rec.Params, func(string) bool { return true }),
		Tags:   sortedKV(rec.Tags, func(k string) bool { return !isEnv(k) }),
		Env:    sortedKV(rec.Tags, isEnv)}
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

// epochTable reads the metrics the run logged more than once and at most maxEpochKeyLen
// times, and lays them out by epoch.
func (s *Server) epochTable(id string) (*epochTable, error) {
	hk, err := s.store.HistoryKeys(id)
	if err != nil {
		return nil, err
	}
	t := &epochTable{}
	byEpoch := map[int]map[string]float64{}
	for _, h := range hk {
		switch {
		case h.Points < 2:
			continue
		case h.Points > maxEpochKeyLen:
			t.StepKeys = append(t.StepKeys, h.Key)
			continue
		}
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
		}
	}
	t.Keys = sortMetrics(t.Keys)
	epochs := slices.Sorted(maps.Keys(byEpoch))
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

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.runData(r.PathValue("id"))
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
