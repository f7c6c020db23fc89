package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"

	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
)

// Reconstruction grids: how many test images, and how many grids the cache keeps.
const (
	gridImages = 8
	gridCached = 128
)

// gridView says whether a run's page can show its reconstruction grid, and why not.
type gridView struct {
	URL    string
	Reason string
	Noisy  bool // clean / noisy / denoised rows
}

func (s *Server) gridState(rec *tracker.RunRecord) gridView {
	ck := experiments.Checkpoint(rec)
	if ck == "" {
		if rec.Status == tracker.StatusRunning {
			return gridView{Reason: "The checkpoint is saved when training ends; the reconstructions appear then."}
		}
		return gridView{Reason: "This run saved no checkpoint."}
	}
	if _, why := s.checkpointDir(ck); why != "" {
		return gridView{Reason: "No reconstructions: " + why + "."}
	}
	cfg, err := experiments.ConfigOf(rec)
	return gridView{URL: "/runs/" + rec.ID + "/reconstructions.png", Noisy: err == nil && cfg.Noise > 0}
}

// gridCache keeps the PNG of every grid drawn (by run, checkpoint folder and its files'
// times, so a rewritten checkpoint is drawn again), drawing one model at a time (each loads
// a backend), and keeps the first test images of each data set instead of whole data sets.
type gridCache struct {
	pngs    *memo
	testsMu sync.Mutex
	tests   map[string]*data.Split
}

func newGridCache() *gridCache {
	return &gridCache{pngs: newMemo(gridCached), tests: map[string]*data.Split{}}
}

// testImages returns the first n test images of a data set, loading its test split once.
func (c *gridCache) testImages(name string, n int) (*data.Split, error) {
	c.testsMu.Lock()
	defer c.testsMu.Unlock()
	if t := c.tests[name]; t != nil && t.N >= n {
		return t.Subset(n), nil
	}
	test, err := data.LoadTest(name)
	if err != nil {
		return nil, err
	}
	head := test.Subset(max(n, gridImages))
	c.tests[name] = &data.Split{Images: slices.Clone(head.Images), Labels: slices.Clone(head.Labels), N: head.N}
	return c.tests[name].Subset(n), nil
}

// checkpointStamp identifies a checkpoint's contents by its files' sizes and times.
func checkpointStamp(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	stamp := ""
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			stamp += fmt.Sprintf("%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	return stamp
}

// reconstructions serves the run's reconstruction grid, drawn from its checkpoint on first
// request and cached.
func (s *Server) reconstructions(w http.ResponseWriter, r *http.Request) {
	rec, err := s.store.GetRun(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, runStatus(err), err)
		return
	}
	dir, why := s.checkpointDir(experiments.Checkpoint(rec))
	if dir == "" {
		if why == "" {
			why = "the run saved no checkpoint"
		}
		s.fail(w, r, http.StatusNotFound, errors.New("no reconstructions: "+why))
		return
	}
	png, err := s.grids.pngs.get(rec.ID+"\x00"+dir+"\x00"+checkpointStamp(dir), func() ([]byte, error) {
		fig, err := reports.ReconstructionGrid(rec, dir, gridImages, s.grids.testImages)
		if err != nil {
			return nil, err
		}
		return fig.PNG, nil
	})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Write(png)
}
