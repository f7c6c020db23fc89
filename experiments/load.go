package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// Latest returns the newest FINISHED run matching filter (tracker's query language; empty for
// any) that has a checkpoint, with its model loaded — one line for a notebook cell that uses
// what an earlier cell trained.
func Latest(store *tracker.Store, filter string) (*tracker.RunRecord, *aelib.Autoencoder, error) {
	q := `attributes.status = "FINISHED"`
	if filter != "" {
		q += " and (" + filter + ")"
	}
	runs, err := store.SearchRuns(tracker.Search{Filter: q, OrderBy: "attributes.start_time desc"})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range runs {
		if dir := Checkpoint(r); dir != "" {
			ae, err := LoadCheckpoint(dir)
			if err != nil {
				return r, nil, fmt.Errorf("run %s: %w", r.ShortID(), err)
			}
			return r, ae, nil
		}
	}
	return nil, nil, fmt.Errorf("no finished run with a checkpoint matches %q in %s", filter, store.Path())
}

// Checkpoint returns the checkpoint folder a run recorded, or "".
func Checkpoint(r *tracker.RunRecord) string {
	for i := len(r.Artifacts) - 1; i >= 0; i-- {
		if r.Artifacts[i].Kind == "checkpoint" {
			return r.Artifacts[i].Path
		}
	}
	return ""
}

// LoadCheckpoint loads the model saved in dir, saying plainly when the folder is not on this
// machine (a run pushed or pulled without its files, a store whose artifact folder is mounted
// elsewhere).
func LoadCheckpoint(dir string) (*aelib.Autoencoder, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("its checkpoint %s is not on this machine (copy the store's artifact folder here, "+
			"or point --artifacts or AELAB_ARTIFACTS at where it is)", dir)
	}
	return aelib.Load(dir)
}

// ConfigOf decodes the config a run stored.
func ConfigOf(r *tracker.RunRecord) (aelib.Config, error) {
	var cfg aelib.Config
	if len(r.Config) == 0 {
		return cfg, fmt.Errorf("run %s has no stored config", r.ShortID())
	}
	if err := json.Unmarshal(r.Config, &cfg); err != nil {
		return cfg, fmt.Errorf("run %s: stored config: %w", r.ShortID(), err)
	}
	return cfg, nil
}

// Reproduce trains a stored run's config again as a new run tagged reproduces=<id>, and returns
// the original record with the new result. A program's own model is trained again from its
// stored architecture, unless it has penalties (code the store does not keep).
func Reproduce(ctx context.Context, store *tracker.Store, id string, opts Options) (*tracker.RunRecord, *Result, error) {
	orig, err := store.GetRun(id)
	if err != nil {
		return nil, nil, err
	}
	if peer := orig.Tags[TagPeer]; peer != "" {
		return orig, nil, fmt.Errorf("run %s was trained by the %s reference, not by aelab: `aelab bench --peer %s` trains it again", orig.ShortID(), peer, peer)
	}
	cfg, err := ConfigOf(orig)
	if err != nil {
		return orig, nil, err
	}
	arch, err := reproduceArch(orig)
	if err != nil {
		return orig, nil, err
	}
	// Before a run is recorded: a stored config is untrusted input.
	if arch != nil {
		err = checkCustomMemory(*arch, cfg)
	} else {
		err = cfg.CheckMemory()
	}
	if err != nil {
		return orig, nil, err
	}
	spec := Spec{Config: cfg, Arch: arch, Name: orig.Name, Section: orig.Tags["section"], Experiment: orig.Experiment,
		Source: "reproduce", Tags: map[string]string{"reproduces": orig.ID}}
	res, err := Run(ctx, store, spec, opts)
	return orig, res, err
}
