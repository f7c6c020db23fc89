//go:build linux && amd64 && onnx

package aelib

import (
	"errors"
	"fmt"
	"os"

	"github.com/gomlx/compute"
	onnxbackend "github.com/gomlx/compute-onnx"
)

const onnxBuilt = true

// keepONNXModels makes GoMLX's ONNX Runtime backend keep the ONNX model of everything it
// compiles from now on, for writeONNXModel.
func keepONNXModels(b compute.Backend) error {
	ob, ok := b.(*onnxbackend.Backend)
	if !ok {
		return fmt.Errorf("aelib: saving the step graph needs the ONNX Runtime backend, not %s", b.Name())
	}
	ob.SetKeepModelProto(true)
	return nil
}

// writeONNXModel writes the ONNX model ONNX Runtime runs for exec (compiled after
// keepONNXModels) to path.
func writeONNXModel(b compute.Backend, exec compute.Executable, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("aelib: saving the step graph: %w", err)
	}
	if err := errors.Join(onnxbackend.SaveModel(b, exec, f, nil, nil), f.Close()); err != nil {
		return fmt.Errorf("aelib: saving the step graph to %s: %w", path, err)
	}
	return nil
}
