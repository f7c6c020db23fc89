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
