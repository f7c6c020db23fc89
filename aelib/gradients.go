package aelib

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// This file builds the loss of a training batch and its gradient by every weight: the one
// training computation both step engines run (steptrain.go, devicetrain.go).
//
// With graph.Gradient (forward.hand false: XLA, which fuses whatever it gets, and the pure-Go
// backend) the gradient is graph.Gradient of the whole loss. With hand-written gradients
// (ONNX Runtime) the backward pass walks the tape layer by layer: a layer whose kind and
// activation have a hand-written gradient (layerRules, activationRules) runs it; any other layer
// gets the gradient graph.Gradient builds for it alone, from the gradient by its output; and the
// penalties are differentiated by graph.Gradient and added. So a new layer kind or penalty
// trains on every backend the day it is added, and fast where its gradient is written by hand.

// lossAndGradients builds, in the training forward pass f, the loss of the examples x [B,784]
// (targets target [B,784], mask [B]: 1 real, 0 padding) and its gradient by each of weights,
// the plain nodes of the weights at paths. The BCE is divided by count: exampleCount(mask) for
// a whole batch; a shard of a larger batch passes the whole batch's count, so that the shards'
// losses and gradients add up to the batch's. The penalties of a (Architecture.Penalties) are
// added to the loss.
func (a Architecture) lossAndGradients(f *forward, x, target, mask, count *Node, paths []string, weights []*Node) (loss *Node, grads []*Node) {
	f.training = true
	f.plain = make(map[string]*Node, len(paths))
	for i, p := range paths {
		f.plain[p] = weights[i]
	}
	logits := f.run(a, x, 0, len(a.Layers))
	loss = Div(weightedBCESum(target, mask, logits), count)
	penalty := a.penalty(f, mask)
	if penalty != nil {
		loss = Add(loss, penalty)
	}
	if !f.hand {
		return loss, Gradient(loss, weights...)
	}

	byPath := map[string]*Node{}
	f.backward(bceGradient(logits, target, mask, count), byPath)
	if penalty != nil {
		reached := reaches(penalty, weights)
		var wrt []*Node
		var at []string
		for i, w := range weights {
			if reached[i] {
				wrt, at = append(wrt, w), append(at, paths[i])
			}
		}
		for i, g := range Gradient(penalty, wrt...) {
			if byPath[at[i]] == nil {
				byPath[at[i]] = g
			} else {
				byPath[at[i]] = Add(byPath[at[i]], g)
			}
		}
	}
	grads = make([]*Node, len(paths))
	for i, p := range paths {
		if grads[i] = byPath[p]; grads[i] == nil {
			grads[i] = ZerosLike(weights[i]) // a weight the loss does not read
		}
	}
	return loss, grads
}

// backward runs the tape backwards from d, the gradient of the loss by the last layer's output,
// putting the gradient of every weight into grads (by path).
func (f *forward) backward(d *Node, grads map[string]*Node) {
	first := len(f.tape)
	for i, e := range f.tape {
		if len(e.weights) > 0 {
			first = i
			break
		}
	}
	for i := len(f.tape) - 1; i >= first; i-- { // nothing before the first weights needs a gradient
		e := f.tape[i]
		if e.back != nil {
			d = e.back(d, grads, i > first)
		} else {
			d = e.autodiff(d, grads, i > first)
		}
	}
}

// autodiff is the backward pass of a layer without a hand-written gradient: graph.Gradient of
// ⟨out, d⟩ by its input and weights, d held constant, is the vector-Jacobian product of the
// layer's forward pass (activation included).
func (e tapeEntry) autodiff(d *Node, grads map[string]*Node, needInput bool) *Node {
	var wrt []*Node
	for _, w := range e.weights {
		wrt = append(wrt, w.node)
	}
	if needInput {
		wrt = append(wrt, e.in)
	}
	if len(wrt) == 0 {
		return nil
	}
	g := Gradient(ReduceAllSum(Mul(e.out, StopGradient(d))), wrt...)
	for i, w := range e.weights {
		grads[w.path] = g[i]
	}
	if needInput {
		return g[len(g)-1]
	}
	return nil
}

// reaches reports, for each of targets, whether root depends on it.
func reaches(root *Node, targets []*Node) []bool {
	index := make(map[NodeId]int, len(targets))
	for i, t := range targets {
		index[t.Id()] = i
	}
	found := make([]bool, len(targets))
	seen := map[NodeId]bool{}
	stack := []*Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n.Id()] {
			continue
		}
		seen[n.Id()] = true
		if i, ok := index[n.Id()]; ok {
			found[i] = true
			continue
		}
		stack = append(stack, n.Inputs()...)
	}
	return found
}
