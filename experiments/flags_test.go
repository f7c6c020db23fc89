package experiments

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
)

// parseConfigFlags parses args as `aelab train` does and returns the config, or the first error
// (of the parse or of Config).
func parseConfigFlags(args ...string) (aelib.Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewConfigFlags()
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return aelib.Config{}, err
	}
	return f.Config()
}

// Every float flag refuses NaN and ±Inf when it is parsed (issue #10, item 7), and no value of a
// flag stands for "unset" (item 10): -1 is refused like -5.
func TestConfigFlagsRejectNonFiniteAndOutOfRange(t *testing.T) {
	for _, args := range [][]string{
		{"--lr", "NaN"}, {"--lr", "Inf"}, {"--lr", "-Inf"}, {"--lr", "0"},
		{"--noise", "NaN"}, {"--noise", "+Inf"}, {"--noise", "-1"},
		{"--model", "sparse", "--rho", "NaN"}, {"--model", "sparse", "--rho", "1"},
		{"--model", "vae", "--beta", "Inf"}, {"--model", "vae", "--beta", "-1"},
		{"--model", "sparse", "--lambda", "NaN"}, {"--model", "contractive", "--lambda", "inf"},
		{"--epochs", "-1"}, {"--epochs", "-5"}, {"--batch", "0"}, {"--subset", "0"}, {"--subset", "-1"}, {"--test-subset", "-1"},
		{"--seed", "-1"}, {"--widths", "256,,32"}, {"--widths", "256,0"}, {"--filters", "0"}, {"--latent", "-1"},
		{"--model", "nosuch"}, {"--dataset", "cifar"}, {"--penalty", "l3"},
		{"--backend", "nosuch"}, {"--backend", ":"},
		{"--latent", "2"},                       // vanilla has no latent size
		{"--model", "denoise", "--widths", "8"}, // nor the conv model widths
	} {
		cfg, err := parseConfigFlags(args...)
		if err == nil {
			t.Errorf("%v: accepted, config %+v", args, cfg)
		}
	}
	_, err := parseConfigFlags("--lr", "NaN")
	if err == nil || !strings.Contains(err.Error(), `invalid value "NaN" for flag -lr: must be a finite number > 0`) {
		t.Errorf("--lr NaN: %v", err)
	}
	_, err = parseConfigFlags("--backend", "nosuch")
	if err == nil || !strings.Contains(err.Error(), `unknown backend "nosuch" (backends here: `) || !strings.Contains(err.Error(), "go") {
		t.Errorf("--backend nosuch: %v", err)
	}
	_, err = parseConfigFlags("--latent", "2")
	if err == nil || err.Error() != "--latent does not apply to model vanilla (only to vae)" {
		t.Errorf("--latent on vanilla: %v", err)
	}
}

func TestConfigFlagsBuildTheConfig(t *testing.T) {
	cfg, err := parseConfigFlags()
	if want, _ := aelib.DefaultConfig(aelib.ModelVanilla); err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("no flags: %+v, %v; want vanilla's defaults", cfg, err)
	}
	cfg, err = parseConfigFlags("--model", "vae", "--quick", "--epochs", "0", "--latent", "2", "--beta", "0.5", "--lr", "3e-4",
		"--noise", "0", "--seed", "18446744073709551615", "--widths", "64, 32", "--backend", "go", "--dataset", "fashion")
	if err != nil {
		t.Fatal(err)
	}
	quick := aelib.Config{Model: aelib.ModelVAE}.Quick()
	if cfg.Model != aelib.ModelVAE || cfg.Epochs != 0 || cfg.LatentDim != 2 || cfg.Beta != 0.5 || cfg.LearningRate != 3e-4 ||
		cfg.Seed != 1<<64-1 || !slices.Equal(cfg.Widths, []int{64, 32}) || cfg.Backend != "go" || cfg.Dataset != "fashion" ||
		cfg.TrainSubset != quick.TrainSubset {
		t.Errorf("config %+v", cfg)
	}
	// The denoising model keeps its noise unless --noise is given, even as 0.
	if cfg, _ := parseConfigFlags("--model", "denoise"); cfg.Noise != 0.5 {
		t.Errorf("denoise noise %v", cfg.Noise)
	}
	if cfg, _ := parseConfigFlags("--model", "denoise", "--noise", "0"); cfg.Noise != 0 {
		t.Errorf("denoise --noise 0: %v", cfg.Noise)
	}
}

// A sweep spec sets parameters by flag name; a notebook cell names its model.
func TestConfigFlagsSetAndConfigFor(t *testing.T) {
	f := NewConfigFlags()
	for name, value := range map[string]string{"lr": "0.01", "epochs": "2", "quick": "true"} {
		if err := f.Set(name, value); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Set("lr", "NaN"); err == nil || !strings.Contains(err.Error(), "finite") {
		t.Errorf("Set lr NaN: %v", err)
	}
	if err := f.Set("learning-rate", "1"); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("Set of an unknown name: %v", err)
	}
	cfg, err := f.ConfigFor(aelib.ModelDeep, false)
	if err != nil || cfg.Model != aelib.ModelDeep || cfg.LearningRate != 0.01 || cfg.Epochs != 2 || cfg.TrainSubset == 0 {
		t.Errorf("ConfigFor deep: %+v, %v", cfg, err)
	}
	if err := f.Set("model", "vae"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ConfigFor(aelib.ModelDeep, false); err == nil {
		t.Error("--model vae for a cell that trains deep: no error")
	}
	names := ConfigFlagNames()
	for _, want := range []string{"epochs", "lr", "noise", "widths", "latent"} {
		if !slices.Contains(names, want) {
			t.Errorf("ConfigFlagNames lacks %s: %v", want, names)
		}
	}
	// Every flag sets a setting some model reads.
	for _, d := range configFlags {
		if len(readers(d.setting)) == 0 {
			t.Errorf("--%s sets %q, which no model reads", d.name, d.setting)
		}
	}
}

// cellFlagsChild makes this test binary play a notebook cell: GoNB declares the notebook's
// variables (CellFlags registers the flags) before main calls flag.Parse with the %% line.
const cellFlagsChild = "AELAB_TEST_CELL_FLAGS"

var childCellFlags = func() *ConfigFlags {
	if os.Getenv(cellFlagsChild) == "" {
		return nil
	}
	return CellFlags()
}()

// A notebook cell's `%% --epochs=3 --latent=2 --noise=0.3` reaches its config in one call.
func TestCellFlagsTakeTheCellsArguments(t *testing.T) {
	if childCellFlags != nil {
		cfg, err := childCellFlags.ConfigFor(aelib.ModelVAE, true)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("config: epochs %d latent %d noise %g subset %d\n", cfg.Epochs, cfg.LatentDim, cfg.Noise, cfg.TrainSubset)
		return
	}
	for args, want := range map[string]string{
		"--epochs=3 --latent=2 --noise=0.3": "config: epochs 3 latent 2 noise 0.3 subset 20000",
		"--lambda=1":                        "error: --lambda does not apply to model vae (only to sparse, contractive)",
	} {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCellFlagsTakeTheCellsArguments$"}, strings.Fields(args)...)...)
		cmd.Env = append(os.Environ(), cellFlagsChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("cell %%%% %s: %v\n%s\nwant %q", args, err, out, want)
		}
	}
}
