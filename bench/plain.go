package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:embed pytorch_plain.py
var pytorchPlain []byte

// PlainModels are the models pytorch_plain.py builds, with the course's batch sizes.
var PlainModels = []string{"vanilla", "deep", "denoise"}

// peerMalloc is how every PyTorch process aelab starts has glibc's malloc keep the memory it
// frees: without it, PyTorch's CPU allocator gets each activation-sized block from a fresh
// mmap and hands it back on free, so every step faults its pages in again (docs/performance.md,
// "An honest peer"). PyTorch's CPU performance guide asks for an allocator that keeps memory
// (jemalloc, tcmalloc); these two glibc tunables do that without installing one.
var peerMalloc = []string{"MALLOC_MMAP_THRESHOLD_=4294967296", "MALLOC_TRIM_THRESHOLD_=4294967296"}

// PeerEnv is the environment of a PyTorch process: this process's, plus peerMalloc's settings
// the user has not set.
func PeerEnv() []string {
	env := os.Environ()
	for _, kv := range peerMalloc {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := os.LookupEnv(k); !set {
			env = append(env, kv)
		}
	}
	return env
}

// PlainEpoch is one epoch of the plain script.
type PlainEpoch struct {
	Epoch   int     `json:"epoch"`
	Seconds float64 `json:"seconds"` // training only
	Loss    float64 `json:"loss"`
	Params  int     `json:"params"` // trainable values of its model
}

// RunPlain trains model with the plain PyTorch script (pytorch_plain.py) for epochs epochs on
// the MNIST files in mnistDir, on its own, and returns its epochs. knobs are the script's
// levers (see its header); none gives the fastest form.
func RunPlain(ctx context.Context, model string, epochs int, mnistDir string, opts PeerOptions, knobs ...string) ([]PlainEpoch, error) {
	if !slices.Contains(PlainModels, model) {
		return nil, fmt.Errorf("bench: the plain PyTorch script has no %s model (it has %s)", model, strings.Join(PlainModels, ", "))
	}
	if epochs < 1 {
		return nil, fmt.Errorf("bench: the plain PyTorch script needs at least one epoch, not %d", epochs)
	}
	opts = opts.withDefaults()
	dir, err := os.MkdirTemp("", "aelab-plain-*")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "pytorch_plain.py")
	if err := os.WriteFile(script, pytorchPlain, 0o644); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	args := append([]string{script, model, strconv.Itoa(epochs), strconv.Itoa(opts.Threads), mnistDir}, knobs...)
	cmd := exec.CommandContext(ctx, opts.Python, args...)
	cmd.Env = PeerEnv()
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		hint := ""
		msg := strings.TrimSpace(stderr.String())
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) || strings.Contains(msg, "No module named") {
			hint = " (" + InstallHint + ")"
		}
		if msg != "" {
			msg = "; it said:\n" + msg
		}
		return nil, fmt.Errorf("bench: the plain PyTorch script (%s): %w%s%s", model, err, hint, msg)
	}
	var got []PlainEpoch
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var e PlainEpoch
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("bench: the plain PyTorch script printed %q: %w", truncate(sc.Text(), 200), err)
		}
		got = append(got, e)
	}
	if len(got) != epochs {
		return nil, fmt.Errorf("bench: the plain PyTorch script reported %d epochs, want %d", len(got), epochs)
	}
	return got, nil
}
