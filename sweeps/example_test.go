package sweeps_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/tracker"
)

func ExampleParseSpec() {
	spec, err := sweeps.ParseSpec("denoise.yaml", []byte(`
model: denoise
base: {epochs: 2, subset: 6000}
parameters:
  filters: [8, 16, 32]
  noise: [0.3, 0.5, 0.7]
seeds: [1, 2]
metric: val_mse
early_stopping: {rule: median}
`))
	if err != nil {
		log.Fatal(err)
	}
	trials, err := spec.ExpandTrials(false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d trials, %s %s, stopping: %s\n", spec.Name, len(trials), spec.Metric.Goal(), spec.Metric.Name, spec.Stopping.Rule)
	fmt.Println("first:", trials[0].Describe(spec.ParameterNames()))
	fmt.Println("last: ", trials[len(trials)-1].Describe(spec.ParameterNames()))

	_, err = sweeps.ParseSpec("typo.yaml", []byte("model: denoise\nparameters:\n  filter: [8, 16]\n"))
	fmt.Println(err)
	// Output:
	// denoise: 18 trials, minimize val_mse, stopping: median
	// first: filters=8 noise=0.3 seed=1
	// last:  filters=32 noise=0.7 seed=2
	// typo.yaml:3: parameters.filter: unknown parameter "filter" (valid: dataset, epochs, batch, subset, test-subset, lr, noise, seed, backend, widths, filters, penalty, rho, lambda, beta, latent)
}

func ExampleRunLocal() {
	dir, _ := os.MkdirTemp("", "aelab-example-")
	defer os.RemoveAll(dir)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	spec, err := sweeps.ParseSpec("lr.yaml", []byte(`
model: vanilla
base: {epochs: 1, subset: 512, test-subset: 256}
parameters:
  lr: [0.001, 0.003]
`))
	if err != nil {
		log.Fatal(err)
	}
	sw, err := sweeps.RunLocal(context.Background(), store, spec, sweeps.LocalOptions{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	runs, err := store.SweepRuns(sw.ID, -1) // every trial is an ordinary run of the store
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		fmt.Println(r.Tags[tracker.TagSweepTrial], r.Params["learning_rate"], r.Status)
	}
	// Output:
	// 0 0.001 FINISHED
	// 1 0.003 FINISHED
}
