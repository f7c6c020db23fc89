// Copyright 2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package onnxbackend

// liveNodes returns the nodes of fn that its results depend on. ONNX Runtime runs every node of
// a model, whether or not anything reads its outputs, so Compile leaves out the nodes a graph
// built and then did not use (a value computed for a path the caller later replaced): each
// would cost a kernel run, and its output memory, on every call. A node's inputs are followed
// by output name, since a node may read another output of a multi-output node (MaxPool's
// indices) through a node that only names it.
func liveNodes(fn *Function) map[*Node]bool {
	producer := make(map[string]*Node, len(fn.nodes))
	for _, n := range fn.nodes {
		producer[n.name] = n
		for _, out := range n.outputNames {
			producer[out] = n
		}
	}
	live := make(map[*Node]bool, len(fn.nodes))
	var stack []*Node
	reach := func(name string) {
		if n := producer[name]; n != nil && !live[n] {
			live[n] = true
			stack = append(stack, n)
		}
	}
	for _, r := range fn.returns {
		reach(r.name)
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, in := range n.inputs {
			reach(in.name)
		}
	}
	return live
}
