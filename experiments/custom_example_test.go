package experiments_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// Train a program's own autoencoder through the same runner as the registry's models: the run
// records its architecture, and the record alone gives it back.
func ExampleRun_customArchitecture() {
	dir, _ := os.MkdirTemp("", "aelab-example")
	defer os.RemoveAll(dir)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	arch := aelib.Architecture{Name: "my-ae", Input: []int{data.Pixels}, Layers: []aelib.Layer{
		{Name: "enc", Kind: aelib.KindDense, Units: 64, Activation: aelib.ActReLU, Encoder: true},
		{Name: "drop", Kind: aelib.KindDropout, Rate: 0.1, Encoder: true},
		{Name: "code", Kind: aelib.KindDense, Units: 16, Activation: aelib.ActReLU, Encoder: true},
		{Name: "dec", Kind: aelib.KindDense, Units: 64, Activation: aelib.ActReLU},
		{Name: "output", Kind: aelib.KindDense, Units: data.Pixels, Activation: aelib.ActSigmoid},
	}}
	cfg, err := experiments.NewConfigFlags().CustomConfig(arch, true) // the common settings, quick
	if err != nil {
		log.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 512, 256
	res, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Arch: &arch, Source: "example"}, experiments.Options{})
	if err != nil {
		log.Fatal(err)
	}

	rec, _ := store.GetRun(res.RunID)
	stored, _ := experiments.ArchitectureOf(rec)
	fmt.Println(rec.Status, rec.Name, rec.Params["loss"], rec.Params["architecture"])
	fmt.Println(experiments.ParamCount.Text(rec), "parameters;", len(stored.Layers), "layers stored")
	// Output:
	// FINISHED my-ae bce 784 → 64 → 16
	// 103,328 parameters; 5 layers stored
}
