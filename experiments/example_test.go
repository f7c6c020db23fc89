package experiments_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
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
	cfg := p.Config.Quick()
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

// The flags of `aelab train` build a config from a model's defaults; a bad value is refused
// when it is parsed.
func ExampleConfigFlags() {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := experiments.NewConfigFlags()
	cf.Register(fs)
	_ = fs.Parse([]string{"--model", "deep", "--epochs", "3", "--lr", "3e-4"})
	cfg, _ := cf.Config()
	fmt.Println(cfg.Model, cfg.Epochs, cfg.LearningRate, cfg.Widths)
	fmt.Println(fs.Parse([]string{"--lr", "NaN"}))
	// Output:
	// deep 3 0.0003 [128 64 32]
	// invalid value "NaN" for flag -lr: must be a finite number > 0
}

// Every metric is declared once, with its format.
func ExampleMetric_Format() {
	for _, m := range []experiments.Metric{experiments.ParamCount, experiments.ModelBytesF32, experiments.ValBCE, experiments.TestPSNR} {
		fmt.Printf("%s: %s\n", m.Name, m.Format(476720))
	}
	fmt.Println(experiments.ParamCount.Format(math.NaN()), experiments.ValBCE.Format(math.Inf(1)))
	// Output:
	// params: 476,720
	// model_bytes_f32: 465.55 KB
	// val_bce: 476720.0000
	// test_psnr: 476720.00 dB
	// NaN –
}
