package tracker_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/tracker"
)

// tempDB returns a store path in a fresh temporary directory (the examples
// would normally use tracker.DefaultPath()).
func tempDB() (path string, cleanup func()) {
	dir, err := os.MkdirTemp("", "aelab-example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "aelab.db"), func() { os.RemoveAll(dir) }
}

func ExampleOpen() {
	path, cleanup := tempDB()
	defer cleanup()

	store, err := tracker.Open(path) // usually tracker.Open(tracker.DefaultPath())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	fmt.Println(filepath.Base(store.Path()))
	// Output: aelab.db
}

func ExampleStore_StartRun() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	run, err := store.StartRun(tracker.RunSpec{
		Experiment: "vanilla-mnist",
		Name:       "vanilla-32",
		Config:     json.RawMessage(`{"model":"vanilla","latent":32,"epochs":2}`),
		Params:     map[string]string{"model": "vanilla", "epochs": "2"},
		Tags:       map[string]string{"env.backend": "go"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for epoch := 1; epoch <= 2; epoch++ {
		// ... train one epoch ...
		err := run.LogMetrics(map[string]float64{"train_loss": 0.3 / float64(epoch), "val_bce": 0.32 / float64(epoch)},
			int64(epoch), epoch)
		if err != nil {
			run.Fail(err)
			log.Fatal(err)
		}
	}
	run.LogArtifact("checkpoint", "/tmp/vanilla-32.ckpt", "weights after epoch 2")
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		log.Fatal(err)
	}

	rec, err := store.GetRun(run.ID()[:8]) // a unique prefix is enough
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Name, rec.Status, rec.Params["model"], rec.Metrics["val_bce"], len(rec.Artifacts))
	// Output: vanilla-32 FINISHED vanilla 0.16 1
}

func ExampleStore_SearchRuns() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	for _, r := range []struct {
		model string
		mse   float64
	}{{"vanilla", 0.031}, {"deep", 0.018}, {"deep", 0.022}, {"denoising", 0.025}} {
		run, _ := store.StartRun(tracker.RunSpec{Name: r.model, Params: map[string]string{"model": r.model}})
		run.LogMetric("val_mse", r.mse, 1, 1)
		run.Finish(tracker.StatusFinished, "")
	}

	runs, err := store.SearchRuns(tracker.Search{
		Filter:  `metrics.val_mse < 0.03 and params.model in ("deep", "denoising")`,
		OrderBy: "metrics.val_mse asc",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		fmt.Println(r.Params["model"], r.Metrics["val_mse"])
	}

	_, err = store.SearchRuns(tracker.Search{Filter: "metrics.val_mse < "})
	fmt.Println(err)
	// Output:
	// deep 0.018
	// deep 0.022
	// denoising 0.025
	// query: at column 19: expected a value after '<', got end of input
}

func ExampleOpenReadOnly() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	run, _ := store.StartRun(tracker.RunSpec{Name: "vanilla-32"})
	run.Finish(tracker.StatusFinished, "")
	store.Close()

	// A command that only reads opens the store read-only: nothing is created,
	// migrated or written, and a store on a read-only filesystem can be read.
	ro, err := tracker.OpenReadOnly(path)
	if err != nil {
		log.Fatal(err)
	}
	defer ro.Close()
	runs, _ := ro.SearchRuns(tracker.Search{})
	fmt.Println(len(runs), runs[0].Name, ro.ReadOnly())

	_, err = tracker.OpenReadOnly(path + ".typo")
	fmt.Println(errors.Is(err, tracker.ErrNoStore))
	// Output:
	// 1 vanilla-32 true
	// true
}

func ExampleStore_WriteTx() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	run, _ := store.StartRun(tracker.RunSpec{Name: "trial-1"})
	run.Finish(tracker.StatusFinished, "")

	// A component with its own tables in the store's database (a job queue)
	// writes them and the tracker's rows in one transaction: all or nothing.
	ctx := context.Background()
	store.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS jobs (run_id TEXT)`)
		return err
	})
	err = store.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(store.Rebind(`INSERT INTO jobs(run_id) VALUES (?)`), run.ID()); err != nil {
			return err
		}
		_, err := tx.Exec(store.Rebind(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)`), run.ID(), "queued", "yes")
		return err
	})
	rec, _ := store.GetRun(run.ID())
	fmt.Println(err, store.Dialect(), rec.Tags["queued"])
	// Output: <nil> sqlite yes
}

func ExampleStore_EachRun() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{"vanilla", "deep"} {
		run, _ := store.StartRun(tracker.RunSpec{Name: name})
		for epoch := 1; epoch <= 3; epoch++ {
			run.LogMetrics(map[string]float64{"train_loss": 0.4 / float64(epoch), "val_loss": 0.5 / float64(epoch)}, int64(epoch*235), epoch)
		}
		run.Finish(tracker.StatusFinished, "")
	}

	// Every run with its whole history, a batch at a time: an export of 10,000 runs holds
	// a few batches in memory, not the store.
	err = store.EachRun(tracker.Search{OrderBy: "attributes.name asc"}, func(r *tracker.RunRecord, h *tracker.History) error {
		for i, key := range h.Keys {
			points := h.Start[i+1] - h.Start[i]
			fmt.Println(r.Name, key, points, "points, latest", h.Latest(i).Value, "at step", h.Latest(i).Step)
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// deep train_loss 3 points, latest 0.13333333333333333 at step 705
	// deep val_loss 3 points, latest 0.16666666666666666 at step 705
	// vanilla train_loss 3 points, latest 0.13333333333333333 at step 705
	// vanilla val_loss 3 points, latest 0.16666666666666666 at step 705
	// <nil>
}

func ExampleAppendRunJSON() {
	path, cleanup := tempDB()
	defer cleanup()
	store, err := tracker.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	run, _ := store.StartRun(tracker.RunSpec{Name: "vanilla-32", Params: map[string]string{"model": "vanilla"}})
	run.LogMetric("val_loss", 0.25, 235, 1)
	run.LogMetric("val_loss", 0.125, 470, 2)
	run.Finish(tracker.StatusFinished, "")

	// The JSON of `aelab runs show --json`: the record (its latest metrics from the
	// history), then the history, a point per line.
	store.EachRun(tracker.Search{}, func(r *tracker.RunRecord, h *tracker.History) error {
		b, err := tracker.AppendRunJSON(nil, r, h, "")
		if err != nil {
			return err
		}
		var decoded struct {
			Name    string                                     `json:"name"`
			Metrics map[string]struct{ Value float64 }         `json:"metrics"`
			History map[string][]struct{ Step, Epoch float64 } `json:"history"`
		}
		err = json.Unmarshal(b, &decoded)
		fmt.Println(decoded.Name, decoded.Metrics["val_loss"].Value, decoded.History["val_loss"], err)
		return nil
	})
	// Output: vanilla-32 0.125 [{235 1} {470 2}] <nil>
}
