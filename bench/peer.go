package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
)

// DefaultPython is the interpreter the PyTorch peer runs under: Debian's own, where
// python3-torch installs (the first python3 on PATH may be another one without Debian's
// packages).
const DefaultPython = "/usr/bin/python3"

// PeerPyTorch is the name of the PyTorch peer, as runs and tables show it.
const PeerPyTorch = "pytorch"

// InstallHint says how to get the PyTorch peer's packages.
const InstallHint = "install Debian's python3-torch and an optimised BLAS: bash scripts/setup.sh --peer (make bench-peer does)"

//go:embed pytorch_reference.py
var pytorchReference []byte

// PeerOptions are the knobs of a peer process.
type PeerOptions struct {
	Python  string    // interpreter; DefaultPython when empty
	Threads int       // intra-op threads; runtime.NumCPU() when 0
	Stderr  io.Writer // where the peer's own messages go besides the error reports; nil for nowhere
}

// withDefaults fills in what o leaves to the defaults.
func (o PeerOptions) withDefaults() PeerOptions {
	if o.Python == "" {
		o.Python = DefaultPython
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	return o
}

// PeerInfo is what a peer says of itself once its model is built.
type PeerInfo struct {
	Name    string `json:"name"`    // PeerPyTorch
	Version string `json:"version"` // the framework's version: "1.13.0a0"
	Threads int    `json:"threads"`
	BLAS    string `json:"blas"`   // the BLAS library its matrix products go through
	Params  int    `json:"params"` // trainable values of its model, counted by the framework
}

// String is a one-line description: "PyTorch 1.13.0a0, 2 threads, BLAS …/libblas.so.3".
func (i PeerInfo) String() string {
	return fmt.Sprintf("PyTorch %s, %d threads, BLAS %s", i.Version, i.Threads, i.BLAS)
}

// PeerEpoch is one epoch of a peer: its metrics as aelib reports its own, and its memory.
type PeerEpoch struct {
	aelib.EpochMetrics
	RSSMiB     float64 `json:"rss_mib"`      // resident memory at the end of the epoch
	PeakRSSMiB float64 `json:"peak_rss_mib"` // the peer process's peak so far
}

// Peer is a running peer process training one model.
type Peer struct {
	Info PeerInfo

	cmd       *exec.Cmd
	stdin     io.WriteCloser
	lines     *bufio.Scanner
	stderr    *tailBuffer
	dir       string // the data files, the script and the reconstructions
	nTest     int
	steps     int // per epoch
	epochs    int // done so far
	waited    bool
	waitError error
}

// StartPyTorch starts the PyTorch reference training cfg's model on the splits: it writes the
// splits' inputs and targets for the peer into a temporary folder, starts the script and waits
// until the model is built. Only the course's models (vanilla, deep, denoise) have a reference.
func StartPyTorch(ctx context.Context, cfg aelib.Config, s aelib.Splits, opts PeerOptions) (_ *Peer, err error) {
	arch, err := cfg.Architecture()
	if err != nil {
		return nil, err
	}
	switch cfg.Model {
	case aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise:
	default:
		return nil, fmt.Errorf("bench: the PyTorch reference has no %s model (it has vanilla, deep and denoise)", cfg.Model)
	}
	opts = opts.withDefaults()
	dir, err := os.MkdirTemp("", "aelab-peer-*")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	p := &Peer{dir: dir, nTest: s.NTest, steps: (s.NTrain + cfg.BatchSize - 1) / cfg.BatchSize}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	files, err := p.writeData(s)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "pytorch_reference.py")
	if err := os.WriteFile(script, pytorchReference, 0o644); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	peerCfg := map[string]any{
		"model": cfg.Model, "widths": cfg.Widths, "filters": cfg.Filters,
		"batch_size": cfg.BatchSize, "learning_rate": cfg.LearningRate, "seed": cfg.Seed, "threads": opts.Threads,
		"n_train": s.NTrain, "n_test": s.NTest, "recon_path": filepath.Join(dir, "recon.f32"),
	}
	for k, v := range files {
		peerCfg[k] = v
	}
	cfgJSON, err := json.Marshal(peerCfg)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.CommandContext(ctx, opts.Python, script, string(cfgJSON))
	p.cmd.WaitDelay = 5 * time.Second
	p.cmd.Env = PeerEnv()
	p.stderr = &tailBuffer{max: 8 << 10}
	p.cmd.Stderr = p.stderr
	if opts.Stderr != nil {
		p.cmd.Stderr = io.MultiWriter(p.stderr, opts.Stderr)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	p.lines = bufio.NewScanner(stdout)
	p.lines.Buffer(make([]byte, 64<<10), 1<<20)
	if err := p.cmd.Start(); err != nil {
		hint := ""
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
			hint = " (" + InstallHint + ")"
		}
		return nil, fmt.Errorf("bench: starting the PyTorch reference with %s: %w%s", opts.Python, err, hint)
	}
	if err := p.read("ready", &p.Info); err != nil {
		return nil, err
	}
	p.Info.Name = PeerPyTorch
	if total, _, _ := arch.Params(); p.Info.Params != total {
		return nil, fmt.Errorf("bench: the PyTorch reference's %s model has %d parameters, aelab's %d: they are not the same model",
			cfg.Model, p.Info.Params, total)
	}
	return p, nil
}

// writeData writes the splits as raw little-endian float32 files and returns the config keys
// that name them. Targets that are the inputs themselves (no noise) are written once.
func (p *Peer) writeData(s aelib.Splits) (map[string]string, error) {
	files := map[string]string{}
	written := map[*float32]string{}
	for _, f := range []struct {
		key    string
		values []float32
	}{{"train_inputs", s.TrainInputs}, {"train_targets", s.TrainTargets}, {"test_inputs", s.TestInputs}, {"test_targets", s.TestTargets}} {
		if len(f.values) == 0 {
			return nil, fmt.Errorf("bench: no %s", strings.ReplaceAll(f.key, "_", " "))
		}
		if path, ok := written[&f.values[0]]; ok {
			files[f.key] = path
			continue
		}
		path := filepath.Join(p.dir, f.key+".f32")
		if err := writeFloat32s(path, f.values); err != nil {
			return nil, err
		}
		files[f.key], written[&f.values[0]] = path, path
	}
	return files, nil
}

func writeFloat32s(path string, values []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for _, v := range values {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	return nil
}

// Epoch trains the peer's model for one epoch and validates it on the test split.
func (p *Peer) Epoch() (PeerEpoch, error) {
	var e PeerEpoch
	if err := p.send("epoch"); err != nil {
		return e, err
	}
	if err := p.read("epoch", &e); err != nil {
		return e, err
	}
	p.epochs++
	e.Step = int64(p.epochs * p.steps)
	return e, nil
}

// Finish ends the peer's training and returns its reconstructions of the test inputs (NTest×784
// values in [0,1]) and the peer process's peak resident memory in MiB.
func (p *Peer) Finish() (recon []float32, peakRSSMiB float64, err error) {
	if err := p.send("finish"); err != nil {
		return nil, 0, err
	}
	var done struct {
		PeakRSSMiB float64 `json:"peak_rss_mib"`
	}
	if err := p.read("done", &done); err != nil {
		return nil, 0, err
	}
	raw, err := os.ReadFile(filepath.Join(p.dir, "recon.f32"))
	if err != nil {
		return nil, 0, fmt.Errorf("bench: the PyTorch reference's reconstructions: %w", err)
	}
	if want := p.nTest * data.Pixels * 4; len(raw) != want {
		return nil, 0, fmt.Errorf("bench: the PyTorch reference wrote %d bytes of reconstructions, want %d", len(raw), want)
	}
	recon = make([]float32, p.nTest*data.Pixels)
	for i := range recon {
		recon[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return recon, done.PeakRSSMiB, nil
}

// Close stops the peer process if it still runs and removes its temporary folder.
func (p *Peer) Close() error {
	var err error
	if p.cmd != nil && p.cmd.Process != nil && !p.waited {
		p.stdin.Close() // the script ends at the end of its input
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
			}
		}()
		p.wait()
		close(done)
	}
	if p.dir != "" {
		err = os.RemoveAll(p.dir)
		p.dir = ""
	}
	return err
}

func (p *Peer) wait() error {
	if !p.waited {
		p.waited, p.waitError = true, p.cmd.Wait()
	}
	return p.waitError
}

func (p *Peer) send(cmd string) error {
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		return p.failure(fmt.Sprintf("sending %q", cmd), err)
	}
	return nil
}

// read decodes the peer's next line, which must be the event want, into v.
func (p *Peer) read(want string, v any) error {
	if !p.lines.Scan() {
		return p.failure("waiting for "+want, p.lines.Err())
	}
	line := p.lines.Bytes()
	var head struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.Event != want {
		return fmt.Errorf("bench: the PyTorch reference sent %q, want a %q line", truncate(string(line), 200), want)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("bench: the PyTorch reference's %q line %q: %w", want, truncate(string(line), 200), err)
	}
	return nil
}

// failure explains why the peer stopped talking: its exit status and the end of its stderr.
func (p *Peer) failure(doing string, err error) error {
	p.stdin.Close()
	exitErr := p.wait()
	msg := strings.TrimSpace(p.stderr.String())
	hint := ""
	if strings.Contains(msg, "No module named 'torch'") || strings.Contains(msg, "No module named 'numpy'") {
		hint = " (" + InstallHint + ")"
	}
	cause := errors.Join(err, exitErr)
	if cause == nil {
		cause = errors.New("it ended its output")
	}
	if msg != "" {
		return fmt.Errorf("bench: the PyTorch reference stopped while %s: %w%s; it said:\n%s", doing, cause, hint, msg)
	}
	return fmt.Errorf("bench: the PyTorch reference stopped while %s: %w%s", doing, cause, hint)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string { return t.buf.String() }
