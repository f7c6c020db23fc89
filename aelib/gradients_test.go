package aelib

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// testBackends are the backends the formulation tests run on: the pure-Go one always, ONNX
// Runtime where aelab was built with it and its library is installed.
func testBackends(t *testing.T) map[string]compute.Backend {
	t.Helper()
	out := map[string]compute.Backend{}
	configs := []BackendChoice{{Config: "go", Name: "go"}}
	if onnxForTests(t) {
		configs = append(configs, BackendChoice{Config: "onnx:cpu", Name: "onnx"})
	}
	for _, c := range configs {
		b, err := NewBackendFor(c)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Name] = b
	}
	return out
}

func randomTensor(rng *rand.Rand, scale float64, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// compareTensors fails when a and b differ by more than tol relative to b's largest value.
func compareTensors(t *testing.T, what string, a, b *tensors.Tensor, tol float64) {
	t.Helper()
	if !a.Shape().Equal(b.Shape()) {
		t.Errorf("%s: shapes %s and %s", what, a.Shape(), b.Shape())
		return
	}
	av, bv := tensors.MustCopyFlatData[float32](a), tensors.MustCopyFlatData[float32](b)
	var worst, scale float64
	for i := range av {
		worst = max(worst, math.Abs(float64(av[i]-bv[i])))
		scale = max(scale, math.Abs(float64(bv[i])))
	}
	if worst > tol*max(scale, 1e-6) {
		t.Errorf("%s: differs by up to %g (largest value %g)", what, worst, scale)
	}
}

// The hand-written backward pass equals graph.Gradient of the whole loss, loss included, on a
// small batch with a padded (masked) row, on each backend: for the course's models (every layer
// written by hand), for the models with penalties (graph.Gradient's gradient of the penalty
// added), and for architectures with layers that have no hand-written gradient (Dropout, a
// tanh activation, the Gaussian code: each differentiated alone by graph.Gradient). Both
// passes draw the same random numbers from one random state.
func TestHandGradientsMatchAutodiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type model struct {
		name string
		cfg  Config
		arch Architecture
	}
	var models []model
	for _, m := range []string{ModelVanilla, ModelDeep, ModelDenoise, ModelSparse, ModelContractive, ModelVAE} {
		cfg, _ := DefaultConfig(m)
		models = append(models, model{m, cfg, mustArch(t, cfg)})
	}
	custom, _ := DefaultConfig(ModelVanilla)
	models = append(models, model{"custom", custom, customArchitecture()})
	for name, backend := range testBackends(t) {
		for _, m := range models {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				ae := newOnBackend(m.cfg, m.arch, backend, BackendChoice{Name: name})
				ts, err := newTrainState(ae, 8)
				if err != nil {
					t.Fatal(err)
				}
				const batch = 5
				x := randomTensor(rng, 1, batch, 784)
				tensors.MustMutableFlatData(x, func(v []float32) {
					for i := range v {
						v[i] = float32(1 / (1 + math.Exp(-float64(v[i])))) // images in (0,1)
					}
				})
				target := randomTensor(rng, 1, batch, 784)
				tensors.MustMutableFlatData(target, func(v []float32) {
					for i := range v {
						v[i] = float32(math.Round(1 / (1 + math.Exp(-float64(v[i])))))
					}
				})
				mask := tensors.FromValue([]float32{1, 1, 1, 1, 0})
				P := len(ts.weights)
				fn := func(in []*Node) []*Node {
					x, target, mask, rngState, weights := in[0], in[1], in[2], in[3], in[4:]
					var out []*Node
					for _, hand := range []bool{true, false} {
						f := newForward(ae.scope(), x.Graph())
						f.hand = hand
						if m.arch.drawsRandom() {
							f.rng = rngState
						}
						loss, grads := m.arch.lossAndGradients(f, x, target, mask, exampleCount(mask), ts.paths, weights)
						out = append(append(out, loss), grads...)
					}
					return out
				}
				exec, err := NewExec(backend, fn)
				if err != nil {
					t.Fatal(err)
				}
				args := []any{x, target, mask, ts.rng}
				for _, w := range ts.weights {
					args = append(args, w)
				}
				out, err := exec.Call(args...)
				if err != nil {
					t.Fatal(err)
				}
				compareTensors(t, "loss", out[0], out[1+P], 1e-5)
				for i := range P {
					compareTensors(t, "gradient of "+ts.paths[i], out[1+i], out[2+P+i], 1e-4)
				}
			})
		}
	}
}

// customArchitecture is a dense autoencoder with layers that have no hand-written gradient: a
// Dropout, a tanh activation, and a penalty of its own (an L2 penalty on the code).
func customArchitecture() Architecture {
	return Architecture{Name: "custom-tanh-dropout", Input: []int{784}, Layers: []Layer{
		{Name: "enc_dense1", Kind: KindDense, Units: 64, Activation: ActReLU, Encoder: true},
		{Name: "enc_dropout", Kind: KindDropout, Rate: 0.2, Encoder: true},
		{Name: "enc_code", Kind: KindDense, Units: 16, Activation: ActTanh, Encoder: true},
		{Name: "dec_dense1", Kind: KindDense, Units: 64, Activation: ActReLU},
		{Name: "output", Kind: KindDense, Units: 784, Activation: ActSigmoid},
	}, Penalties: []Penalty{{Name: "code_l2", Term: func(t Trace) *Node {
		return MulScalar(MaskedMean(ReduceSum(Square(t.Code()), 1), t.Mask()), 1e-3)
	}}}}
}

// Max-pooling in pairs computes the 6-D reduction's maximum and sends each window's gradient
// to its first maximum where values tie, as GoMLX's own MaxPool gradient does (XLA's
// SelectAndScatter; checked on ONNX Runtime on a tensor full of ties); upsampling in pairs
// matches the broadcast form and its graph.Gradient. On each backend.
func TestPoolingPairsMatchAutodiff(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{
		1, 1, 2, 0,
		1, 1, 2, 2,
		0, 3, 5, 5,
		3, 3, 5, 4,
	}, 1, 4, 4, 1)
	dy := tensors.FromFlatDataAndDimensions([]float32{10, 20, 30, 40}, 1, 2, 2, 1)
	wantGrad := []float32{
		10, 0, 20, 0,
		0, 0, 0, 0,
		0, 30, 40, 0,
		0, 0, 0, 0,
	}
	rng := rand.New(rand.NewPCG(5, 6))
	up, dUp := randomTensor(rng, 1, 2, 3, 2, 4), randomTensor(rng, 1, 2, 6, 4, 4)
	backends := testBackends(t)
	for name, backend := range backends {
		t.Run(name, func(t *testing.T) {
			up, dUp := localClone(t, up), localClone(t, dUp) // a tensor lives on one backend
			exec, err := NewExec(backend, func(x, dy, up, dUp *Node) []*Node {
				pooled, picks := maxPool2Pairs(x)
				grad := maxPool2PairsGrad(picks, dy)
				upRef := upSample2(up)
				upGrad := Gradient(ReduceAllSum(Mul(upRef, dUp)), up)[0]
				return []*Node{pooled, maxPool2Reshape(x), grad, upSample2Pairs(up), upRef, upSample2PairsGrad(dUp), upGrad}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(localClone(t, x), localClone(t, dy), up, dUp)
			if err != nil {
				t.Fatal(err)
			}
			compareTensors(t, "pooled", out[0], out[1], 0)
			if got := tensors.MustCopyFlatData[float32](out[2]); !slices.Equal(got, wantGrad) {
				t.Errorf("maxPool2PairsGrad = %v, want %v", got, wantGrad)
			}
			compareTensors(t, "upsampled", out[3], out[4], 0)
			compareTensors(t, "upsampling's gradient", out[5], out[6], 1e-6)
		})
	}
	// The expected gradient is GoMLX's own max-pooling gradient (XLA's SelectAndScatter
	// semantics; the Go backend has none, and its 6-D ReduceMax's gradient goes to every tie).
	if backends["onnx"] == nil {
		return
	}
	exec, err := NewExec(backends["onnx"], func(x, dy *Node) *Node {
		return Gradient(ReduceAllSum(Mul(maxPool2Native(x), dy)), x)[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](exec.MustCall(localClone(t, x), localClone(t, dy))[0]); !slices.Equal(got, wantGrad) {
		t.Errorf("graph.Gradient of MaxPool on ONNX Runtime = %v, want %v", got, wantGrad)
	}
}

// localClone is a copy of t that is on no backend yet: a tensor lives on one backend.
func localClone(t *testing.T, x *tensors.Tensor) *tensors.Tensor {
	t.Helper()
	c, err := x.LocalClone()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Both forms of the convolution (convFormFor: 1 → 8 and 8 → 8 patches, 32 → 1 product)
// compute what GoMLX's own convolution does, forward and backward.
func TestConvMatmulFormsMatchConvolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	backend := testBackends(t)["go"]
	for _, c := range [][2]int{{1, 8}, {8, 8}, {32, 1}} {
		cin, cout := c[0], c[1]
		x, k, bias := randomTensor(rng, 1, 2, 6, 4, cin), randomTensor(rng, 0.3, 3, 3, cin, cout), randomTensor(rng, 1, cout)
		dy := randomTensor(rng, 1, 2, 6, 4, cout)
		exec, err := NewExec(backend, func(x, k, bias, dy *Node) []*Node {
			ops := opsFor(backend.Name())
			y, patches := conv3x3Train(x, k, bias)
			dk, dx := conv3x3TrainGrads(ops, x, k, patches, dy, true)
			ref := Add(Convolve(x, k).PadSame().Done(), Reshape(bias, 1, 1, 1, cout))
			grads := Gradient(ReduceAllSum(Mul(ref, dy)), k, x)
			return []*Node{y, ref, dk, grads[0], dx, grads[1]}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call(x, k, bias, dy)
		if err != nil {
			t.Fatal(err)
		}
		compareTensors(t, "forward", out[0], out[1], 1e-5)
		compareTensors(t, "kernel gradient", out[2], out[3], 1e-5)
		compareTensors(t, "input gradient", out[4], out[5], 1e-5)
	}
}

// Both forms of the convolution of an upsampled image on the small image — the narrow one
// multiplied before upsampling (conv3x3UpProduct: 8 → 1, 8 → 3), the others from the small
// image's patches (conv3x3UpPatches: 4 → 4, 3 → 5) — compute what GoMLX's own convolution of the
// upsampled image does, forward and backward, the gradient by the small image through the
// upsampling included.
func TestConvUpFormsMatchConvolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for name, backend := range testBackends(t) {
		for _, c := range [][2]int{{8, 1}, {8, 3}, {4, 4}, {3, 5}} {
			cin, cout := c[0], c[1]
			z, k, bias := randomTensor(rng, 1, 2, 3, 4, cin), randomTensor(rng, 0.3, 3, 3, cin, cout), randomTensor(rng, 1, cout)
			dy := randomTensor(rng, 1, 2, 6, 8, cout)
			exec, err := NewExec(backend, func(z, k, bias, dy *Node) []*Node {
				var y, dk, dz *Node
				if convFormFor(cin, cout) == convProduct {
					y = conv3x3UpProduct(z, k, bias)
					dk, dz = conv3x3UpProductGrads(z, k, dy, true)
				} else {
					var patches, kall *Node
					y, patches, kall = conv3x3UpPatches(z, k, bias)
					dk, dz = conv3x3UpPatchesGrads(patches, kall, dy, true)
				}
				ref := Add(Convolve(upSample2(z), k).PadSame().Done(), Reshape(bias, 1, 1, 1, cout))
				grads := Gradient(ReduceAllSum(Mul(ref, dy)), k, z)
				return []*Node{y, ref, dk, grads[0], dz, grads[1]}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(z, k, bias, dy)
			if err != nil {
				t.Fatalf("%s, %d → %d: %v", name, cin, cout, err)
			}
			compareTensors(t, name+" forward", out[0], out[1], 1e-5)
			compareTensors(t, name+" kernel gradient", out[2], out[3], 1e-5)
			compareTensors(t, name+" input gradient", out[4], out[5], 1e-5)
		}
	}
}

// On ONNX Runtime the course's models train with the host-driven step engine and hand-written
// gradients, and it follows GoMLX's train.Trainer (graph.Gradient, optimizer.Adam) step for
// step: same losses, same final weights and Adam state. The step's graph is written as an ONNX
// model when asked.
func TestStepEngineMatchesGoMLXTrainer(t *testing.T) {
	if !onnxForTests(t) {
		t.Skip("needs aelab built with -tags onnx and ONNX Runtime installed (make setup)")
	}
	for _, tc := range []struct {
		model        string
		train, batch int
		tol          float64
	}{
		{ModelDeep, 600, 256, 1e-4}, // last batch 88 of 256
		// A conv bias's gradient sums 16·784 terms that largely cancel, in another order than
		// graph.Gradient's; Adam's normalisation then magnifies the rounding where the gradient
		// is near zero.
		{ModelDenoise, 40, 16, 5e-3}, // last batch 8 of 16
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg, _ := DefaultConfig(tc.model)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, tc.train, 100, tc.batch
			graph := filepath.Join(t.TempDir(), "step.onnx")
			engine, _ := trainAndCompare(t, cfg, Architecture{}, "onnx:cpu", TrainOptions{StepGraph: graph}, smallSplits(t, cfg), tc.tol)
			if got := engine.Loop(TrainOptions{}); got != "step" {
				t.Errorf("engine on ONNX Runtime: %q, want the step engine with hand-written gradients", got)
			}
			// A protobuf that starts with ir_version, field 1: byte 0x08.
			if raw, err := os.ReadFile(graph); err != nil || len(raw) < 1000 || raw[0] != 0x08 {
				t.Errorf("step graph %s: %d bytes, %v", graph, len(raw), err)
			}
		})
	}
}

func mustArch(t *testing.T, cfg Config) Architecture {
	t.Helper()
	a, err := cfg.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// An interrupt stops the step engine between two steps, not at the end of the epoch (a conv
// epoch takes minutes on a CPU): with ctx already done, no step runs.
func TestStepEngineStopsWithinAnEpoch(t *testing.T) {
	if !onnxForTests(t) {
		t.Skip("needs aelab built with -tags onnx and ONNX Runtime installed (make setup)")
	}
	cfg, _ := DefaultConfig(ModelDeep)
	cfg.TrainSubset, cfg.TestSubset = 600, 100
	ae := newTestAE(t, cfg, "onnx:cpu")
	se, err := newStepEngine(ae, smallSplits(t, cfg), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.compile(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := se.adamT
	if _, err := se.epoch(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("epoch with a cancelled context: %v", err)
	}
	if se.adamT != before || se.globalStep != 0 {
		t.Errorf("a step ran: Adam's step %v, global step %d", se.adamT, se.globalStep)
	}
}

// The ONNX model GoMLX's ONNX Runtime backend compiles leaves out the nodes nothing uses
// (aelab's patch, third_party/compute-onnx/prune.go): ONNX Runtime would run them on every
// call. The hand forms rely on it where a layer reads an earlier layer's input instead of its
// output (conv3x3UpProduct, conv3x3UpPatches). Here an unused cosine is built beside the result.
func TestONNXModelLeavesOutUnusedNodes(t *testing.T) {
	backend := testBackends(t)["onnx"]
	if backend == nil {
		t.Skip("no ONNX Runtime backend here: build with -tags onnx and run `make setup`")
	}
	if err := keepONNXModels(backend); err != nil {
		t.Fatal(err)
	}
	exec, err := NewExec(backend, func(x *Node) *Node {
		_ = Cos(x)
		return Sigmoid(x)
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := exec.Compile(shapes.Make(dtypes.Float32, 4))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := writeONNXModel(backend, g.Executable(), path); err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(model, []byte("Sigmoid")) {
		t.Fatalf("the model has no Sigmoid node: not an ONNX model of the graph? (%d bytes)", len(model))
	}
	if bytes.Contains(model, []byte("Cos")) {
		t.Error("the model keeps the unused Cos node")
	}
}
