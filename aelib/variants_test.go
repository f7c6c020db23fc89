package aelib

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Tests of the models beyond the course: the penalty terms against hand-computed values on
// small graphs, then each model trained briefly on a 1,000-image MNIST subset.

var (
	variantBackendOnce sync.Once
	variantBackend     compute.Backend
	variantBackendErr  error
)

func variantTestBackend(t *testing.T) compute.Backend {
	t.Helper()
	variantBackendOnce.Do(func() { variantBackend, _, variantBackendErr = NewBackend() })
	if variantBackendErr != nil {
		t.Fatal(variantBackendErr)
	}
	return variantBackend
}

// evalGraph runs fn on the inputs (float32 tensors) and returns its one output as float64s.
func evalGraph(t *testing.T, fn func([]*Node) *Node, inputs ...*tensors.Tensor) []float64 {
	t.Helper()
	exec, err := NewExec(variantTestBackend(t), fn)
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	out, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	res := make([]float64, len(flat))
	for i, v := range flat {
		res[i] = float64(v)
	}
	return res
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func bernoulliKL(rho, rhoHat float64) float64 {
	return rho*math.Log(rho/rhoHat) + (1-rho)*math.Log((1-rho)/(1-rhoHat))
}

func TestSparsityKLHandComputed(t *testing.T) {
	// Unit means over the three real rows are 0.2 and 0.05; the padding row must not count.
	codes := tensors.FromFlatDataAndDimensions([]float32{
		0.1, 0.05,
		0.3, 0.02,
		0.2, 0.08,
		0.9, 0.9, // padding
	}, 4, 2)
	weights := tensors.FromFlatDataAndDimensions([]float32{1, 1, 1, 0}, 4)
	got := evalGraph(t, func(in []*Node) *Node { return SparsityKL(in[0], in[1], 0.05) }, codes, weights)[0]
	want := bernoulliKL(0.05, 0.2) + 0 // the second unit is exactly on target
	if !near(got, want, 1e-4) {
		t.Errorf("KL sparsity: got %.6f, want %.6f", got, want)
	}
	l1 := evalGraph(t, func(in []*Node) *Node { return SparsityL1(in[0], in[1]) }, codes, weights)[0]
	if wantL1 := (0.15 + 0.32 + 0.28) / 3; !near(l1, wantL1, 1e-5) {
		t.Errorf("L1 sparsity: got %.6f, want %.6f", l1, wantL1)
	}
}

func TestGaussianKLHandComputed(t *testing.T) {
	mean := tensors.FromFlatDataAndDimensions([]float32{0, 0, 1, 1, 0, 0}, 3, 2)
	logVar := tensors.FromFlatDataAndDimensions([]float32{0, 0, 0, 0, float32(math.Log(2)), 0}, 3, 2)
	got := evalGraph(t, func(in []*Node) *Node { return GaussianKL(in[0], in[1]) }, mean, logVar)
	want := []float64{0, 1, 0.5 * (1 - math.Log(2))} // μ=1: ½ per dimension; σ²=2: ½(σ² − 1 − log σ²)
	for i := range want {
		if !near(got[i], want[i], 1e-5) {
			t.Errorf("example %d: KL %.6f, want %.6f", i, got[i], want[i])
		}
	}
}

// hostJacobianSq computes ‖diag(d_L) W_Lᵀ … diag(d_1) W_1ᵀ‖²_F for one example on the host.
func hostJacobianSq(ws [][]float32, dims [][2]int, ds [][]float32) float64 {
	// J starts as the identity on the input: [in_1, in_1].
	in := dims[0][0]
	j := make([]float64, in*in)
	for i := range in {
		j[i*in+i] = 1
	}
	rows := in
	for l, w := range ws {
		n, m := dims[l][0], dims[l][1]
		next := make([]float64, m*in)
		for o := range m {
			for c := range in {
				var s float64
				for k := range n {
					s += float64(w[k*m+o]) * j[k*in+c]
				}
				next[o*in+c] = s * float64(ds[l][o])
			}
		}
		j, rows = next, m
	}
	var sum float64
	for _, v := range j[:rows*in] {
		sum += v * v
	}
	return sum
}

func TestJacobianFrobeniusHandComputed(t *testing.T) {
	// A linear map: ‖J‖² is ‖W‖²_F = 1+4+9+16+25+36 = 91.
	w := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	ones := tensors.FromFlatDataAndDimensions([]float32{1, 1}, 1, 2)
	got := evalGraph(t, func(in []*Node) *Node { return JacobianFrobeniusSq(in[:1], in[1:]) }, w, ones)[0]
	if !near(got, 91, 1e-6) {
		t.Errorf("linear map: got %g, want 91", got)
	}
	// A ReLU layer with its second unit off: only the first column counts, 1+9+25 = 35.
	mask := tensors.FromFlatDataAndDimensions([]float32{1, 0}, 1, 2)
	got = evalGraph(t, func(in []*Node) *Node { return JacobianFrobeniusSq(in[:1], in[1:]) }, w, mask)[0]
	if !near(got, 35, 1e-6) {
		t.Errorf("ReLU layer: got %g, want 35", got)
	}

	// Three layers 5→4→3→2 with random weights and masks, two examples, against the host product.
	rng := rand.New(rand.NewPCG(1, 2))
	dims := [][2]int{{5, 4}, {4, 3}, {3, 2}}
	var ws [][]float32
	var wt []*tensors.Tensor
	for _, d := range dims {
		v := make([]float32, d[0]*d[1])
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		ws, wt = append(ws, v), append(wt, tensors.FromFlatDataAndDimensions(v, d[0], d[1]))
	}
	var dsByEx [2][][]float32
	var dt []*tensors.Tensor
	for l, d := range dims {
		both := make([]float32, 2*d[1])
		for i := range both {
			both[i] = float32(rng.IntN(2)) * float32(0.5+rng.Float64()) // masks and sigmoid-like slopes
		}
		both[0] = 1
		dsByEx[0] = append(dsByEx[0], both[:d[1]])
		dsByEx[1] = append(dsByEx[1], both[d[1]:])
		dt = append(dt, tensors.FromFlatDataAndDimensions(both, 2, d[1]))
		_ = l
	}
	got3 := evalGraph(t, func(in []*Node) *Node {
		return JacobianFrobeniusSq(in[:3], in[3:])
	}, wt[0], wt[1], wt[2], dt[0], dt[1], dt[2])
	for ex := range 2 {
		if want := hostJacobianSq(ws, dims, dsByEx[ex]); !near(got3[ex], want, 1e-4) {
			t.Errorf("3 layers, example %d: got %g, want %g", ex, got3[ex], want)
		}
	}
}

// variantConfig is a model's default config cut to 2 epochs on 1,000 training images.
func variantConfig(t *testing.T, model string) Config {
	t.Helper()
	cfg, err := DefaultConfig(model)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, 1000, 500, 100
	return cfg
}

func trainVariant(t *testing.T, cfg Config) (*Autoencoder, Splits) {
	t.Helper()
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := PrepareSplits(cfg, loadMNIST(t))
	hist, err := ae.Train(context.Background(), s, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := hist.Epochs
	if len(e) != 2 || !(e[1].TrainLoss < e[0].TrainLoss) || math.IsNaN(e[1].ValLoss) {
		t.Fatalf("%s: loss did not fall: %+v", cfg.Model, e)
	}
	t.Logf("%s: train loss %.4f → %.4f, val_bce %.4f → %.4f", cfg.Model, e[0].TrainLoss, e[1].TrainLoss, e[0].ValLoss, e[1].ValLoss)
	return ae, s
}

func TestSparseTrainsAndReportsCodeStats(t *testing.T) {
	for _, penalty := range []string{PenaltyKL, PenaltyL1} {
		cfg := variantConfig(t, ModelSparse)
		cfg.Penalty = penalty
		ae, s := trainVariant(t, cfg)
		stats, err := ae.CodeStats(s.TestInputs, s.NTest)
		if err != nil {
			t.Fatal(err)
		}
		if stats.MeanActivation <= 0 || stats.MeanActivation >= 1 || stats.NearZeroShare < 0 || stats.NearZeroShare > 1 || len(stats.UnitMeans) != 32 {
			t.Errorf("%s: implausible code stats %+v", penalty, stats)
		}
		t.Logf("sparse %s: mean activation %.3f, near-zero share %.3f, dead units %d", penalty, stats.MeanActivation, stats.NearZeroShare, stats.DeadUnits)
	}
}

func TestContractiveTrainsAndReportsRobustness(t *testing.T) {
	ae, s := trainVariant(t, variantConfig(t, ModelContractive))
	j, err := ae.JacobianNormSq(s.TestInputs[:100*784], 100)
	if err != nil {
		t.Fatal(err)
	}
	sens, err := ae.CodeSensitivity(s.TestInputs, s.NTest, 0.05, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !(j > 0) || !(sens > 0) {
		t.Errorf("Jacobian ‖J‖² %g and sensitivity %g should be positive", j, sens)
	}
	t.Logf("contractive: ‖J‖²_F %.3f, sensitivity %.4f", j, sens)
}

// TestJacobianNormMatchesFiniteDifferences checks the graph's weights and masks against the
// encoder itself: ‖J‖²_F ≈ Σ_i ‖E(x + h e_i) − E(x)‖² / h² over the 784 input directions.
func TestJacobianNormMatchesFiniteDifferences(t *testing.T) {
	for _, model := range []string{ModelContractive, ModelSparse} {
		ae, err := New(variantConfig(t, model))
		if err != nil {
			t.Fatal(err)
		}
		x := loadMNIST(t).Test.Image(0)
		const h = 1e-2
		batch := make([]float32, 785*784)
		for i := range 785 {
			copy(batch[i*784:], x)
			if i > 0 {
				batch[i*784+i-1] += h
			}
		}
		codes, err := ae.Encode(batch, 785)
		if err != nil {
			t.Fatal(err)
		}
		m := ae.Arch.LatentSize()
		var fd float64
		for i := 1; i <= 784; i++ {
			for k := range m {
				d := float64(codes[i*m+k]-codes[k]) / h
				fd += d * d
			}
		}
		j, err := ae.JacobianNormSq(x, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !near(j, fd, 0.05) {
			t.Errorf("%s: ‖J‖² %g, finite differences %g", model, j, fd)
		}
	}
}

func TestVAETrainsSamplesAndInterpolates(t *testing.T) {
	cfg := variantConfig(t, ModelVAE)
	cfg.LatentDim = 2
	ae, s := trainVariant(t, cfg)
	kl, err := ae.LatentKL(s.TestInputs, s.NTest)
	if err != nil {
		t.Fatal(err)
	}
	if !(kl > 0) {
		t.Errorf("latent KL %g should be positive", kl)
	}
	t.Logf("vae (2-D): KL %.3f nats per example", kl)
	mean, _, err := ae.EncodeDistribution(s.TestInputs[:3*784], 3)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := ae.Encode(s.TestInputs[:3*784], 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mean, codes) {
		t.Errorf("Encode should return the mean μ: %v vs %v", codes, mean)
	}
	checkImages := func(what string, imgs []float32, n int, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(imgs) != n*784 {
			t.Fatalf("%s: %d values, want %d", what, len(imgs), n*784)
		}
		for _, v := range imgs {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s: pixel %g outside [0,1]", what, v)
			}
		}
	}
	samples, err := ae.Sample(8, 1)
	checkImages("Sample", samples, 8, err)
	line, err := ae.Interpolate(s.TestInputs[:784], s.TestInputs[784:2*784], 5)
	checkImages("Interpolate", line, 5, err)
	grid, err := ae.LatentGrid(4, 2)
	checkImages("LatentGrid", grid, 16, err)
	// The line's ends are the two images' reconstructions.
	rec, err := ae.Reconstruct(s.TestInputs[:2*784], 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 784 {
		if !near(float64(line[i]), float64(rec[i]), 1e-4) || !near(float64(line[4*784+i]), float64(rec[784+i]), 1e-4) {
			t.Fatalf("interpolation ends differ from reconstructions at pixel %d", i)
		}
	}
	var buf bytes.Buffer
	if err := WriteLatentCSV(&buf, codes, 2, loadMNIST(t).Test.Labels[:3]); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 4 || lines[0] != "z1,z2,label" {
		t.Errorf("latent CSV: %q", buf.String())
	}
}

func TestVariantConfigsRoundTripAndValidate(t *testing.T) {
	for _, model := range []string{ModelSparse, ModelContractive, ModelVAE} {
		cfg, err := DefaultConfig(model)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s default: %v", model, err)
		}
		raw, _ := json.Marshal(cfg)
		var back Config
		if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, cfg) {
			t.Errorf("%s: JSON round trip %s gave %+v (%v)", model, raw, back, err)
		}
	}
	bad := map[string]func(*Config){
		"sparse penalty": func(c *Config) { c.Model, c.Penalty = ModelSparse, "l2" },
		"sparse rho":     func(c *Config) { c.Model, c.Rho = ModelSparse, 1 },
		"lambda":         func(c *Config) { c.Model, c.Lambda = ModelContractive, -1 },
		"latent":         func(c *Config) { c.Model, c.LatentDim = ModelVAE, 0 },
	}
	for name, breakIt := range bad {
		cfg, _ := DefaultConfig(ModelSparse)
		vae, _ := DefaultConfig(ModelVAE)
		cfg.LatentDim, cfg.Beta = vae.LatentDim, vae.Beta
		breakIt(&cfg)
		if cfg.Model == ModelVAE {
			cfg.Widths = vae.Widths
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
	total, enc, _ := Variational(784, 2, 1, 256, 128).Params()
	if want := 784*256 + 256 + 256*128 + 128 + 2*(128*2+2); enc != want || total <= enc {
		t.Errorf("vae encoder params %d, want %d", enc, want)
	}
}
