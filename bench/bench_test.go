package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/internal/testenv"
)

func TestMachine(t *testing.T) {
	m := Machine()
	if !strings.Contains(m, "CPUs") || strings.HasPrefix(m, " ") {
		t.Errorf("Machine() = %q", m)
	}
	if runtime.GOOS == "linux" && strings.HasPrefix(m, runtime.GOARCH) {
		t.Errorf("Machine() = %q: no model name read from /proc/cpuinfo", m)
	}
}

func TestLoadAverage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/loadavg is Linux's")
	}
	if f := strings.Fields(LoadAverage()); len(f) != 3 {
		t.Errorf("LoadAverage() = %q", LoadAverage())
	}
}

func TestRSSPeakFollowsAllocationAndResets(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmRSS/VmHWM are Linux's")
	}
	now, peak := RSS()
	if now <= 0 || peak < now {
		t.Fatalf("RSS() = %g, %g", now, peak)
	}
	big := make([]byte, 256<<20)
	for i := range big {
		big[i] = 1 // touch every page
	}
	_, peakBig := RSS()
	if peakBig < peak+200 {
		t.Errorf("peak %g MiB after touching 256 MiB, was %g", peakBig, peak)
	}
	runtime.KeepAlive(big)
	big = nil
	runtime.GC()
	debugFree()
	ResetPeakRSS()
	now, peak = RSS()
	if peak > now+64 {
		t.Errorf("after ResetPeakRSS the peak is %g MiB, resident %g MiB", peak, now)
	}
}

// pytorch ends t unless Debian's Python has PyTorch: make test, make bench-peer and
// scripts/setup.sh --peer install it; make setup does not (users who never compare do not pay
// for it). On CI its absence is a failure (testenv.Need).
func pytorch(t *testing.T) {
	t.Helper()
	err := exec.Command(DefaultPython, "-c", "import torch").Run()
	testenv.Need(t, err, DefaultPython+" cannot import torch: "+InstallHint)
}

var mnist = sync.OnceValues(func() (*data.Dataset, error) { return data.Load(data.MNIST) })

func splits(t *testing.T, model string, train, test int) (aelib.Config, aelib.Splits) {
	t.Helper()
	ds, err := mnist()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := aelib.DefaultConfig(model)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TrainSubset, cfg.TestSubset = train, test
	return cfg, aelib.PrepareSplits(cfg, ds)
}

func TestPyTorchPeerTrainsTheSameModel(t *testing.T) {
	pytorch(t)
	for _, model := range []string{aelib.ModelDeep, aelib.ModelDenoise} {
		t.Run(model, func(t *testing.T) {
			cfg, s := splits(t, model, 512, 300)
			p, err := StartPyTorch(context.Background(), cfg, s, PeerOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			arch, _ := cfg.Architecture()
			total, _, _ := arch.Params()
			if p.Info.Params != total || p.Info.Threads != 1 || p.Info.Version == "" || p.Info.Name != PeerPyTorch {
				t.Errorf("info %+v, want %d params", p.Info, total)
			}
			var epochs []PeerEpoch
			for range 2 {
				e, err := p.Epoch()
				if err != nil {
					t.Fatal(err)
				}
				epochs = append(epochs, e)
			}
			steps := int64((s.NTrain + cfg.BatchSize - 1) / cfg.BatchSize)
			for i, e := range epochs {
				if e.Epoch != i+1 || e.Step != int64(i+1)*steps || e.TrainSeconds <= 0 || e.Seconds < e.TrainSeconds ||
					e.RSSMiB <= 0 || e.PeakRSSMiB < e.RSSMiB || e.ValMSE <= 0 || e.ValMAE <= 0 {
					t.Errorf("epoch %d: %+v", i+1, e)
				}
			}
			if !(epochs[1].TrainLoss < epochs[0].TrainLoss && epochs[1].ValLoss < epochs[0].ValLoss) {
				t.Errorf("the peer did not learn: %+v", epochs)
			}
			recon, peak, err := p.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if len(recon) != s.NTest*784 || peak < epochs[1].PeakRSSMiB {
				t.Fatalf("%d reconstructed values, peak %g MiB", len(recon), peak)
			}
			var mse float64
			for i, v := range recon {
				if v < 0 || v > 1 {
					t.Fatalf("reconstruction %d = %g, outside [0,1]", i, v)
				}
				d := float64(v - s.TestTargets[i])
				mse += d * d
			}
			// The peer's validation MSE after its last epoch is the MSE of these reconstructions.
			if mse /= float64(len(recon)); mse < 0.999*epochs[1].ValMSE || mse > 1.001*epochs[1].ValMSE {
				t.Errorf("MSE of the reconstructions %g, the peer's val_mse %g", mse, epochs[1].ValMSE)
			}
			dir := p.dir
			if err := p.Close(); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the peer's folder %s is still there", dir)
			}
		})
	}
}

func TestPyTorchPeerErrors(t *testing.T) {
	cfg, s := splits(t, aelib.ModelVanilla, 256, 100)
	ctx := context.Background()
	if _, err := StartPyTorch(ctx, cfg, s, PeerOptions{Python: "/nonexistent/python3"}); err == nil || !strings.Contains(err.Error(), "python3-torch") {
		t.Errorf("a missing interpreter: %v", err)
	}
	sparse, _ := aelib.DefaultConfig(aelib.ModelSparse)
	if _, err := StartPyTorch(ctx, sparse, s, PeerOptions{}); err == nil || !strings.Contains(err.Error(), "no sparse model") {
		t.Errorf("a model the reference lacks: %v", err)
	}
	if _, err := exec.LookPath(DefaultPython); err != nil {
		t.Skipf("no %s", DefaultPython)
	}
	// A real Python without Debian's packages on its path (-S: no site-packages), as the first
	// python3 on PATH may be: the error names the packages to install.
	noSite := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(noSite, []byte("#!/bin/sh\nexec "+DefaultPython+" -S \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := StartPyTorch(ctx, cfg, s, PeerOptions{Python: noSite})
	if err == nil || !strings.Contains(err.Error(), "No module named") || !strings.Contains(err.Error(), "setup.sh --peer") {
		t.Errorf("a Python without torch: %v", err)
	}
}

func debugFree() { debug.FreeOSMemory() }
