package reports

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// Options say which runs a report compares and how much it draws.
type Options struct {
	// Where is a tracker filter (see package tracker) selecting the runs; every matching run is
	// shown. Empty picks the latest FINISHED run of each model (params.model).
	Where string
	// Title heads the report; "aelab comparison report" when empty.
	Title string
	// GridImages is how many test images the reconstruction grids show (default 8).
	GridImages int
	// NoGrids skips loading checkpoints (no reconstruction grids): a report from the store alone.
	NoGrids bool
}

// Report is a comparison of runs, ready to render as HTML or Markdown or to write to a folder.
type Report struct {
	Title     string
	Generated time.Time
	Host      string
	StorePath string
	Query     string // the selection, in words or as the filter given
	Runs      []*Run
	Figures   []*Figure
	Claims    []ClaimResult
	// Notes are problems met while building (a checkpoint that would not load, …); the report
	// is still usable.
	Notes []string
}

// Run is one run of the report with what was derived from it.
type Run struct {
	Record  *tracker.RunRecord
	Config  aelib.Config
	Summary *aelib.Summary // nil when the stored config has no known architecture
	// ValBCE is the validation BCE of every epoch.
	ValBCE []tracker.MetricPoint
	// System is every sample of each system.* metric (experiments.SystemMetrics).
	System map[string][]tracker.MetricPoint
	// History is every logged value of each metric, by metric name.
	History map[string][]tracker.MetricPoint
	// Checkpoint is the run's checkpoint folder, "" when it has none.
	Checkpoint string
}

// Model is the run's model name.
func (r *Run) Model() string { return r.Record.Params["model"] }

// Peer names the reference implementation that trained the run ("pytorch"), "" for aelab's own.
func (r *Run) Peer() string { return r.Record.Tags[experiments.TagPeer] }

// Label names the run on charts: "deep 1a2b3c4d", "deep (pytorch) 1a2b3c4d"; a run that is not
// an aelab model by its name: "fashion-clf 1a2b3c4d".
func (r *Run) Label() string {
	if r.Model() == "" {
		return r.Record.Name + " " + r.Record.ShortID()
	}
	if p := r.Peer(); p != "" {
		return r.Model() + " (" + p + ") " + r.Record.ShortID()
	}
	return r.Model() + " " + r.Record.ShortID()
}

// Metric is the latest value of a metric and whether the run logged it.
func (r *Run) Metric(key string) (float64, bool) {
	v, ok := r.Record.Metrics[key]
	return v, ok
}

// Epochs is the number of epochs the run was configured for (params.epochs).
func (r *Run) Epochs() int { return r.intParam("epochs") }

// EpochsDone is the number of epochs with a logged validation loss.
func (r *Run) EpochsDone() int { return len(r.ValBCE) }

func (r *Run) intParam(key string) int {
	n, _ := strconv.Atoi(r.Record.Params[key])
	return n
}

// Subset describes a data subset the run trained or tested on, "" for the full data set.
func (r *Run) Subset() string {
	tr, te := r.intParam("train_subset"), r.intParam("test_subset")
	switch {
	case tr > 0 && te > 0:
		return fmt.Sprintf("%d training / %d test images", tr, te)
	case tr > 0:
		return fmt.Sprintf("%d training images", tr)
	case te > 0:
		return fmt.Sprintf("%d test images", te)
	}
	return ""
}

// Build reads the runs opts select from store and computes the report: tables, figures (with
// reconstructions from each run's checkpoint) and the course-claims audit.
func Build(store *tracker.Store, opts Options) (*Report, error) {
	if store == nil {
		return nil, errors.New("reports: no store")
	}
	if opts.GridImages <= 0 {
		opts.GridImages = 8
	}
	rep := &Report{Title: opts.Title, Generated: time.Now(), StorePath: store.Path()}
	if rep.Title == "" {
		rep.Title = "aelab comparison report"
	}
	rep.Host, _ = os.Hostname()
	recs, err := selectRuns(store, opts.Where)
	if err != nil {
		return nil, err
	}
	if opts.Where == "" {
		rep.Query = "the latest FINISHED run of each model (and of each peer's reference of it)"
	} else {
		rep.Query = opts.Where
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("reports: no run matches %s in %s", describeQuery(opts.Where), store.Path())
	}
	for _, rec := range recs {
		run := &Run{Record: rec, Checkpoint: experiments.Checkpoint(rec)}
		if cfg, err := experiments.ConfigOf(rec); err == nil {
			run.Config = cfg
			if arch, err := experiments.ArchitectureOf(rec); err == nil { // a program's own model's too
				if s, err := arch.Summary(); err == nil {
					run.Summary = &s
				}
			}
		} else if rec.Params["model"] != "" {
			rep.Notes = append(rep.Notes, err.Error())
		}
		hist, err := store.MetricHistories(rec.ID)
		if err != nil {
			return nil, fmt.Errorf("reports: run %s: %w", rec.ShortID(), err)
		}
		run.History = hist
		run.ValBCE = hist[experiments.ValBCE.Name]
		for k, points := range hist {
			if m, ok := experiments.LookupMetric(k); ok && m.Kind == experiments.Sampled {
				if run.System == nil {
					run.System = map[string][]tracker.MetricPoint{}
				}
				run.System[k] = points
			}
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.Figures, rep.Notes = buildFigures(rep.Runs, opts, rep.Notes)
	rep.Claims = Audit(rep.Runs)
	return rep, nil
}

func describeQuery(where string) string {
	if where == "" {
		return "the default selection (FINISHED runs with params.model)"
	}
	return fmt.Sprintf("%q", where)
}

// selectRuns returns every run where selects, or the latest FINISHED run of each model by
// aelab and by each peer, ordered by model (course order) then start time.
func selectRuns(store *tracker.Store, where string) ([]*tracker.RunRecord, error) {
	filter := where
	if where == "" {
		filter = `attributes.status = "FINISHED"`
	}
	recs, err := store.SearchRuns(tracker.Search{Filter: filter, OrderBy: "attributes.start_time desc"})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if where == "" {
		seen := map[string]bool{}
		var latest []*tracker.RunRecord
		for _, r := range recs {
			m := r.Params["model"]
			key := m + "\x00" + r.Tags[experiments.TagPeer]
			if m == "" || seen[key] {
				continue
			}
			seen[key] = true
			latest = append(latest, r)
		}
		recs = latest
	}
	sort.SliceStable(recs, func(i, j int) bool {
		oi, oj := modelOrder(recs[i].Params["model"]), modelOrder(recs[j].Params["model"])
		if oi != oj {
			return oi < oj
		}
		if recs[i].Params["model"] != recs[j].Params["model"] {
			return recs[i].Params["model"] < recs[j].Params["model"]
		}
		if pi, pj := recs[i].Tags[experiments.TagPeer], recs[j].Tags[experiments.TagPeer]; pi != pj {
			return pi < pj // aelab's ("") first
		}
		return recs[i].StartTime.Before(recs[j].StartTime)
	})
	return recs, nil
}

// modelOrder puts the course's models first, in course order.
func modelOrder(m string) int {
	for i, name := range aelib.Models() {
		if m == name {
			return i
		}
	}
	return len(aelib.Models())
}

// representative is the run of a model the claims are checked against, among aelab's runs
// (peer "") or a peer's: FINISHED first, then the most epochs, then full data over a subset,
// then the newest.
func representative(runs []*Run, model, peer string) *Run {
	var best *Run
	better := func(a, b *Run) bool { // a better than b
		fa, fb := a.Record.Status == tracker.StatusFinished, b.Record.Status == tracker.StatusFinished
		if fa != fb {
			return fa
		}
		if a.EpochsDone() != b.EpochsDone() {
			return a.EpochsDone() > b.EpochsDone()
		}
		sa, sb := a.Subset() == "", b.Subset() == ""
		if sa != sb {
			return sa
		}
		return a.Record.StartTime.After(b.Record.StartTime)
	}
	for _, r := range runs {
		if r.Model() != model || r.Peer() != peer {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	return best
}
