package aelib

import (
	"fmt"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/aelab/aelab/aelib/data"
)

// The contractive autoencoder (course §1.1.5): the dense 784-256-128-32 model whose loss adds
// λ‖J(x)‖²_F, the squared Frobenius norm of the encoder's Jacobian ∂E(x)/∂x, averaged over the
// batch's real examples, so that the code changes little when the input moves a little.
//
// How the Jacobian is computed: exactly, in closed form. A dense encoder is
// h_l = φ_l(h_{l−1}·W_l + b_l), so J = D_L W_Lᵀ … D_1 W_1ᵀ with D_l = diag(φ_l′) (ReLU: the 0/1
// mask of the active units; sigmoid: h(1−h)). JacobianFrobeniusSq multiplies the per-example
// masked matrices from the code side, [m,out_{L−1}] … down to [m,out_1], and finishes with
// ‖J‖² = trace(V C Vᵀ) where V = M·D_1 and C = W_1ᵀW_1 is computed once per batch, so the 784-wide
// input never appears per example. For 784-256-128-32 that is ≈3.2 M multiply-adds per example
// (the forward pass is ≈0.24 M): a contractive step costs several times a plain one, the price of
// an exact penalty (a random-projection estimator would be cheaper but noisy). With one hidden
// layer it is the classic Σ_j φ′_j² ‖W_·j‖².
//
// ReLU masks are constants for the gradient (their derivative is zero almost everywhere), so the
// penalty trains the weights only, which is the exact gradient of ‖J‖² wherever it exists.

// DefaultContractiveLambda is the contractive model's default penalty weight: it shrinks the
// encoder's Jacobian by two orders of magnitude for a small rise of val_bce
// (docs/performance.md, "Penalty weights").
const DefaultContractiveLambda = 1e-3

// Contractive is the contractive autoencoder: Dense("contractive", input, widths...) with the
// penalty ContractivePenalty(lambda).
func Contractive(input int, lambda float64, widths ...int) Architecture {
	a := Dense(ModelContractive, input, widths...)
	a.Penalties = []Penalty{ContractivePenalty(lambda)}
	return a
}

// ContractivePenalty is λ‖J(x)‖²_F of the model's dense encoder, averaged over the batch's real
// examples.
func ContractivePenalty(lambda float64) Penalty {
	return Penalty{Name: "jacobian", Term: func(t Trace) *Node {
		return MulScalar(MaskedMean(encoderJacobianSq(t.f, t.arch), t.Mask()), lambda)
	}}
}

// JacobianFrobeniusSq builds ‖J‖²_F [B] of a dense encoder from its weights (W_l [in_l, out_l],
// first layer first) and the derivatives of its activations at the example (φ′_l [B, out_l]):
// J = diag(φ′_L) W_Lᵀ … diag(φ′_1) W_1ᵀ.
func JacobianFrobeniusSq(weights, derivatives []*Node) *Node {
	L := len(weights)
	if L == 0 || len(derivatives) != L {
		panic(fmt.Sprintf("aelib: JacobianFrobeniusSq needs one derivative per weight matrix, got %d and %d", L, len(derivatives)))
	}
	if L == 1 { // Σ_j φ′_j² ‖W_·j‖²
		colNorms := ExpandAxes(ReduceSum(Square(weights[0]), 0), 0)
		return ReduceSum(Mul(Square(derivatives[0]), colNorms), 1)
	}
	// M = diag(φ′_L) W_Lᵀ: [B, m, in_L].
	m := Mul(ExpandAxes(derivatives[L-1], -1), ExpandAxes(Transpose(weights[L-1], 0, 1), 0))
	for l := L - 2; l >= 1; l-- { // M ← M diag(φ′_l) W_lᵀ: [B, m, in_l]
		m = Einsum("bij,kj->bik", Mul(m, ExpandAxes(derivatives[l], 1)), weights[l])
	}
	v := Mul(m, ExpandAxes(derivatives[0], 1))                  // [B, m, out_1]
	c := Einsum("ij,ik->jk", weights[0], weights[0])            // W_1ᵀW_1: [out_1, out_1]
	return ReduceSum(Mul(Einsum("bij,jk->bik", v, c), v), 1, 2) // trace(V C Vᵀ) per example
}

// encoderJacobianSq builds ‖J‖²_F [B] of a dense encoder from the forward pass f, which ran it:
// each layer's weight matrix, and its activation's derivative from its output. It panics (a
// programmer error) when the encoder has a layer other than Dense.
func encoderJacobianSq(f *forward, a Architecture) *Node {
	var weights, derivs []*Node
	for _, e := range f.tape[:a.encoderEnd()] {
		if e.layer.Kind != KindDense {
			panic(fmt.Sprintf("aelib: the encoder Jacobian needs dense layers, %s is %s", e.layer.Name, e.layer.Kind))
		}
		y := e.out
		var d *Node
		switch e.act {
		case ActReLU:
			d = StopGradient(ConvertDType(GreaterThan(y, ZerosLike(y)), y.DType()))
		case ActSigmoid:
			d = Mul(y, OneMinus(y))
		case ActTanh:
			d = OneMinus(Square(y))
		default:
			d = OnesLike(y)
		}
		weights, derivs = append(weights, e.weights[0].node), append(derivs, d)
	}
	return JacobianFrobeniusSq(weights, derivs)
}

// denseEncoder reports whether every encoder layer is Dense (the Jacobian functions need it).
func (a Architecture) denseEncoder() bool {
	for _, l := range a.Layers[:a.encoderEnd()] {
		if l.Kind != KindDense {
			return false
		}
	}
	return a.encoderEnd() > 0
}

// JacobianNormSq returns the mean over n flat images of ‖∂E(x)/∂x‖²_F, the squared Frobenius
// norm of the encoder's Jacobian (the contractive penalty before its weight λ). It works for
// every model with a dense encoder (vanilla, deep, sparse, contractive), so they can be compared.
func (ae *Autoencoder) JacobianNormSq(images []float32, n int) (float64, error) {
	if !ae.Arch.denseEncoder() {
		return 0, fmt.Errorf("aelib: JacobianNormSq needs a dense encoder; model %s has another", ae.Config.Model)
	}
	if n <= 0 {
		return 0, fmt.Errorf("aelib: JacobianNormSq needs images")
	}
	perImage, err := ae.runNamed("jacobian", func(scope *model.Scope, x *Node) *Node {
		f := newForward(ae.scope(), x.Graph())
		f.run(ae.Arch, x, 0, ae.Arch.encoderEnd())
		return ExpandAxes(encoderJacobianSq(f, ae.Arch), -1)
	}, images, n, data.Pixels, 1)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, v := range perImage {
		sum += float64(v)
	}
	return sum / float64(n), nil
}

// CodeSensitivity measures how robust the codes are to small input noise: the mean over n flat
// images of ‖E(x+ε) − E(x)‖ / ‖ε‖ with ε ~ N(0, sigma²) per pixel (not clipped, seeded).
// For a small sigma it approaches the mean of ‖J u‖ over random directions u, i.e. about
// ‖J‖_F / √784; a contractive model should score lower than a plain one.
func (ae *Autoencoder) CodeSensitivity(images []float32, n int, sigma float64, seed uint64) (float64, error) {
	if n <= 0 || sigma <= 0 {
		return 0, fmt.Errorf("aelib: CodeSensitivity needs images and sigma > 0")
	}
	if len(images) != n*data.Pixels {
		return 0, fmt.Errorf("aelib: %d values for %d images", len(images), n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e45))
	noisy := make([]float32, len(images))
	noiseNorm := make([]float64, n)
	for i, v := range images {
		e := rng.NormFloat64() * sigma
		noisy[i] = v + float32(e)
		noiseNorm[i/data.Pixels] += e * e
	}
	clean, err := ae.Encode(images, n)
	if err != nil {
		return 0, err
	}
	moved, err := ae.Encode(noisy, n)
	if err != nil {
		return 0, err
	}
	m := ae.Arch.LatentSize()
	var total float64
	for i := range n {
		var d2 float64
		for j := i * m; j < (i+1)*m; j++ {
			d := float64(moved[j] - clean[j])
			d2 += d * d
		}
		total += math.Sqrt(d2) / math.Sqrt(noiseNorm[i])
	}
	return total / float64(n), nil
}

// runNamed is run with the graph kept in ae.execs[name], for the inference graphs beyond
// Encode, Decode and Reconstruct.
func (ae *Autoencoder) runNamed(name string, fn func(*model.Scope, *Node) *Node, in []float32, n, inWidth, outWidth int) ([]float32, error) {
	if ae.execs == nil {
		ae.execs = map[string]*model.Exec{}
	}
	exec := ae.execs[name]
	out, err := ae.run(&exec, fn, in, n, inWidth, outWidth)
	ae.execs[name] = exec
	return out, err
}
