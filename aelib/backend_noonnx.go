//go:build !(linux && amd64 && onnx)

package aelib

import (
	"errors"

	"github.com/gomlx/compute"
)

const onnxBuilt = false

var errNoONNX = errors.New("aelib: saving the step graph needs the ONNX Runtime backend (build with -tags onnx)")

func keepONNXModels(compute.Backend) error { return errNoONNX }

func writeONNXModel(compute.Backend, compute.Executable, string) error { return errNoONNX }

func onnxSessionsRunConcurrently() bool { return false }

func withSessionThreads(_ int, compile func() error) error { return compile() }
