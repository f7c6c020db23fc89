package aelib

import (
	"strings"

	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph"
)

// graphOps holds the graph code that differs between backends. It is chosen once per graph by
// opsFor; the models never test the backend themselves.
type graphOps struct {
	conv3x3  func(x, kernel *Node) *Node // [B,H,W,Cin] × [3,3,Cin,Cout] → [B,H,W,Cout], 'same' padding
	maxPool2 func(x *Node) *Node         // [B,H,W,C] → [B,H/2,W/2,C]
}

// opsFor returns the graph code for a backend. XLA and ONNX Runtime have fast native
// convolution and max-pooling with gradients. GoMLX's pure-Go backend has neither: its
// convolution is a naive loop (≈23 s per training step of the denoising model) and max-pool's
// gradient (SelectAndScatterMax) is not implemented, so there we use shifted views with one
// matrix multiplication, and a reshape with ReduceMax.
func opsFor(backendName string) graphOps {
	if strings.HasPrefix(strings.ToLower(backendName), "go") { // the pure-Go backend is "Go Backend"
		return graphOps{conv3x3: conv3x3ShiftedViews, maxPool2: maxPool2Reshape}
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
	zRow := Zeros(x.Graph(), shapes.Make(x.DType(), b, 1, w, cin))
	x = Concatenate([]*Node{zRow, x, zRow}, 1)
	zCol := Zeros(x.Graph(), shapes.Make(x.DType(), b, h+2, 1, cin))
	x = Concatenate([]*Node{zCol, x, zCol}, 2)
	views := make([]*Node, 0, 9)
	for dy := range 3 { // row-major over (dy, dx), channels innermost: the kernel's own layout
		for dx := range 3 {
			views = append(views, Slice(x, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w), AxisRange()))
		}
	}
	patches := Reshape(Concatenate(views, 3), b*h*w, 9*cin)
	out := Dot(patches, Reshape(kernel, 9*cin, cout)).Product()
	return Reshape(out, b, h, w, cout)
}

// maxPool2Reshape takes the maximum of each 2×2 block by reshaping [B,H,W,C] to
// [B,H/2,2,W/2,2,C] and reducing the two block axes.
func maxPool2Reshape(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	return ReduceMax(Reshape(x, b, h/2, 2, w/2, 2, c), 2, 4)
}
