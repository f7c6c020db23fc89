package experiments_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// Train the course's §1.3 preset briefly, logged to a store, then load it back as a later
// notebook cell would.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "aelab-example")
	defer os.RemoveAll(dir)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	p, _ := experiments.LookupPreset("deep")
	cfg := experiments.Quick(p.Config)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 512, 256
	if _, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Section: p.Section, Source: "example"}, experiments.Options{}); err != nil {
		log.Fatal(err)
	}
	run, model, err := experiments.Latest(store, `params.model = "deep"`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(run.Status, run.Tags["section"], model.NumParams())
	// Output: FINISHED 1.3 222384
}
