package track

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aelab/aelab/tracker"
)

// Command is a program run as a tracked run (`aelab run`, a program sweep's trial).
type Command struct {
	// Args are the program and its arguments.
	Args []string
	// Options say which store, experiment, name, params and tags (Options.NoSignals and
	// Options.Stderr are not used: Stderr below is the program's).
	Options
	// Dir is the program's working folder ("" for this process's).
	Dir string
	// Env is added to this process's environment for the program (after AELAB_RUN_ID and
	// AELAB_DB, which RunCommand sets).
	Env []string
	// Stdin, Stdout and Stderr are the program's; its output is copied to Stdout and Stderr
	// unchanged (nil: discarded).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Started is told the run's id once it is recorded, before the program starts.
	Started func(runID string)
	// Metrics is told each metrics line once it is logged; ErrStopProgram from it stops the
	// program (early stopping) and the run ends FINISHED.
	Metrics func(step int64, epoch int, values map[string]float64) error
	// StopGrace is how long a program has to exit after the signal that stops it, before it
	// is killed (default 10 s).
	StopGrace time.Duration
}

// ErrStopProgram, returned by Command.Metrics, stops the program: the run ends FINISHED.
var ErrStopProgram = errors.New("stopped early")

// SignalError is a cause of a cancelled context that RunCommand forwards to its program as
// that signal (`aelab run` on SIGINT or SIGTERM); other causes send SIGTERM.
type SignalError struct{ Signal os.Signal }

func (e SignalError) Error() string { return "interrupted by " + e.Signal.String() }

// CommandResult is how a program's run ended.
type CommandResult struct {
	RunID    string
	Status   tracker.Status
	Reason   string // why it FAILED or was KILLED: the last lines of its stderr, the signal
	ExitCode int    // the program's exit status; 128+N when signal N ended it
	// MetricLines were logged; BadLines looked like metrics lines but had a bad name or value
	// and were not logged.
	MetricLines, BadLines int
	StoreErr              error // what the store could not record (the program ran anyway)
}

// stderrTail is how many of the program's last stderr lines a FAILED run keeps as its reason.
const stderrTail = 10

// RunCommand runs a program as a run: it records the command and the environment (without
// variables whose names say they hold a secret, and without any database password), passes
// the run to the program in AELAB_RUN_ID and AELAB_DB, logs the name=value lines of its
// stdout as metrics (ParseMetricLine), and ends the run FINISHED on exit status 0, FAILED
// with the last lines of its stderr otherwise, KILLED when ctx ends (the program gets the
// signal of a SignalError cause, else SIGTERM, and SIGKILL after StopGrace).
//
// The error is one that kept the program from running (no store, no such program); the
// program's own failure is in the result.
func RunCommand(ctx context.Context, c Command) (*CommandResult, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("track: run command: no program given")
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 10 * time.Second
	}
	path, err := exec.LookPath(c.Args[0])
	if err != nil {
		return nil, fmt.Errorf("track: run command: %w", err)
	}
	env := ScrubbedEnv(os.Environ())
	config, _ := json.Marshal(map[string]any{"command": c.Args, "dir": c.Dir, "env": env})
	o := c.Options
	o.Config, o.NoSignals = config, true
	o.Tags = mergeTags(o.Tags, map[string]string{"env.command": strings.Join(c.Args, " ")})
	if o.Source == "" {
		o.Source = "aelab run"
	}
	run, err := startOwned(o)
	if err != nil {
		return nil, err
	}
	res := &CommandResult{RunID: run.ID()}
	if c.Started != nil {
		c.Started(res.RunID)
	}

	cmd := exec.Command(path, c.Args[1:]...)
	cmd.Args[0] = c.Args[0]
	cmd.Dir = c.Dir
	db := o.DB
	if db == "" {
		db = run.store.Path()
	}
	cmd.Env = append(os.Environ(), EnvRunID+"="+res.RunID, EnvDB+"="+db)
	cmd.Env = append(cmd.Env, c.Env...)
	cmd.Stdin = c.Stdin
	tail := &tailWriter{w: c.Stderr}
	cmd.Stderr = tail
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		res.Status, res.Reason, res.ExitCode = tracker.StatusFailed, "cannot start: "+err.Error(), -1
		res.StoreErr = run.finish(res.Status, res.Reason)
		return res, fmt.Errorf("track: run command: %w", err)
	}

	var (
		stopOnce sync.Once
		stopped  = make(chan os.Signal, 1) // the signal sent to stop the program
		early    bool
	)
	stop := func(sig os.Signal) {
		stopOnce.Do(func() {
			stopped <- sig
			cmd.Process.Signal(sig)
			go func() {
				time.Sleep(c.StopGrace)
				cmd.Process.Kill() // fails harmlessly once the program has exited
			}()
		})
	}
	unwatch := context.AfterFunc(ctx, func() {
		var se SignalError
		if errors.As(context.Cause(ctx), &se) {
			stop(se.Signal)
			return
		}
		stop(syscall.SIGTERM)
	})
	defer unwatch()

	var lastStep int64
	readErr := readMetrics(stdout, c.Stdout, func(m MetricLine) {
		res.MetricLines++
		if !m.HasStep {
			m.Step = lastStep + 1
		}
		lastStep = m.Step
		run.LogEpoch(m.Step, m.Epoch, m.Values)
		if c.Metrics != nil && errors.Is(c.Metrics(m.Step, m.Epoch, m.Values), ErrStopProgram) {
			early = true
			stop(syscall.SIGTERM)
		}
	}, &res.BadLines)
	waitErr := cmd.Wait()
	res.ExitCode = exitCode(cmd.ProcessState)
	var sent os.Signal
	select {
	case sent = <-stopped:
	default:
	}
	switch {
	case early:
		res.Status = tracker.StatusFinished
		run.SetTag("run.stopped_early", "true")
	case sent != nil && ctx.Err() != nil:
		res.Status, res.Reason = tracker.StatusKilled, context.Cause(ctx).Error()
	case waitErr == nil && readErr == nil:
		res.Status = tracker.StatusFinished
	default:
		res.Status = tracker.StatusFailed
		res.Reason = fmt.Sprintf("exit status %d", res.ExitCode)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Reason = "killed by signal: " + ws.Signal().String() // e.g. the kernel's OOM killer
		} else if readErr != nil && waitErr == nil {
			res.Reason = "reading its output: " + readErr.Error()
		}
		if t := tail.lines(); t != "" {
			res.Reason += ": " + t
		}
	}
	run.SetTag("run.exit_code", strconv.Itoa(res.ExitCode))
	if res.BadLines > 0 {
		run.SetTag("run.bad_metric_lines", strconv.Itoa(res.BadLines))
	}
	res.StoreErr = run.finish(res.Status, res.Reason)
	return res, nil
}

// startOwned starts a run of this process's own, never attaching to $AELAB_RUN_ID: a program
// run under another run is a run of its own.
func startOwned(o Options) (*Run, error) {
	r := &Run{ctx: context.Background(), stderr: os.Stderr, stopSig: func() {}}
	if o.Stderr != nil {
		r.stderr = o.Stderr
	}
	if err := r.open(o, ""); err != nil {
		return nil, fmt.Errorf("track: run command: %w", err)
	}
	return r, nil
}

// finish ends the run with the status RunCommand decided.
func (r *Run) finish(status tracker.Status, reason string) error {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	if n := r.Failures(); n > 0 {
		reason = joinReason(reason, fmt.Sprintf("%d tracking calls failed, the first: %v", n, r.firstErr))
	}
	err := r.run.Finish(status, reason)
	if r.ownsStore {
		err = errors.Join(err, r.store.Close())
	}
	return err
}

// readMetrics copies r to out unchanged, as soon as it reads it (a progress bar's partial
// lines too), and calls logLine for each metrics line.
func readMetrics(r io.Reader, out io.Writer, logLine func(MetricLine), bad *int) error {
	if out == nil {
		out = io.Discard
	}
	buf := make([]byte, 32<<10)
	line := make([]byte, 0, 256)
	long := false // the line is longer than MaxMetricsLine: passed through, not read
	endLine := func() {
		if !long && len(line) > 0 {
			if m, ok, isBad := ParseMetricLine(string(line)); ok {
				logLine(m)
			} else if isBad {
				*bad++
			}
		}
		line, long = line[:0], false
	}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				out = io.Discard // our own stdout is gone: keep reading so the program is not blocked
			}
			for chunk := buf[:n]; len(chunk) > 0; {
				i := bytes.IndexByte(chunk, '\n')
				part := chunk
				if i >= 0 {
					part = chunk[:i]
				}
				if !long && len(line)+len(part) <= MaxMetricsLine {
					line = append(line, part...)
				} else {
					long = true
				}
				if i < 0 {
					break
				}
				endLine()
				chunk = chunk[i+1:]
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			endLine()
			return nil
		default:
			io.Copy(io.Discard, r)
			return err
		}
	}
}

// exitCode is a finished process's exit status, 128+N when signal N ended it.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// tailWriter passes a program's stderr through and keeps its last lines.
type tailWriter struct {
	w    io.Writer
	mu   sync.Mutex
	last []string
	part strings.Builder
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.w != nil {
		t.w.Write(p)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			t.push()
			continue
		}
		if t.part.Len() < 500 {
			t.part.WriteByte(b)
		}
	}
	return len(p), nil
}

func (t *tailWriter) push() {
	if line := strings.TrimSpace(t.part.String()); line != "" {
		t.last = append(t.last, line)
		if len(t.last) > stderrTail {
			t.last = t.last[1:]
		}
	}
	t.part.Reset()
}

// lines are the last lines written, joined by " | ".
func (t *tailWriter) lines() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.push()
	return strings.Join(t.last, " | ")
}

func mergeTags(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range b {
		out[k] = v
	}
	for k, v := range a {
		out[k] = v
	}
	return out
}

// secretWords in a variable's name keep it out of a run's recorded environment.
var secretWords = []string{"PASSWORD", "PASSWD", "TOKEN", "SECRET", "CREDENTIAL", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY"}

// ScrubbedEnv is an environment (NAME=value entries) as a run records it: without the
// variables whose names say they hold a secret (PASSWORD, TOKEN, SECRET, …), and with any
// database password in a URL replaced.
func ScrubbedEnv(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		upper := strings.ToUpper(name)
		secret := false
		for _, w := range secretWords {
			if strings.Contains(upper, w) {
				secret = true
				break
			}
		}
		if secret {
			continue
		}
		out[name] = tracker.Redact(value)
	}
	return out
}
