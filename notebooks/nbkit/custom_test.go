package nbkit

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
)

// TestTrainCustomArchitecture trains a cell's own architecture the way notebook 08 does and
// loads it back with its layers.
func TestTrainCustomArchitecture(t *testing.T) {
	t.Setenv("AELAB_DB", filepath.Join(t.TempDir(), "aelab.db"))
	t.Setenv("AELAB_QUICK", "1")
	nb := New("99_custom", "")
	arch := aelib.Dense("cell-ae", data.Pixels, 32, 8)
	cfg := nb.CustomSettings(arch)
	if cfg.Model != "cell-ae" || cfg.Epochs != experiments.CustomQuick.Epochs {
		t.Fatalf("CustomSettings: %+v", cfg)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 256, 128
	store := OpenStore()
	defer store.Close()
	res := nb.Train(store, cfg, Run{Arch: &arch, Images: -1})
	run, ae := nb.Latest(store, `params.model = "cell-ae"`)
	if run.ID != res.RunID || run.Params["architecture"] != "784 → 32 → 8" || !reflect.DeepEqual(ae.Arch.Layers, arch.Layers) {
		t.Errorf("run %s (want %s), params %v, layers %+v", run.ID, res.RunID, run.Params, ae.Arch.Layers)
	}
}

func TestDescribeNamesDataSetOtherThanMNIST(t *testing.T) {
	cfg := Must(aelib.DefaultConfig(aelib.ModelDeep))
	if got := describe(cfg); got != "50 epochs, all training images, batch 256" {
		t.Errorf("MNIST: %q", got)
	}
	cfg.Dataset, cfg.TrainSubset = data.Fashion, 5000
	if got := describe(cfg); got != "50 epochs, 5,000 training images, batch 256, data set fashion" {
		t.Errorf("Fashion-MNIST: %q", got)
	}
}
