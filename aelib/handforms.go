package aelib

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// This file holds the training forms of the layers that have a hand-written gradient (the hand
// entries of layerRules), for the backends where graph.Gradient's output runs slowly
// (graphOps.handGradients: ONNX Runtime). GoMLX's VJPs are written for XLA, which fuses and
// re-lays-out whatever it gets; ONNX Runtime runs them op for op, and profiling its training
// graph (docs/performance.md, "Where it stood") found three costs the same mathematics avoids:
//
//   - the gradients of a matrix product are DotGenerals that contract the batch axis or the
//     right operand's last axis; GoMLX's ONNX backend lowers those to Einsum, slower than MLAS's
//     Gemm on the same shapes. Here they are Dot(Transpose(a), b) and Dot(a, Transpose(b)): a
//     MatMul whose Transpose ONNX Runtime folds into the product.
//   - a convolution's kernel gradient is a convolution with the batch as channels and a 28×28
//     "kernel", which MLAS's im2col + GEMM runs slowly. Here every convolution is a matrix
//     product over shifted views of its input (im2col, in NHWC, so no layout transposes either),
//     and its gradients are two more matrix products.
//   - max-pooling's gradient is a scatter of the pooled gradient through int64 indices; here it
//     is an elementwise mask (the first maximum of each window, as XLA and PyTorch choose).
//
// Each form computes the same function of the same weights as the layer's forward; the tests
// check values and gradients against graph.Gradient on two backends.

// handDense is a Dense layer x·W + b with its backward pass.
func handDense(f *forward, l Layer, x *Node) (*Node, backwardFn) {
	y, w, _ := f.dense(f.scope.At("%s", l.Name), x, l.Units)
	e := f.tape[len(f.tape)-1]
	wPath, bPath := e.weights[0].path, e.weights[1].path
	return y, func(d *Node, grads map[string]*Node, needInput bool) *Node {
		grads[wPath] = Dot(Transpose(x, 0, 1), d).Product()
		grads[bPath] = ReduceSum(d, 0)
		if needInput {
			return Dot(d, Transpose(w, 0, 1)).Product()
		}
		return nil
	}
}

// handConv is a 3×3 'same' Conv2D layer in the form convFormFor picks, with its backward pass.
// A convolution of an upsampled input works on the small image and takes over the upsampling's
// backward pass: a narrow one (convProduct) multiplies before upsampling (conv3x3UpProduct),
// the others compute the four output pixels of each 2×2 block from the small image's patches
// (conv3x3UpPatches).
func handConv(f *forward, l Layer, x *Node) (*Node, backwardFn) {
	kernel, bias := f.convWeights(l, x)
	e := f.tape[len(f.tape)-1]
	kPath, bPath := e.weights[0].path, e.weights[1].path
	form := convFormFor(x.Shape().Dimensions[3], l.Units)
	if z := f.upsampledInput(x); z != nil {
		var y, patches, kall *Node
		if form == convProduct {
			y = conv3x3UpProduct(z, kernel, bias)
		} else {
			y, patches, kall = conv3x3UpPatches(z, kernel, bias)
		}
		return y, func(d *Node, grads map[string]*Node, needInput bool) *Node {
			var dz *Node
			if form == convProduct {
				grads[kPath], dz = conv3x3UpProductGrads(z, kernel, d, needInput)
			} else {
				grads[kPath], dz = conv3x3UpPatchesGrads(patches, kall, d, needInput)
			}
			grads[bPath] = ReduceSum(d, 0, 1, 2)
			return dz
		}
	}
	y, patches := conv3x3Train(x, kernel, bias)
	return y, func(d *Node, grads map[string]*Node, needInput bool) *Node {
		var dx *Node
		grads[kPath], dx = conv3x3TrainGrads(f.ops, x, kernel, patches, d, needInput)
		grads[bPath] = ReduceSum(d, 0, 1, 2)
		return dx
	}
}

// upsampledInput returns z when x, the input of the layer being built, is the output of an
// UpSampling2D layer without activation that the hand forms built on z (the tape entry before
// this one); that layer's backward pass then passes its gradient through unchanged, since the
// caller's backward pass returns the gradient by z. nil otherwise.
func (f *forward) upsampledInput(x *Node) *Node {
	if len(f.tape) < 2 {
		return nil
	}
	up := &f.tape[len(f.tape)-2]
	if up.layer.Kind != KindUpSample || up.out != x || up.back == nil || (up.act != "" && up.act != ActLinear) {
		return nil
	}
	up.back = func(dz *Node, _ map[string]*Node, _ bool) *Node { return dz }
	return up.in
}

// phaseMix says which rows of the small image an output row of a 3×3 'same' convolution of
// upSample2(z) reads: output row 2i+a reads the upsampled rows 2i+a−1, 2i+a, 2i+a+1 (kernel rows
// 0, 1, 2), which are rows i−1+⌊(a+d)/2⌋ of z. Row (a, r) is parity a and z's row i+r−1; column d
// is the kernel row; a 1 where that kernel row reads that row of z. Columns work the same way.
var phaseMix = [][]float32{
	{1, 0, 0}, {0, 1, 1}, {0, 0, 0}, // a = 0: z rows i−1, i, i+1
	{0, 0, 0}, {1, 1, 0}, {0, 0, 1}, // a = 1
}

// phaseKernel turns kernel [3,3,Cin,Cout] into the kernel of conv3x3UpPatches,
// [(r, s, ci), (a, c, co)] = [9·Cin, 4·Cout]: the weight of z's pixel (i+r−1, j+s−1) in the
// output pixel (2i+a, 2j+c), the sum of the kernel taps that read it (phaseMix on rows, then on
// columns).
func phaseKernel(kernel *Node) *Node {
	d := kernel.Shape().Dimensions
	cin, cout := d[2], d[3]
	m := ConvertDType(Const(kernel.Graph(), phaseMix), kernel.DType())                // [(a, r), dy]
	t := Dot(m, Reshape(kernel, 3, 3*cin*cout)).Product()                             // [(a, r), (dx, ci, co)]
	t = Reshape(TransposeAllAxes(Reshape(t, 6, 3, cin*cout), 1, 0, 2), 3, 6*cin*cout) // [dx, (a, r, ci, co)]
	t = Reshape(Dot(m, t).Product(), 2, 3, 2, 3, cin, cout)                           // c, s, a, r, ci, co
	return Reshape(TransposeAllAxes(t, 3, 1, 4, 2, 0, 5), 9*cin, 4*cout)
}

// phaseKernelGrad is the adjoint of phaseKernel: the gradient by the kernel [3,3,Cin,Cout] given
// g [9·Cin, 4·Cout], the gradient by phaseKernel's result.
func phaseKernelGrad(g *Node, cin, cout int) *Node {
	mt := Transpose(ConvertDType(Const(g.Graph(), phaseMix), g.DType()), 0, 1)        // [dy, (a, r)]
	t := TransposeAllAxes(Reshape(g, 3, 3, cin, 2, 2, cout), 4, 1, 3, 0, 2, 5)        // c, s, a, r, ci, co
	t = Dot(mt, Reshape(t, 6, 6*cin*cout)).Product()                                  // [dx, (a, r, ci, co)]
	t = Reshape(TransposeAllAxes(Reshape(t, 3, 6, cin*cout), 1, 0, 2), 6, 3*cin*cout) // [(a, r), (dx, ci, co)]
	return Reshape(Dot(mt, t).Product(), 3, 3, cin, cout)
}

// conv3x3UpPatches is conv3x3Train of upSample2(z) [B,2H,2W,Cin], for z [B,H,W,Cin], from the
// patches of z: the output pixels (2i+a, 2j+c) of each 2×2 block read only z's 3×3 neighbourhood
// of (i, j), so one product of z's patches [B·H·W, 9·Cin] with phaseKernel [9·Cin, 4·Cout] gives
// all four, then a transpose puts them in place. The same multiply-adds as the patches of the
// upsampled image, on patches a quarter of their size, and no upsampled image. It returns the
// patches and phaseKernel's result too, for conv3x3UpPatchesGrads.
func conv3x3UpPatches(z, kernel, bias *Node) (y, patches, kall *Node) {
	d := z.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	patches = Reshape(shiftedViews(z, 1), b*h*w, 9*cin)
	kall = phaseKernel(kernel)
	bias4 := Reshape(BroadcastToDims(Reshape(bias, 1, cout), 4, cout), 1, 4*cout)
	y4 := Add(Dot(patches, kall).Product(), bias4) // [B·H·W, (a, c, co)]
	y = Reshape(TransposeAllAxes(Reshape(y4, b, h, w, 2, 2, cout), 0, 1, 3, 2, 4, 5), b, 2*h, 2*w, cout)
	return y, patches, kall
}

// conv3x3UpPatchesGrads returns the gradients of conv3x3UpPatches by the kernel and, when
// needInput, by z, given dy [B,2H,2W,Cout] and the patches and kernel conv3x3UpPatches used:
// dY [B·H·W, (a, c, co)] is dy with each 2×2 block on a row; the kernel's is phaseKernelGrad of
// patchesᵀ·dY, z's the patches' gradient dY·kallᵀ summed back to the pixels each patch read
// (patchesGrad).
func conv3x3UpPatchesGrads(patches, kall, dy *Node, needInput bool) (dKernel, dz *Node) {
	d := dy.Shape().Dimensions
	b, h, w, cout := d[0], d[1]/2, d[2]/2, d[3]
	cin := patches.Shape().Dimensions[1] / 9
	dy4 := Reshape(TransposeAllAxes(Reshape(dy, b, h, 2, w, 2, cout), 0, 1, 3, 2, 4, 5), b*h*w, 4*cout)
	dKernel = phaseKernelGrad(Dot(Transpose(patches, 0, 1), dy4).Product(), cin, cout)
	if !needInput {
		return dKernel, nil
	}
	return dKernel, patchesGrad(Reshape(Dot(dy4, Transpose(kall, 0, 1)).Product(), b, h, w, 9*cin))
}

// patchesGrad is the adjoint of shiftedViews(t, 1): given dp [B,H,W,9·C], the gradient by the
// patches, the gradient by t [B,H,W,C], t[q] = Σ_k dp[q − o_k, k].
func patchesGrad(dp *Node) *Node {
	d := dp.Shape().Dimensions
	h, w, c := d[1], d[2], d[3]/9
	padded := padHW1(dp) // dp[q − o_k] is padded[q + (2−dy, 2−dx)]
	var t *Node
	for k := range 9 {
		y0, x0 := 2-k/3, 2-k%3
		v := Slice(padded, AxisRange(), AxisRange(y0, y0+h), AxisRange(x0, x0+w), AxisRange(k*c, (k+1)*c))
		if t == nil {
			t = v
		} else {
			t = Add(t, v)
		}
	}
	return t
}

// shiftedViews returns, for t [B,H,W,C], the nine views of t moved by sign·(dy−1, dx−1) for the
// kernel offsets (dy, dx) in row-major order, zeros shifted in, concatenated on the channel
// axis: [B,H,W,9·C]. With sign +1, view k at pixel p is t[p + o_k]: the patches (im2col) of a
// 3×3 'same' convolution in the kernel's own (dy, dx, channel) order. With sign −1 it is
// t[p − o_k], the source of a convolution's input gradient.
func shiftedViews(t *Node, sign int) *Node {
	d := t.Shape().Dimensions
	h, w := d[1], d[2]
	padded := padHW1(t)
	views := make([]*Node, 0, 9)
	for dy := range 3 {
		for dx := range 3 {
			y0, x0 := dy, dx // t[p + (dy−1, dx−1)] is padded[p + (dy, dx)]
			if sign < 0 {
				y0, x0 = 2-dy, 2-dx
			}
			views = append(views, Slice(padded, AxisRange(), AxisRange(y0, y0+h), AxisRange(x0, x0+w), AxisRange()))
		}
	}
	return Concatenate(views, 3)
}

// padHW1 zero-pads [B,H,W,C] by one pixel on each side of H and W, by concatenation (GoMLX's
// ONNX backend has no Pad).
func padHW1(t *Node) *Node {
	d := t.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	zRow := Zeros(t.Graph(), shapes.Make(t.DType(), b, 1, w, c))
	t = Concatenate([]*Node{zRow, t, zRow}, 1)
	zCol := Zeros(t.Graph(), shapes.Make(t.DType(), b, h+2, 1, c))
	return Concatenate([]*Node{zCol, t, zCol}, 2)
}

// convForm is how conv3x3Train computes a 3×3 'same' convolution layer and its gradients;
// each keeps the large intermediate tensors to what its shape needs.
type convForm int

const (
	// convPatches: the patches of x [B·H·W, 9·Cin] times the kernel [9·Cin, Cout]; the kernel
	// gradient reuses the patches. (The backend's own convolution forward with the kernel
	// gradient as nine products of shifted views was no faster: docs/performance.md.)
	convPatches convForm = iota
	// convProduct: narrow outputs (Cout < Cin, the output layer 32 → 1): x [B·H·W, Cin] times
	// the kernel as [Cin, 9·Cout], then the nine [B,H,W,Cout] blocks shifted into place and
	// summed, 9·Cout wide instead of 9·Cin.
	convProduct
)

func convFormFor(cin, cout int) convForm {
	if cout < cin {
		return convProduct
	}
	return convPatches
}

// conv3x3Train is a 3×3 'same' convolution of x [B,H,W,Cin] by kernel [3,3,Cin,Cout] plus bias
// [Cout], in the form convFormFor picks. It returns the patches of x for convPatches (nil
// otherwise), which conv3x3TrainGrads reuses.
func conv3x3Train(x, kernel, bias *Node) (y, patches *Node) {
	d := x.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	switch convFormFor(cin, cout) {
	case convPatches:
		// The bias is added to the 2-D product, where ONNX Runtime folds it into the Gemm.
		patches = Reshape(shiftedViews(x, 1), b*h*w, 9*cin)
		y = Add(Dot(patches, Reshape(kernel, 9*cin, cout)).Product(), Reshape(bias, 1, cout))
		return Reshape(y, b, h, w, cout), patches
	}
	// t[(k, co), q] = Σ_ci K[k, ci, co]·x[q, ci]; y[p] = Σ_k t[(k, ·), p + o_k]. With the offset
	// first, each (k, co) plane is one contiguous block, so the nine shifted slices copy whole
	// rows instead of picking one channel in nine (docs/performance.md, lever 9); ONNX Runtime
	// folds the transpose of x into the product.
	t := Dot(kernelByOffset(kernel), Transpose(Reshape(x, b*h*w, cin), 0, 1)).Product() // [9·Cout, B·H·W]
	return shiftSum(Reshape(t, 9*cout*b, h, w, 1), b, cout, bias), nil
}

// kernelByOffset is kernel [3,3,Cin,Cout] as [(k, co), ci]: the offset outermost.
func kernelByOffset(kernel *Node) *Node {
	d := kernel.Shape().Dimensions
	cin, cout := d[2], d[3]
	return Reshape(TransposeAllAxes(Reshape(kernel, 9, cin, cout), 0, 2, 1), 9*cout, cin)
}

// shiftSum is the convolution convProduct finishes: given t [9·Cout·B, H, W, 1], the planes of
// each kernel offset k and output channel, it returns y[b, p, co] = Σ_k t[(k, co, b), p + o_k]
// (zero outside the image) plus bias, as [B,H,W,Cout].
func shiftSum(t *Node, b, cout int, bias *Node) *Node {
	d := t.Shape().Dimensions
	h, w := d[1], d[2]
	padded := Reshape(padHW1(t), 9, cout, b, h+2, w+2)
	var y *Node
	for k := range 9 {
		dy, dx := k/3, k%3
		block := Slice(padded, AxisRange(k, k+1), AxisRange(), AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w))
		if y == nil {
			y = block
		} else {
			y = Add(y, block)
		}
	}
	if cout == 1 {
		y = Reshape(y, b, h, w, 1)
	} else {
		y = TransposeAllAxes(Reshape(y, cout, b, h, w), 1, 2, 3, 0)
	}
	return Add(y, Reshape(bias, 1, 1, 1, cout))
}

// conv3x3UpProduct is conv3x3Train in the convProduct form of upSample2(z) [B,2H,2W,Cin], for z
// [B,H,W,Cin]: the product with the kernel commutes with repeating pixels, so it multiplies
// the small image and upsamples the 9·Cout planes of the product instead of Cin channels.
func conv3x3UpProduct(z, kernel, bias *Node) *Node {
	d := z.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	t := Dot(kernelByOffset(kernel), Transpose(Reshape(z, b*h*w, cin), 0, 1)).Product() // [9·Cout, B·H·W]
	return shiftSum(upSample2Pairs(Reshape(t, 9*cout*b, h, w, 1)), b, cout, bias)
}

// conv3x3UpProductGrads returns the gradients of conv3x3UpProduct(z, kernel, ·) by the kernel
// and, when needInput, by z, given dy [B,2H,2W,Cout]. With D the views of dy shifted back
// ([B,2H,2W,9·Cout], as in conv3x3TrainGrads) and V its 2×2 blocks summed (upsampling's
// gradient) [B·H·W, 9·Cout]: dK = zᵀ·V and dz = V·Kᵀ, both on the small image.
func conv3x3UpProductGrads(z, kernel, dy *Node, needInput bool) (dKernel, dz *Node) {
	d := z.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	v := Reshape(upSample2PairsGrad(shiftedViews(dy, -1)), b*h*w, 9*cout)
	dk := Dot(Transpose(Reshape(z, b*h*w, cin), 0, 1), v).Product() // [Cin, 9·Cout]
	dKernel = Reshape(TransposeAllAxes(Reshape(dk, cin, 9, cout), 1, 0, 2), 3, 3, cin, cout)
	if !needInput {
		return dKernel, nil
	}
	return dKernel, Reshape(Dot(v, kernelByOffset(kernel)).Product(), b, h, w, cin)
}

// conv3x3TrainGrads returns the gradients of conv3x3Train(x, kernel, ·) by the kernel and, when
// needInput, by x, given dy [B,H,W,Cout] and the patches conv3x3Train returned.
//
// Kernel: dK[k, ci, co] = Σ_p x[p + o_k, ci]·dy[p, co]. convPatches computes it as
// patchesᵀ·dy ([9·Cin, Cout], the kernel's own layout; ONNX Runtime folds the transpose into
// the product, and ran it faster than dyᵀ·patches transposed); convProduct, with D the views of dy shifted back ([B·H·W, 9·Cout]), as
// xᵀ·D, since dK[k, ci, co] = Σ_q x[q, ci]·D[q, (k, co)].
//
// Input: the convolution of dy by the kernel turned 180° with its channel axes swapped, by the
// backend's own convolution; for convProduct (Cout = 1), D·Kᵀ, a product 9 wide.
func conv3x3TrainGrads(ops graphOps, x, kernel, patches, dy *Node, needInput bool) (dKernel, dx *Node) {
	d := x.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	cout := kernel.Shape().Dimensions[3]
	dyFlat := Reshape(dy, b*h*w, cout)
	form := convFormFor(cin, cout)
	var views *Node // D, for convProduct
	switch form {
	case convPatches:
		dKernel = Reshape(Dot(Transpose(patches, 0, 1), dyFlat).Product(), 3, 3, cin, cout)
	case convProduct:
		views = Reshape(shiftedViews(dy, -1), b*h*w, 9*cout)
		dk := Dot(Transpose(Reshape(x, b*h*w, cin), 0, 1), views).Product() // [Cin, 9·Cout]
		dKernel = Reshape(TransposeAllAxes(Reshape(dk, cin, 9, cout), 1, 0, 2), 3, 3, cin, cout)
	}
	if !needInput {
		return dKernel, nil
	}
	if form == convProduct {
		return dKernel, Reshape(Dot(views, kernelByOffset(kernel)).Product(), b, h, w, cin)
	}
	return dKernel, ops.conv3x3(dy, Transpose(Reverse(kernel, 0, 1), 2, 3))
}

// Max-pooling and upsampling work on pairs of contiguous blocks: [B,H,W,C] is [B·H·W/2, 2, C]
// (each row's pairs of columns) and [B·H/2, 2, W·C] (pairs of rows), so every pass reads and
// writes whole blocks, where ONNX Runtime ran the 6-D forms [B,H/2,2,W/2,2,C], reduced or
// broadcast over their inner axes, more slowly (docs/performance.md, lever 9).

// halves splits t [N,2,M] into its two [N,1,M] halves.
func halves(t *Node) (first, second *Node) {
	return Slice(t, AxisRange(), AxisRange(0, 1), AxisRange()), Slice(t, AxisRange(), AxisRange(1, 2), AxisRange())
}

// poolPicks says, for each pair max-pooling compared, whether the first value was kept (1) or
// the second (0): the pairs of columns of each row [B·H·W/2, 1, C], then the pairs of rows
// [B·H/2, 1, W/2·C]. A product with a 0/1 mask runs faster on ONNX Runtime than Where
// (docs/performance.md, lever 9).
type poolPicks struct{ cols, rows *Node }

// maxPool2Pairs is max-pooling [B,H,W,C] → [B,H/2,W/2,C], in two passes: the maximum of each
// row's pairs of columns, then of each pair of rows; a tie keeps the first. So the value kept
// is the first maximum of its window in row-major order, where XLA's and PyTorch's max-pool
// gradients send it.
func maxPool2Pairs(x *Node) (*Node, poolPicks) {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	var p poolPicks
	first, second := halves(Reshape(x, b*h*w/2, 2, c))
	p.cols = ConvertDType(GreaterOrEqual(first, second), x.DType())
	first, second = halves(Reshape(Max(first, second), b*h/2, 2, w/2*c))
	p.rows = ConvertDType(GreaterOrEqual(first, second), x.DType())
	return Reshape(Max(first, second), b, h/2, w/2, c), p
}

// maxPool2PairsGrad routes dy [B,H/2,W/2,C], the gradient by maxPool2Pairs' output, back
// through both passes to the value each window kept: [B,H,W,C], zeros elsewhere.
func maxPool2PairsGrad(p poolPicks, dy *Node) *Node {
	d := dy.Shape().Dimensions
	b, h2, w2, c := d[0], d[1], d[2], d[3]
	route := func(firstWon, d *Node) *Node { // [N,1,M] → [N,2,M]
		toFirst := Mul(d, firstWon)
		return Concatenate([]*Node{toFirst, Sub(d, toFirst)}, 1) // d − d·1 and d − d·0 are exact
	}
	rows := route(p.rows, Reshape(dy, b*h2, 1, w2*c))                               // [B·H/2, 2, W/2·C] = [B,H,W/2,C]
	return Reshape(route(p.cols, Reshape(rows, b*h2*2*w2, 1, c)), b, 2*h2, 2*w2, c) // [B·H·W/2, 2, C]
}

// upSample2Pairs is upSample2 (each pixel of [B,H,W,C] repeated into a 2×2 block) by two
// concatenations of blocks with themselves: columns, then rows.
func upSample2Pairs(x *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	twice := func(t *Node) *Node { return Concatenate([]*Node{t, t}, 1) }
	cols := twice(Reshape(x, b*h*w, 1, c))                              // [B,H,2W,C]
	return Reshape(twice(Reshape(cols, b*h, 1, 2*w*c)), b, 2*h, 2*w, c) // [B·H, 2, 2W·C]
}

// upSample2PairsGrad is the gradient of upSample2 by its input, given dy [B,2H,2W,C]: each
// 2×2 block summed, rows first, then columns.
func upSample2PairsGrad(dy *Node) *Node {
	d := dy.Shape().Dimensions
	b, h, w, c := d[0], d[1]/2, d[2]/2, d[3]
	sum := func(t *Node) *Node { first, second := halves(t); return Add(first, second) }
	rows := sum(Reshape(dy, b*h, 2, 2*w*c)) // [B,H,2W,C]
	return Reshape(sum(Reshape(rows, b*h*w, 2, c)), b, h, w, c)
}
