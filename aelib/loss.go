package aelib

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// The reconstruction loss every model minimises: binary cross-entropy from the logits, averaged
// over the pixels and over the real examples of the batch. The last batch of an epoch is padded
// to the batch size; its padding rows have weight 0, so Keras' average over the real examples of
// a partial batch comes out of one graph for every batch.

// bcePerPixel is BCE(σ(logits), target) per pixel, computed stably from the logits:
// max(x,0) − x·t + log(1 + e^−|x|).
func bcePerPixel(logits, target *Node) *Node {
	return Add(Sub(Max(logits, ZerosLike(logits)), Mul(logits, target)), Log1P(Exp(Neg(Abs(logits)))))
}

// weightedBCESum is Σ_b weights_b · mean_pixels BCE(logits_b, target_b): the loss before its
// division by the number of real examples. A batch trained in shards (steptrain.go) divides each
// shard's sum by the whole batch's count.
func weightedBCESum(target, weights, logits *Node) *Node {
	return ReduceAllSum(Mul(ReduceMean(bcePerPixel(logits, target), 1), weights))
}

// bceGradient is the gradient of weightedBCESum(target, mask, logits)/count by the logits:
// (σ(logits) − target) · mask_b / (pixels · count).
func bceGradient(logits, target, mask, count *Node) *Node {
	scale := Div(ExpandAxes(mask, -1), MulScalar(count, float64(logits.Shape().Dimensions[1])))
	return Mul(Sub(Sigmoid(logits), target), scale)
}

// exampleCount is the loss's denominator: the real examples of a batch (Σ weights), at least 1.
func exampleCount(weights *Node) *Node {
	sum := ReduceAllSum(weights)
	return Max(sum, OnesLike(sum))
}

// MaskedMean is the mean of perExample [B] over the examples of weight 1 (weights [B] of 0/1,
// Trace.Mask): how a Penalty averages over a batch's real examples.
func MaskedMean(perExample, weights *Node) *Node {
	return Div(ReduceAllSum(Mul(perExample, weights)), exampleCount(weights))
}
