package trackerbench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/metrics"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
)

// The big store's shape: Runs runs of Epochs epochs, about 101 metric rows each.
const (
	Runs      = 10_000
	Epochs    = 12
	storeFile = "store-v1.db" // change the name when the shape changes
)

var (
	sqliteOnce sync.Once
	sqlitePath string
	sqliteErr  error
	pgOnce     sync.Once
	pgURL      string
	pgErr      error
)

// SQLite returns the path of the big SQLite store, writing it into build/trackerbench
// (under the module's root) first if it is not there.
func SQLite(b testing.TB) string {
	sqliteOnce.Do(func() {
		dir, err := buildDir()
		if err != nil {
			sqliteErr = err
			return
		}
		sqlitePath = filepath.Join(dir, storeFile)
		if _, err := os.Stat(sqlitePath); err == nil {
			sqliteErr = migrate(sqlitePath) // written by an older aelab, maybe
			return
		}
		tmp, err := os.MkdirTemp(dir, "writing-")
		if err != nil {
			sqliteErr = err
			return
		}
		defer os.RemoveAll(tmp) // with what the store keeps beside its file
		b.Logf("writing the benchmark store %s through the tracker API (once)", sqlitePath)
		if sqliteErr = Write(filepath.Join(tmp, storeFile), Runs, Epochs); sqliteErr == nil {
			sqliteErr = os.Rename(filepath.Join(tmp, storeFile), sqlitePath)
		}
	})
	if sqliteErr != nil {
		b.Fatal(sqliteErr)
	}
	return sqlitePath
}

// Postgres returns the URL of the big store on the test binary's PostgreSQL server
// (pgtest.Shared), copied from the SQLite one at the first call.
func Postgres(b testing.TB) string {
	src := SQLite(b)
	srv := pgtest.Shared(b)
	pgOnce.Do(func() {
		pgURL = srv.NewDatabase(b)
		from, err := tracker.OpenReadOnly(src)
		if err != nil {
			pgErr = err
			return
		}
		defer from.Close()
		to, err := tracker.OpenWith(pgURL, tracker.Options{ArtifactRoot: b.TempDir()})
		if err != nil {
			pgErr = err
			return
		}
		defer to.Close()
		b.Logf("copying the benchmark store into PostgreSQL")
		_, pgErr = tracker.Copy(context.Background(), to, from, tracker.CopyOptions{BatchSize: 500})
	})
	if pgErr != nil {
		b.Fatal(pgErr)
	}
	return pgURL
}

// migrate brings the store at path to this aelab's schema.
func migrate(path string) error {
	s, err := tracker.OpenExisting(path)
	if err != nil {
		return err
	}
	return s.Close()
}

// buildDir is build/trackerbench under the module's root.
func buildDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("trackerbench: no go.mod above the working directory")
		}
		dir = parent
	}
	dir = filepath.Join(dir, "build", "trackerbench")
	return dir, os.MkdirAll(dir, 0o755)
}

// Models are the architectures the runs cycle through (their sizes go into the results).
func Models() ([]*aelib.Autoencoder, error) {
	var models []*aelib.Autoencoder
	for _, name := range aelib.Models() {
		cfg, err := aelib.DefaultConfig(name)
		if err != nil {
			return nil, err
		}
		arch, err := cfg.Architecture()
		if err != nil {
			return nil, err
		}
		models = append(models, &aelib.Autoencoder{Config: cfg, Arch: arch})
	}
	return models, nil
}

// Write logs runs runs of epochs epochs into the store at path, each the way
// experiments.Run logs a training (the model's seed is the run's index, so
// params.seed < N selects the first N runs).
func Write(path string, runs, epochs int) error {
	store, err := tracker.Open(path)
	if err != nil {
		return err
	}
	defer store.Close()
	models, err := Models()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range runs {
		if err := LogRun(store, models[i%len(models)], i, epochs, rng); err != nil {
			return err
		}
	}
	return nil
}

// LogRun logs one finished run of model ae: the i-th, of epochs epochs.
func LogRun(store *tracker.Store, ae *aelib.Autoencoder, i, epochs int, rng *rand.Rand) error {
	cfg := ae.Config
	cfg.Seed, cfg.Epochs = uint64(i), epochs
	cfg.LearningRate = []float64{0.001, 0.0005, 0.002}[i%3]
	config, _ := json.Marshal(cfg)
	run, err := store.StartRun(tracker.RunSpec{Experiment: "bench-" + cfg.Model, Name: fmt.Sprintf("%s-%05d", cfg.Model, i),
		Source: "bench", Config: config, Params: experiments.Params(cfg),
		Tags: map[string]string{"section": "bench", "env.backend": "onnx", "env.host": "bench-host", "env.cpus": "2",
			"env.go_version": runtime.Version(), "env.gomlx": "v0.28.2", "env.os_arch": "linux/amd64", "env.device": "cpu"},
	})
	if err != nil {
		return err
	}
	res := &experiments.Result{Model: ae, History: &aelib.History{StepsPerEpoch: 235, Seconds: 30, CompileSeconds: 0.5}}
	loss := 0.3 + 0.3*rng.Float64()
	for epoch := 1; epoch <= epochs; epoch++ {
		loss *= 0.9 + 0.05*rng.Float64()
		m := Epoch(epoch, loss, rng)
		if err := experiments.LogEpoch(run, m); err != nil {
			return err
		}
		res.History.Epochs = append(res.History.Epochs, m)
	}
	mse := loss / 10
	res.Evaluation.Test = metrics.Summary{BCE: loss, MSE: mse, MAE: loss / 4, PSNR: -10 * math.Log10(mse), SSIM: 1 - loss, Pearson: 1 - loss/2, Similarity: 100 - 25*loss}
	for d := range res.Evaluation.DigitMSE {
		res.Evaluation.DigitMSE[d] = mse * (0.8 + 0.4*rng.Float64())
	}
	if cfg.Noise > 0 {
		res.Evaluation.Denoising = &metrics.Denoising{NoisyMSE: 0.1, DenoisedMSE: mse, ImprovementPct: 100 * (0.1 - mse) / 0.1}
	}
	if err := experiments.LogResults(run, res); err != nil {
		return err
	}
	return run.Finish(tracker.StatusFinished, "")
}

// Epoch is one epoch's measurements at validation loss loss.
func Epoch(epoch int, loss float64, rng *rand.Rand) aelib.EpochMetrics {
	return aelib.EpochMetrics{Epoch: epoch, Step: int64(epoch * 235), TrainLoss: 1.1 * loss, ValLoss: loss,
		ValMSE: loss / 10, ValMAE: loss / 4, Seconds: 2.5 + rng.Float64(), TrainSeconds: 2.4}
}
