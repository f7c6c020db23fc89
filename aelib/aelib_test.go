package aelib

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/internal/testenv"
)

func TestParamCounts(t *testing.T) {
	for _, tc := range []struct {
		arch                    Architecture
		total, encoder, decoder int
	}{
		{Vanilla(), 476720, 237984, 238736},
		{Deep(), 222384, 110816, 111568},
		{ConvDenoising(32), 28353, 9568, 18785},
	} {
		total, enc, dec := tc.arch.Params()
		if total != tc.total || enc != tc.encoder || dec != tc.decoder {
			t.Errorf("%s: params %d (%d + %d), want %d (%d + %d)", tc.arch.Name, total, enc, dec, tc.total, tc.encoder, tc.decoder)
		}
	}
}

func TestShapesAndSummary(t *testing.T) {
	if got := Vanilla().LatentShape(); !slices.Equal(got, []int{32}) {
		t.Errorf("vanilla latent %v", got)
	}
	if got := ConvDenoising(32).LatentShape(); !slices.Equal(got, []int{7, 7, 32}) {
		t.Errorf("conv latent %v", got)
	}
	if r := Vanilla().CompressionRatio(); r != 24.5 {
		t.Errorf("ratio %v", r)
	}
	if p := Deep().Path(); p != "784 → 128 → 64 → 32" {
		t.Errorf("path %q", p)
	}
	s, err := Vanilla().Summary()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"476,720", "enc_dense1 (Dense)", "(None, 256)", "1.82 MB", "237,984"} {
		if !strings.Contains(s.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(s.HTML(), "<table") {
		t.Error("HTML summary has no table")
	}
	bad := Architecture{Name: "bad", Input: []int{784}, Layers: []Layer{{Name: "p", Kind: KindMaxPool}}}
	if _, err := bad.Shapes(); err == nil {
		t.Error("pooling a flat input: no error")
	}
}

// onnxForTests says whether the tests can run on ONNX Runtime (aelab built with -tags onnx and
// its library installed). CI builds with the tag and its setup installs the library, so there a
// missing ONNX Runtime fails the test instead of dropping the step trainer's checks unseen.
func onnxForTests(t *testing.T) bool {
	t.Helper()
	if onnxBuilt && findONNXRuntime(hostBackendEnv()) != "" {
		return true
	}
	if testenv.OnCI() {
		t.Fatal("no ONNX Runtime: CI builds with -tags onnx and `make setup` installs its library")
	}
	return false
}

func TestChooseBackend(t *testing.T) {
	files := map[string]bool{}
	env := func(vars map[string]string, onnx bool) backendEnv {
		return backendEnv{
			getenv: func(k string) string { return vars[k] },
			glob: func(p string) []string {
				var out []string
				for f := range files {
					if ok, _ := filepath.Match(p, f); ok {
						out = append(out, f)
					}
				}
				return out
			},
			exists:    func(p string) bool { return files[p] },
			onnxBuilt: onnx,
		}
	}
	home := map[string]string{"HOME": "/home/u"}
	if c := chooseBackend(env(home, true)); c.Name != "go" {
		t.Errorf("nothing installed: %v", c)
	}
	files["/home/u/.cache/aelab/onnxruntime/libonnxruntime.so.1"] = true
	if c := chooseBackend(env(home, true)); c.Name != "onnx" || c.Config != "onnx:cpu" {
		t.Errorf("ORT installed: %v", c)
	}
	if c := chooseBackend(env(home, false)); c.Name != "go" {
		t.Errorf("ORT installed, built without onnx: %v", c)
	}
	plugin := "/usr/local/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
	files[plugin] = true
	if c := chooseBackend(env(home, true)); c.Name != "xla-cuda" || c.Config != "xla:"+plugin {
		t.Errorf("CUDA plugin: %v", c)
	}
	delete(files, plugin)
	venvPlugin := "/opt/torch/.venv/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
	files[venvPlugin] = true
	files["/opt/torch/.venv/bin/python3"] = true
	if c := chooseBackend(env(map[string]string{"HOME": "/x", "PATH": "/usr/bin:/opt/torch/.venv/bin"}, true)); c.Config != "xla:"+venvPlugin {
		t.Errorf("CUDA plugin in the venv of the python3 on PATH: %v", c)
	}
	delete(files, venvPlugin)
	files["/home/u/.local/lib/go-xla/pjrt_c_api_cpu_v0.83.1.so"] = true
	if c := chooseBackend(env(home, true)); c.Config != "xla:cpu" || c.Name != "xla-cpu" {
		t.Errorf("go-xla's CPU plugin: %v", c)
	}
	files["/usr/local/lib/go-xla/pjrt_c_api_cuda.so"] = true
	if c := chooseBackend(env(home, true)); c.Config != "xla:cuda" || c.Name != "xla-cuda" {
		t.Errorf("go-xla's CUDA plugin before its CPU one: %v", c)
	}
	delete(files, "/usr/local/lib/go-xla/pjrt_c_api_cuda.so")
	delete(files, "/home/u/.local/lib/go-xla/pjrt_c_api_cpu_v0.83.1.so")
	user := map[string]string{"HOME": "/home/u", "GOMLX_BACKEND": "go"}
	if c := chooseBackend(env(user, true)); c.Config != "go" || !strings.Contains(c.Reason, "GOMLX_BACKEND") {
		t.Errorf("user's choice: %v", c)
	}
	pjrt := map[string]string{"HOME": "/x", "PJRT_PLUGIN_LIBRARY_PATH": "/opt/pjrt"}
	files["/opt/pjrt/pjrt_c_api_cuda_v0.1.so"] = true
	if c := chooseBackend(env(pjrt, false)); c.Config != "xla:/opt/pjrt/pjrt_c_api_cuda_v0.1.so" {
		t.Errorf("PJRT_PLUGIN_LIBRARY_PATH: %v", c)
	}
}

var (
	mnistOnce sync.Once
	mnist     *data.Dataset
	mnistErr  error
)

// loadMNIST loads MNIST once for all the package's tests and benchmarks.
func loadMNIST(tb testing.TB) *data.Dataset {
	tb.Helper()
	mnistOnce.Do(func() { mnist, mnistErr = data.Load(data.MNIST) })
	if mnistErr != nil {
		tb.Fatal(mnistErr)
	}
	return mnist
}

func smallConfig(t *testing.T, model string, epochs int) Config {
	cfg, err := DefaultConfig(model)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = epochs, 2000, 500
	return cfg
}

func TestTrainingLowersValidationLoss(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelVanilla, 5)
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []EpochMetrics
	h, err := ae.Train(context.Background(), PrepareSplits(cfg, ds), TrainOptions{
		Observers: []Observer{ObserverFunc(func(m EpochMetrics) error { seen = append(seen, m); return nil })}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 5 || len(h.Epochs) != 5 || h.StepsPerEpoch != 8 {
		t.Fatalf("observed %d epochs, history %d, %d steps/epoch", len(seen), len(h.Epochs), h.StepsPerEpoch)
	}
	first, last := h.Epochs[0].ValLoss, h.Epochs[4].ValLoss
	if !(last < 0.75*first) {
		t.Errorf("validation BCE %.4f → %.4f: did not drop well below the first epoch", first, last)
	}
	if got := ae.NumParams(); got != 476720 {
		t.Errorf("store holds %d parameters, want 476,720", got)
	}
	t.Logf("backend %s: val BCE %.4f → %.4f", ae.Choice, first, last)
}

// The progress bar must survive several epochs (GoMLX's bar serves one run of a Loop).
func TestTrainWithProgressBar(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelDeep, 2)
	cfg.TrainSubset = 600
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ae.Train(context.Background(), PrepareSplits(cfg, ds), TrainOptions{ProgressBar: true}); err != nil {
		t.Fatal(err)
	}
}

func TestSeededTrainingIsDeterministic(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelDeep, 1)
	cfg.TrainSubset = 1000
	losses := make([]float64, 2)
	for i := range losses {
		ae, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ae.Train(context.Background(), PrepareSplits(cfg, ds), TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		losses[i] = h.Epochs[0].ValLoss
	}
	if losses[0] != losses[1] {
		t.Errorf("same seed, different losses: %v", losses)
	}
}

func TestEncodeDecodeShapesAndCheckpoint(t *testing.T) {
	ds := loadMNIST(t)
	for _, model := range Models() {
		t.Run(model, func(t *testing.T) {
			cfg := smallConfig(t, model, 1)
			cfg.TrainSubset, cfg.TestSubset = 256, 256
			ae, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ae.Train(context.Background(), PrepareSplits(cfg, ds), TrainOptions{}); err != nil {
				t.Fatal(err)
			}
			n := 3
			images := ds.Test.Images[:n*784]
			codes, err := ae.Encode(images, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != n*ae.Arch.LatentSize() {
				t.Fatalf("codes: %d values for %d images", len(codes), n)
			}
			decoded, err := ae.Decode(codes, n)
			if err != nil {
				t.Fatal(err)
			}
			recon, err := ae.Reconstruct(images, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(recon) != n*784 {
				t.Fatalf("reconstruction has %d values", len(recon))
			}
			for i := range recon {
				if math.Abs(float64(recon[i]-decoded[i])) > 1e-5 || recon[i] < 0 || recon[i] > 1 {
					t.Fatalf("pixel %d: reconstruct %v, decode(encode) %v", i, recon[i], decoded[i])
				}
			}
			dir := filepath.Join(t.TempDir(), "ckpt")
			if err := ae.Save(dir); err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			again, err := loaded.Reconstruct(images, n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recon, again) {
				t.Error("loaded model reconstructs differently")
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("loading an empty folder: no error")
	}
}

func TestNaNLossStopsTraining(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelVanilla, 3)
	s := PrepareSplits(cfg, ds)
	s.TrainInputs = slices.Clone(s.TrainInputs)
	for i := range s.TrainInputs {
		s.TrainInputs[i] = float32(math.NaN())
	}
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ae.Train(context.Background(), s, TrainOptions{})
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("error %v, want ErrNonFinite", err)
	}
	if h == nil || len(h.Epochs) != 0 {
		t.Errorf("history after a NaN in the first epoch: %+v", h)
	}
}

func TestCancelStopsTraining(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelVanilla, 3)
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ae.Train(ctx, PrepareSplits(cfg, ds), TrainOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// An observer that returns ErrStopTraining ends training after that epoch, as a success, and
// later observers still see the epoch.
func TestObserverStopsTrainingEarly(t *testing.T) {
	ds := loadMNIST(t)
	cfg := smallConfig(t, ModelVanilla, 4)
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	stop := ObserverFunc(func(m EpochMetrics) error {
		if m.Epoch == 2 {
			return fmt.Errorf("early stopping rule: %w", ErrStopTraining)
		}
		return nil
	})
	after := ObserverFunc(func(m EpochMetrics) error { seen = append(seen, m.Epoch); return nil })
	h, err := ae.Train(context.Background(), PrepareSplits(cfg, ds), TrainOptions{Observers: []Observer{stop, after}})
	if err != nil || len(h.Epochs) != 2 || !slices.Equal(seen, []int{1, 2}) || h.Seconds <= 0 {
		t.Fatalf("err %v, %d epochs, later observer saw %v, %.2f s", err, len(h.Epochs), seen, h.Seconds)
	}
}

func TestMain(m *testing.M) {
	os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	os.Exit(m.Run())
}
