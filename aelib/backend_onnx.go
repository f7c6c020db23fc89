//go:build linux && amd64 && onnx

package aelib

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

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

// onnxModule is GoMLX's ONNX Runtime backend; patchedONNXModule is where aelab's go.mod
// replaces it with a copy whose sessions run at the same time (third_party/README.md).
const (
	onnxModule        = "github.com/gomlx/compute-onnx"
	patchedONNXModule = "third_party/compute-onnx"
)

// onnxSessionsRunConcurrently reports whether this program's ONNX Runtime backend lets
// independent sessions run at the same time: upstream's holds one process-wide lock around
// every run, aelab's patched copy does not. A program that imports aelib as a dependency
// (a notebook, another module) gets upstream's unless its own go.mod carries the replace.
var onnxSessionsRunConcurrently = sync.OnceValue(func() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && usesPatchedONNX(info)
})

// usesPatchedONNX reports whether a program built as info uses aelab's copy of the ONNX
// Runtime backend. Test binaries list no dependencies (go test does not record them); they are
// built with aelab's own go.mod, which has the replace (TestGoModReplacesONNXBackend).
func usesPatchedONNX(info *debug.BuildInfo) bool {
	if len(info.Deps) == 0 {
		return true
	}
	for _, dep := range info.Deps {
		if dep.Path == onnxModule {
			return dep.Replace != nil && strings.HasSuffix(strings.TrimSuffix(dep.Replace.Path, "/"), patchedONNXModule)
		}
	}
	return false
}

// envORTIntraOpThreads is ONNX Runtime's own setting of a session's intra-op threads, read when
// a session is created without a thread count (GoMLX's backend sets none; by default a session
// gets one thread per core).
const envORTIntraOpThreads = "ORT_INTRA_OP_NUM_THREADS"

var sessionThreadsMu sync.Mutex

// withSessionThreads runs compile, which creates ONNX Runtime sessions, with n intra-op
// threads per session, unless the user set ORT_INTRA_OP_NUM_THREADS. GoMLX's backend exposes
// no session options, and the variable is process-wide: sessions other goroutines create in
// the meantime get n threads too, which costs them speed, never correctness.
func withSessionThreads(n int, compile func() error) error {
	sessionThreadsMu.Lock()
	defer sessionThreadsMu.Unlock()
	if _, set := os.LookupEnv(envORTIntraOpThreads); set {
		return compile()
	}
	os.Setenv(envORTIntraOpThreads, strconv.Itoa(n))
	defer os.Unsetenv(envORTIntraOpThreads)
	return compile()
}
