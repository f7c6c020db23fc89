package aelib

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// This file builds the GoMLX graphs of an Architecture. Layers create their variables under
// scope.At(layer.Name), with the names and shapes GoMLX's own layers use ("dense/weights" is
// [in,out], "conv/weights" is [3,3,in,out]), so checkpoints move between backends. Layers get
// their weights through layerWeight, which the on-device training loop redirects to plain
// nodes (devicetrain.go): the layer math has one source for both paths.

// applyLayers runs layers[from:to] on x and returns the result. The output layer returns logits:
// its sigmoid is left to the caller.
func (a Architecture) applyLayers(scope *model.Scope, x *Node, from, to int) *Node {
	ops := opsFor(x.Graph().Backend().Name())
	for _, l := range a.Layers[from:to] {
		x = applyLayer(scope.At("%s", l.Name), ops, l, x)
	}
	return x
}

func applyLayer(scope *model.Scope, ops graphOps, l Layer, x *Node) *Node {
	batch := x.Shape().Dimensions[0]
	switch l.Kind {
	case KindDense:
		x, _ = denseLayer(scope, x, l.Units)
	case KindGaussian: // outside training the code is the mean (see vae.go)
		x, _ = gaussianParams(scope, x, l.Units)
	case KindConv:
		s := scope.At("conv")
		in := x.Shape().Dimensions[3]
		w := layerWeight(s, x.Graph(), "weights", shapes.Make(x.DType(), 3, 3, in, l.Units))
		b := layerWeight(s, x.Graph(), "biases", shapes.Make(x.DType(), l.Units))
		x = Add(ops.conv3x3(x, w), Reshape(b, 1, 1, 1, l.Units))
	case KindMaxPool:
		x = ops.maxPool2(x)
	case KindUpSample:
		x = upSample2(x)
	case KindReshape:
		x = Reshape(x, append([]int{batch}, l.Shape...)...)
	default:
		panic("aelib: layer kind " + string(l.Kind) + " is built by its model, not applyLayer")
	}
	switch {
	case l.Activation == ActReLU:
		x = Max(x, ZerosLike(x))
	case l.Activation == ActSigmoid && l.Encoder:
		// A sigmoid code (the sparse model's bottleneck). The decoder's sigmoid output layer
		// keeps its logits: callers apply that sigmoid where they need probabilities.
		x = Sigmoid(x)
	}
	return x
}

// denseLayer is x·W + b with W [in,units] and b [units] under scope/dense; it returns the
// result and the weights node (the contractive penalty needs W).
func denseLayer(scope *model.Scope, x *Node, units int) (y, w *Node) {
	s := scope.At("dense")
	in := x.Shape().Dimensions[x.Rank()-1]
	w = layerWeight(s, x.Graph(), "weights", shapes.Make(x.DType(), in, units))
	b := layerWeight(s, x.Graph(), "biases", shapes.Make(x.DType(), units))
	return Add(Dot(x, w).Product(), Reshape(b, 1, units)), w
}

// encoderEnd is the index of the first decoder layer.
func (a Architecture) encoderEnd() int {
	for i, l := range a.Layers {
		if !l.Encoder {
			return i
		}
	}
	return len(a.Layers)
}

// Encode builds the encoder: flat images [B,784] → codes [B, latent...].
func (a Architecture) Encode(scope *model.Scope, x *Node) *Node {
	return a.applyLayers(scope, x, 0, a.encoderEnd())
}

// DecodeLogits builds the decoder: codes [B, latent...] → logits [B,784].
func (a Architecture) DecodeLogits(scope *model.Scope, z *Node) *Node {
	return a.applyLayers(scope, z, a.encoderEnd(), len(a.Layers))
}

// Logits builds the whole autoencoder: flat images [B,784] → logits [B,784].
func (a Architecture) Logits(scope *model.Scope, x *Node) *Node {
	return a.applyLayers(scope, x, 0, len(a.Layers))
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
