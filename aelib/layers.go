package aelib

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// This file is the table of layer kinds: for each, its output shape and parameter count, its
// forward pass (the one every graph builds: inference, validation, and training with
// graph.Gradient) and, where one is written, a training form with a hand-written gradient
// (handforms.go). A layer kind without a hand-written gradient still trains everywhere: the
// backward pass differentiates its forward pass with graph.Gradient (gradients.go). A new layer
// kind is one entry here.

// layerRule is what aelib knows of one layer kind.
type layerRule struct {
	// shape is the layer's output shape for input shape in (both without the batch axis) and
	// its number of trainable values.
	shape func(l Layer, in []int) (out []int, params int, err error)
	// forward builds the layer on x, before its activation.
	forward func(f *forward, l Layer, x *Node) *Node
	// hand, when set, is the layer's training form with a hand-written gradient: the same
	// function of x and the weights as forward, and its backward pass. nil: graph.Gradient.
	hand func(f *forward, l Layer, x *Node) (y *Node, back backwardFn)
	// random, when set, says whether the layer draws random numbers in training.
	random func(l Layer) bool
}

// backwardFn turns dy, the gradient of the loss by a layer's output, into the gradient by its
// input (nil when needInput is false), adding the gradients of the layer's weights to grads
// (by weight path).
type backwardFn func(dy *Node, grads map[string]*Node, needInput bool) (dx *Node)

// layerRules is the table of layer kinds.
var layerRules = map[LayerKind]layerRule{
	KindDense: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if len(in) != 1 || l.Units <= 0 {
				return nil, 0, fmt.Errorf("Dense needs a flat input (Reshape first) and units > 0, got %v and %d", in, l.Units)
			}
			return []int{l.Units}, in[0]*l.Units + l.Units, nil
		},
		forward: func(f *forward, l Layer, x *Node) *Node {
			y, _, _ := f.dense(f.scope.At("%s", l.Name), x, l.Units)
			return y
		},
		hand: handDense,
	},
	KindConv: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if len(in) != 3 {
				return nil, 0, fmt.Errorf("Conv2D needs an image (H,W,C) input, got %v", in)
			}
			if l.Units <= 0 {
				return nil, 0, fmt.Errorf("Conv2D needs filters (units) > 0, got %d", l.Units)
			}
			return []int{in[0], in[1], l.Units}, 3*3*in[2]*l.Units + l.Units, nil
		},
		forward: func(f *forward, l Layer, x *Node) *Node {
			kernel, bias := f.convWeights(l, x)
			return Add(f.ops.conv3x3(x, kernel), Reshape(bias, 1, 1, 1, l.Units))
		},
		hand: handConv,
	},
	KindMaxPool: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if len(in) != 3 || in[0]%2 != 0 || in[1]%2 != 0 {
				return nil, 0, fmt.Errorf("MaxPooling2D needs an (H,W,C) input with even H and W, got %v", in)
			}
			return []int{in[0] / 2, in[1] / 2, in[2]}, 0, nil
		},
		forward: func(f *forward, _ Layer, x *Node) *Node { return f.ops.maxPool2(x) },
		hand: func(_ *forward, _ Layer, x *Node) (*Node, backwardFn) {
			y, picks := maxPool2Pairs(x)
			return y, func(dy *Node, _ map[string]*Node, _ bool) *Node { return maxPool2PairsGrad(picks, dy) }
		},
	},
	KindUpSample: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if len(in) != 3 {
				return nil, 0, fmt.Errorf("UpSampling2D needs an (H,W,C) input, got %v", in)
			}
			return []int{in[0] * 2, in[1] * 2, in[2]}, 0, nil
		},
		forward: func(_ *forward, _ Layer, x *Node) *Node { return upSample2(x) },
		hand: func(_ *forward, _ Layer, x *Node) (*Node, backwardFn) {
			return upSample2Pairs(x), func(dy *Node, _ map[string]*Node, _ bool) *Node { return upSample2PairsGrad(dy) }
		},
	},
	KindReshape: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if product(l.Shape) != product(in) {
				return nil, 0, fmt.Errorf("cannot reshape %v to %v", in, l.Shape)
			}
			return append([]int(nil), l.Shape...), 0, nil
		},
		forward: func(_ *forward, l Layer, x *Node) *Node {
			return Reshape(x, append([]int{x.Shape().Dimensions[0]}, l.Shape...)...)
		},
		hand: func(_ *forward, l Layer, x *Node) (*Node, backwardFn) {
			in := x.Shape().Dimensions
			y := Reshape(x, append([]int{in[0]}, l.Shape...)...)
			return y, func(dy *Node, _ map[string]*Node, _ bool) *Node { return Reshape(dy, in...) }
		},
	},
	KindDropout: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if !(l.Rate >= 0 && l.Rate < 1) {
				return nil, 0, fmt.Errorf("Dropout needs a rate in [0,1), got %g", l.Rate)
			}
			return append([]int(nil), in...), 0, nil
		},
		forward: func(f *forward, l Layer, x *Node) *Node {
			if !f.training || l.Rate == 0 {
				return x
			}
			keep := ConvertDType(GreaterOrEqual(f.randomUniform(x.Shape()), Scalar(x.Graph(), x.DType(), l.Rate)), x.DType())
			return Mul(x, MulScalar(keep, 1/(1-l.Rate)))
		},
		random: func(l Layer) bool { return l.Rate > 0 },
	},
	KindGaussian: {
		shape: func(l Layer, in []int) ([]int, int, error) {
			if len(in) != 1 || l.Units <= 0 {
				return nil, 0, fmt.Errorf("Gaussian needs a flat input and units > 0, got %v and %d", in, l.Units)
			}
			return []int{l.Units}, 2 * (in[0]*l.Units + l.Units), nil
		},
		forward: gaussianForward, // vae.go
		random:  func(Layer) bool { return true },
	},
}

// activationRule is one activation: applied to a layer's output, and, where written, its
// gradient from the activated output y.
type activationRule struct {
	apply func(z *Node) *Node
	grad  func(y, dy *Node) *Node // nil: graph.Gradient
}

// activationRules is the table of activations; "" is linear.
var activationRules = map[Activation]activationRule{
	"":        {apply: func(z *Node) *Node { return z }, grad: func(_, dy *Node) *Node { return dy }},
	ActLinear: {apply: func(z *Node) *Node { return z }, grad: func(_, dy *Node) *Node { return dy }},
	ActReLU: {
		apply: func(z *Node) *Node { return Max(z, ScalarZero(z.Graph(), z.DType())) },
		grad: func(y, dy *Node) *Node { // dy·[y > 0]: a product with a 0/1 mask runs faster than Where
			return Mul(dy, ConvertDType(GreaterThan(y, ScalarZero(y.Graph(), y.DType())), dy.DType()))
		},
	},
	ActSigmoid: {
		apply: Sigmoid,
		grad:  func(y, dy *Node) *Node { return Mul(dy, Mul(y, OneMinus(y))) },
	},
	ActTanh: {apply: Tanh},
}

// ruleOf is the table entry of a layer kind; Architecture.Shapes refuses unknown kinds first.
func ruleOf(kind LayerKind) layerRule {
	r, ok := layerRules[kind]
	if !ok {
		panic(fmt.Sprintf("aelib: unknown layer kind %q", kind))
	}
	return r
}

// drawsRandom reports whether a layer of a draws random numbers in training.
func (a Architecture) drawsRandom() bool {
	for _, l := range a.Layers {
		if r, ok := layerRules[l.Kind]; ok && r.random != nil && r.random(l) {
			return true
		}
	}
	return false
}

// HasHandGradient reports whether a layer trains with a hand-written gradient on the backends
// that use them (ONNX Runtime): its kind and its activation both have one. The others train
// with graph.Gradient's.
func (l Layer) HasHandGradient() bool {
	r, ok := layerRules[l.Kind]
	act, okAct := activationRules[l.Activation]
	return ok && okAct && r.hand != nil && act.grad != nil
}

// upSample2 repeats every pixel of [B,H,W,C] into a 2×2 block: [B,2H,2W,C]. Broadcast and
// reshape work (with gradients) on every backend, unlike Interpolate, which ONNX Runtime lacks.
func upSample2(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	x = Reshape(x, b, h, 1, w, 1, c)
	x = BroadcastToDims(x, b, h, 2, w, 2, c)
	return Reshape(x, b, 2*h, 2*w, c)
}

// convWeights are a Conv2D layer's kernel [3,3,Cin,Cout] and biases [Cout] for input x.
func (f *forward) convWeights(l Layer, x *Node) (kernel, bias *Node) {
	s := f.scope.At("%s", l.Name).At("conv")
	in := x.Shape().Dimensions[3]
	kernel = f.weight(s, "weights", shapes.Make(x.DType(), 3, 3, in, l.Units))
	bias = f.weight(s, "biases", shapes.Make(x.DType(), l.Units))
	return kernel, bias
}
