//go:build linux && amd64 && onnx

package aelib

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/testenv"
)

// ortChildEnv makes TestONNXRuntimeLeavesNoFiles run as the child process that loads ONNX Runtime.
const ortChildEnv = "AELAB_TEST_ORT_CHILD"

// A process that loads ONNX Runtime leaves nothing behind (issue #10, item 13: ORT 1.30's
// telemetry left an empty $TMPDIR/mat-debug-<pid>.log per process, plus $TMPDIR/.ses and an
// event database under ~/.cache/Microsoft). The child runs with its own TMPDIR and HOME and
// without ORT_DISABLE_TELEMETRY, so only aelib can switch the telemetry off.
func TestONNXRuntimeLeavesNoFiles(t *testing.T) {
	if os.Getenv(ortChildEnv) != "" {
		cfg, _ := DefaultConfig(ModelVanilla)
		cfg.Backend = "onnx:cpu"
		ae, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ae.Reconstruct(make([]float32, 784), 1); err != nil {
			t.Fatal(err)
		}
		return
	}
	lib := findONNXRuntime(hostBackendEnv())
	if lib == "" {
		testenv.Missing(t, "no ONNX Runtime library (make setup installs it)")
	}
	tmp, home := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestONNXRuntimeLeavesNoFiles$", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envORTTelemetry+"=") && !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, ortChildEnv+"=1", "TMPDIR="+tmp, "HOME="+home, envORTLibrary+"="+lib)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 { // Go's * matches dot files too
		t.Errorf("the process left %v in its TMPDIR", left)
	}
	if _, err := os.Stat(filepath.Join(home, ".cache", "Microsoft")); err == nil {
		t.Errorf("the process wrote %s", filepath.Join(home, ".cache", "Microsoft"))
	}
}

// aelab builds with its patched copy of GoMLX's ONNX Runtime backend (go.mod's replace), whose
// sessions run at the same time: without it the step trainer's shards would queue behind one
// process-wide lock.
func TestGoModReplacesONNXBackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{with .Replace}}{{.Path}}{{end}}", onnxModule).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m %s: %v\n%s", onnxModule, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "./"+patchedONNXModule {
		t.Errorf("go.mod replaces %s by %q, want ./%s (see third_party/README.md)", onnxModule, got, patchedONNXModule)
	}
	if !opsFor("onnxruntime").dataParallel {
		t.Error("the ONNX Runtime backend does not enable data parallelism")
	}
}

// A program shards its convolutional models only when it was built with the patched backend:
// a notebook whose go.mod lacks the replace trains whole batches.
func TestUsesPatchedONNX(t *testing.T) {
	dep := func(replace string) *debug.Module {
		m := &debug.Module{Path: onnxModule, Version: "v0.0.0-20260730095030-43334863f719"}
		if replace != "" {
			m.Replace = &debug.Module{Path: replace, Version: "(devel)"}
		}
		return m
	}
	other := &debug.Module{Path: "github.com/gomlx/gomlx", Version: "v0.28.2"}
	for _, tc := range []struct {
		name string
		deps []*debug.Module
		want bool
	}{
		{"aelab's binary", []*debug.Module{other, dep("./third_party/compute-onnx")}, true},
		{"a notebook with the replace", []*debug.Module{other, dep("/home/me/aelab/notebooks/../third_party/compute-onnx")}, true},
		{"a notebook without it", []*debug.Module{other, dep("")}, false},
		{"another copy", []*debug.Module{other, dep("/src/compute-onnx")}, false},
		{"a test binary (no dependencies recorded)", nil, true},
	} {
		if got := usesPatchedONNX(&debug.BuildInfo{Deps: tc.deps}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
