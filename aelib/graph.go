package aelib

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// This file builds the forward pass of an Architecture, once for every graph: inference,
// validation, the training step with graph.Gradient and the training step with hand-written
// gradients. Layers create their variables under scope.At(layer.Name), with the names and
// shapes GoMLX's own layers use ("dense/weights" is [in,out], "conv/weights" is [3,3,in,out]),
// so checkpoints move between backends. A training step passes the weights as plain nodes
// (forward.plain) and carries the random state itself (forward.rng): the same layer code reads
// them instead of the store's variables.

// forward is one forward pass being built: where its layers get their weights and random
// numbers, whether it trains, and what each layer did (the tape the backward pass and the
// penalties read).
type forward struct {
	g        *Graph
	scope    *model.Scope
	ops      graphOps
	training bool // a Dropout drops, a Gaussian code samples
	// hand: layers with a hand-written gradient build their training form (handforms.go), and
	// the tape keeps their backward pass.
	hand bool
	// plain holds the weights by store path when a training step passes them as nodes; nil:
	// the store's variables.
	plain map[string]*Node
	// rng is the random state a training step carries (graph.RNGStateShape); nil: the store's.
	rng  *Node
	tape []tapeEntry
}

// tapeEntry is what one layer did in a forward pass.
type tapeEntry struct {
	layer   Layer
	in, out *Node            // its input, and its output after the activation it applied
	weights []weightNode     // its weights, in the order it read them
	parts   map[string]*Node // named inner values a penalty may read (a Gaussian's "mean", "log_var")
	// act is the activation applied (the output layer's sigmoid is left to the loss, and in the
	// hand form a ReLU before a max-pooling moves after it).
	act  Activation
	back backwardFn // the hand-written backward pass of layer and activation; nil: graph.Gradient
}

// weightNode is a weight as a layer read it.
type weightNode struct {
	path string
	node *Node
}

// newForward starts a forward pass on graph g's backend with the model's weights under scope.
func newForward(scope *model.Scope, g *Graph) *forward {
	return &forward{g: g, scope: scope, ops: opsFor(g.Backend().Name())}
}

// weightPath is the store path of variable name under scope s: the key of the plain weights.
func weightPath(s *model.Scope, name string) string {
	return strings.TrimSuffix(s.Scope(), model.ScopeSeparator) + model.ScopeSeparator + name
}

// weight returns a layer's parameter: the model variable s/name, or the plain node of that
// path, and records it on the layer's tape entry.
func (f *forward) weight(s *model.Scope, name string, shape shapes.Shape) *Node {
	path := weightPath(s, name)
	var n *Node
	if f.plain != nil {
		var found bool
		if n, found = f.plain[path]; !found {
			exceptions.Panicf("aelib: the training step carries no weight %q", path)
		}
		if !n.Shape().Equal(shape) {
			exceptions.Panicf("aelib: training step weight %q is %s, the layer wants %s", path, n.Shape(), shape)
		}
	} else {
		n = s.VariableWithShape(name, shape).NodeValue(f.g)
	}
	if len(f.tape) > 0 {
		e := &f.tape[len(f.tape)-1]
		e.weights = append(e.weights, weightNode{path, n})
	}
	return n
}

// dense is x·W + b with W [in,units] and b [units] under s/dense; it also returns W and b.
func (f *forward) dense(s *model.Scope, x *Node, units int) (y, w, b *Node) {
	s = s.At("dense")
	in := x.Shape().Dimensions[x.Rank()-1]
	w = f.weight(s, "weights", shapes.Make(x.DType(), in, units))
	b = f.weight(s, "biases", shapes.Make(x.DType(), units))
	return Add(Dot(x, w).Product(), Reshape(b, 1, units)), w, b
}

// randomUniform draws values in [0,1) of shape, from the carried random state or the store's.
func (f *forward) randomUniform(shape shapes.Shape) *Node {
	if f.rng != nil {
		var v *Node
		f.rng, v = RandomUniform(f.rng, shape)
		return v
	}
	return f.scope.RandomUniform(f.g, shape)
}

// randomNormal draws values of N(0,1) of shape, from the carried random state or the store's.
func (f *forward) randomNormal(shape shapes.Shape) *Node {
	if f.rng != nil {
		var v *Node
		f.rng, v = RandomNormal(f.rng, shape)
		return v
	}
	return f.scope.RandomNormal(f.g, shape)
}

// run builds layers[from:to] of a on x and returns the result. The output layer's sigmoid is
// not applied: the result is the logits (the loss takes them; inference applies the sigmoid).
func (f *forward) run(a Architecture, x *Node, from, to int) *Node {
	output := a.outputLayer()
	for i := from; i < to; i++ {
		l := a.Layers[i]
		rule := ruleOf(l.Kind)
		act := l.Activation
		if i == output && act == ActSigmoid {
			act = ActLinear
		}
		if f.hand {
			// A ReLU before a max-pooling commutes with it (the maximum of ReLUs is the ReLU of
			// the maximum): the hand form applies it after the pooling, on a quarter of the
			// values, forward and backward. The gradients are the same, first maximum included.
			if a.reluMovesToPool(i) {
				act = ActLinear
			}
			if i > 0 && a.reluMovesToPool(i-1) {
				act = ActReLU
			}
		}
		f.tape = append(f.tape, tapeEntry{layer: l, in: x, act: act})
		actRule, ok := activationRules[act]
		if !ok {
			exceptions.Panicf("aelib: layer %s: unknown activation %q", l.Name, act)
		}
		var z *Node
		var back backwardFn
		if f.hand && rule.hand != nil && actRule.grad != nil {
			z, back = rule.hand(f, l, x)
		} else {
			z = rule.forward(f, l, x)
		}
		y := actRule.apply(z)
		e := &f.tape[len(f.tape)-1]
		e.out = y
		if back != nil {
			e.back = func(dy *Node, grads map[string]*Node, needInput bool) *Node {
				return back(actRule.grad(y, dy), grads, needInput)
			}
		}
		x = y
	}
	return x
}

// reluMovesToPool reports whether layer i's ReLU can be applied after the max-pooling that
// follows it.
func (a Architecture) reluMovesToPool(i int) bool {
	return i+1 < len(a.Layers) && i != a.outputLayer() && a.Layers[i].Activation == ActReLU &&
		a.Layers[i+1].Kind == KindMaxPool && a.Layers[i+1].Activation == ""
}

// setPart records a named inner value of the layer being built, for penalties (Trace.Part).
func (f *forward) setPart(name string, n *Node) {
	e := &f.tape[len(f.tape)-1]
	if e.parts == nil {
		e.parts = map[string]*Node{}
	}
	e.parts[name] = n
}

// outputLayer is the index of the last layer with an activation: its sigmoid is the model's
// output, left to the loss, which takes logits.
func (a Architecture) outputLayer() int {
	for i := len(a.Layers) - 1; i >= 0; i-- {
		if a.Layers[i].Activation != "" {
			return i
		}
	}
	return -1
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
	return newForward(scope, x.Graph()).run(a, x, 0, a.encoderEnd())
}

// DecodeLogits builds the decoder: codes [B, latent...] → logits [B,784].
func (a Architecture) DecodeLogits(scope *model.Scope, z *Node) *Node {
	return newForward(scope, z.Graph()).run(a, z, a.encoderEnd(), len(a.Layers))
}

// Logits builds the whole autoencoder: flat images [B,784] → logits [B,784].
func (a Architecture) Logits(scope *model.Scope, x *Node) *Node {
	return newForward(scope, x.Graph()).run(a, x, 0, len(a.Layers))
}

// checkOutput says whether the output layer can give logits: it must end in a sigmoid.
func (a Architecture) checkOutput() error {
	i := a.outputLayer()
	if i < 0 || a.Layers[i].Activation != ActSigmoid {
		return fmt.Errorf("architecture %s: the last layer with an activation must be the sigmoid output (the loss takes its logits)", a.Name)
	}
	return nil
}
