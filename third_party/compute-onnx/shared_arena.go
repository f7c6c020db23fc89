// Copyright 2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package onnxbackend

import ort "github.com/gomlx/compute-onnx/internal/ort"

// ShrinkSharedCPUArena frees the regions of the CPU arena the backend's CPU sessions share that
// no allocation uses (see ort.ShrinkSharedCPUArena), then returns the C heap's free memory to
// the operating system. A program calls it after finalizing a group of executables (a finished
// training's) whose working set the next ones need not inherit: an arena otherwise keeps the
// largest working set it ever served.
func (b *Backend) ShrinkSharedCPUArena() error {
	if b.cuda {
		return nil
	}
	err := ort.ShrinkSharedCPUArena()
	ort.TrimCHeap()
	return err
}
