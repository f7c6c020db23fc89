package aelib

import (
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
)

// graphOps holds the graph code that differs between backends. It is chosen once per graph by
// opsFor; the models never test the backend themselves.
type graphOps struct {
	conv3x3  func(x, kernel *Node) *Node // [B,H,W,Cin] × [3,3,Cin,Cout] → [B,H,W,Cout], 'same' padding
	maxPool2 func(x *Node) *Node         // [B,H,W,C] → [B,H/2,W/2,C]
	// handGradients: training uses the hand-written gradients of the layers that have one
	// (layerRules), where graph.Gradient's output runs slowly: ONNX Runtime.
	handGradients bool
	// deviceLoop: training runs a whole epoch per call, a graph.While with the gradients in its
	// body (devicetrain.go): XLA, where per-call overhead dominates a step and While bodies
	// with gradients run (the pure-Go backend's do not).
	deviceLoop bool
	// dataParallel: the step engine may split a batch into shards that run at the same time,
	// one session each (stepShards says when): ONNX Runtime, where the backend lets sessions
	// run concurrently (aelab's patched copy of it).
	dataParallel bool
}

// opsFor returns the graph code for a backend. XLA and ONNX Runtime have fast native
// convolution and max-pooling with gradients. GoMLX's pure-Go backend has neither: its
// convolution is a naive loop, far slower than a matrix product (docs/performance.md, "The pure-Go backend"), and
// max-pool's gradient (SelectAndScatterMax) is not implemented, so there we use shifted views
// with one matrix multiplication, and a reshape with ReduceMax.
func opsFor(backendName string) graphOps {
	switch name := strings.ToLower(backendName); {
	case strings.HasPrefix(name, "go"): // the pure-Go backend is "Go Backend"
		return graphOps{conv3x3: conv3x3ShiftedViews, maxPool2: maxPool2Reshape}
	case name == "onnxruntime":
		return graphOps{conv3x3: conv3x3Native, maxPool2: maxPool2Native, handGradients: true,
			dataParallel: onnxSessionsRunConcurrently()}
	case name == "xla":
		return graphOps{conv3x3: conv3x3Native, maxPool2: maxPool2Native, deviceLoop: true}
	}
	return graphOps{conv3x3: conv3x3Native, maxPool2: maxPool2Native}
}

func conv3x3Native(x, kernel *Node) *Node {
	return Convolve(x, kernel).PadSame().Done()
}

func maxPool2Native(x *Node) *Node {
	return MaxPool(x).Window(2).Done()
}

// conv3x3ShiftedViews computes a 3×3 'same' convolution as the 9 shifted views of the
// zero-padded input, concatenated on the channel axis, times the kernel as one matrix.
// Padding is done by concatenating zeros because graph.Pad has no gradient.
func conv3x3ShiftedViews(x, kernel *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	patches := Reshape(shiftedViews(x, 1), b*h*w, 9*cin)
	return Reshape(Dot(patches, Reshape(kernel, 9*cin, cout)).Product(), b, h, w, cout)
}

// maxPool2Reshape takes the maximum of each 2×2 block by reshaping [B,H,W,C] to
// [B,H/2,2,W/2,2,C] and reducing the two block axes.
func maxPool2Reshape(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	return ReduceMax(Reshape(x, b, h/2, 2, w/2, 2, c), 2, 4)
}
