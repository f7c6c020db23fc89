//go:build linux && amd64 && onnx

package aelib

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
		if os.Getenv("CI") == "true" {
			t.Fatal("no ONNX Runtime library: run `make setup`")
		}
		t.Skip("no ONNX Runtime library (run `make setup`)")
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
