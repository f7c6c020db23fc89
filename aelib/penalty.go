package aelib

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Penalty is a term a model adds to its reconstruction loss in training: the sparse model's
// sparsity, the contractive model's Jacobian norm, the VAE's KL divergence, or a program's own.
// Its gradient is graph.Gradient's, on every backend and in both step engines.
type Penalty struct {
	// Name joins the loss's name ("bce+kl") and is what the architecture's JSON keeps.
	Name string `json:"name"`
	// Term builds the scalar added to the loss from the training forward pass. It must average
	// over the real examples (Trace.Mask), as the loss does, so that padding counts for nothing.
	Term func(t Trace) *Node `json:"-"`
}

// Trace is a training forward pass as a Penalty sees it: every layer's output and weights.
type Trace struct {
	f    *forward
	arch Architecture
	mask *Node
}

// Architecture is the model being trained.
func (t Trace) Architecture() Architecture { return t.arch }

// Mask is the batch's example weights [B]: 1 for a real example, 0 for the padding of a short
// last batch.
func (t Trace) Mask() *Node { return t.mask }

// Output is the output of the layer named layer, after its activation.
func (t Trace) Output(layer string) *Node { return t.entry(layer).out }

// Code is the output of the last encoder layer: the code.
func (t Trace) Code() *Node { return t.Output(t.arch.Layers[t.arch.encoderEnd()-1].Name) }

// Weight is the weight of the layer named layer at the store path ending in name (e.g.
// "dense/weights", "mean/dense/weights").
func (t Trace) Weight(layer, name string) *Node {
	for _, w := range t.entry(layer).weights {
		if strings.HasSuffix(w.path, "/"+name) {
			return w.node
		}
	}
	exceptions.Panicf("aelib: layer %s has no weight %q", layer, name)
	return nil
}

// Part is a named inner value of a layer: a Gaussian layer's "mean" and "log_var".
func (t Trace) Part(layer, name string) *Node {
	n := t.entry(layer).parts[name]
	if n == nil {
		exceptions.Panicf("aelib: layer %s has no part %q", layer, name)
	}
	return n
}

func (t Trace) entry(layer string) tapeEntry {
	for _, e := range t.f.tape {
		if e.layer.Name == layer {
			return e
		}
	}
	exceptions.Panicf("aelib: the forward pass has no layer %q", layer)
	return tapeEntry{}
}

// penalty is the sum of a's penalties in the forward pass f, or nil when it has none.
func (a Architecture) penalty(f *forward, mask *Node) *Node {
	var sum *Node
	for _, p := range a.Penalties {
		if p.Term == nil {
			exceptions.Panicf("aelib: penalty %q of %s has no Term", p.Name, a.Name)
		}
		term := p.Term(Trace{f: f, arch: a, mask: mask})
		if term.Rank() != 0 {
			exceptions.Panicf("aelib: penalty %q of %s is %s, not a scalar", p.Name, a.Name, term.Shape())
		}
		if sum == nil {
			sum = term
		} else {
			sum = Add(sum, term)
		}
	}
	return sum
}

// LossName names what the architecture's training minimises: "bce", or the BCE plus its
// penalties ("bce+kl").
func (a Architecture) LossName() string {
	name := "bce"
	for _, p := range a.Penalties {
		name += "+" + p.Name
	}
	return name
}

// checkPenalties says whether every penalty can be built.
func (a Architecture) checkPenalties() error {
	for _, p := range a.Penalties {
		if p.Name == "" || p.Term == nil {
			return fmt.Errorf("architecture %s: a penalty needs a name and a Term, got %q", a.Name, p.Name)
		}
	}
	return nil
}
