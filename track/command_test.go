package track_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/tracker"
)

// childEnv makes this test binary a Go training program that uses the package (see TestMain).
const childEnv = "TRACK_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "attach": // a Go program run by RunCommand: it logs into the run it is given
		run, err := track.Start(context.Background(), track.Options{Params: map[string]string{"from": "go"}})
		if err != nil || !run.Attached() {
			fmt.Fprintln(os.Stderr, "not attached:", err)
			os.Exit(3)
		}
		fmt.Println("epoch=1 loss=0.5")
		run.Log(5, map[string]float64{"go_metric": 42})
		if err := run.End(nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		os.Exit(0)
	case "interrupt": // a Go program interrupted while it trains
		run, err := track.Start(context.Background(), track.Options{DB: os.Getenv("TRACK_TEST_DB")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		run.Log(1, map[string]float64{"loss": 1})
		fmt.Println("ready", run.ID())
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A Go program that RunCommand runs logs into the same run through track.Start, beside the
// metrics of its stdout, and the run ends as the program exits.
func TestRunCommandGoProgramAttaches(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	var stdout bytes.Buffer
	res, err := track.RunCommand(context.Background(), track.Command{
		Args: []string{os.Args[0], "-test.run=^$"}, Env: []string{childEnv + "=attach"},
		Options: track.Options{DB: db, Experiment: "go"}, Stdout: &stdout, Stderr: os.Stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != tracker.StatusFinished || res.ExitCode != 0 {
		t.Fatalf("%+v", res)
	}
	rec := openRecord(t, db, res.RunID)
	if rec.Metrics["go_metric"] != 42 || rec.Metrics["loss"] != 0.5 || rec.Params["from"] != "go" || rec.Status != tracker.StatusFinished {
		t.Errorf("run %s: metrics %v, params %v", rec.Status, rec.Metrics, rec.Params)
	}
}

// SIGINT to a Go program ends its run KILLED, and the program then stops as it would
// without the run.
func TestInterruptEndsTheRunKilled(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=interrupt", "TRACK_TEST_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 100)
	n, _ := out.Read(line)
	fields := strings.Fields(string(line[:n]))
	if len(fields) != 2 || fields[0] != "ready" {
		t.Fatalf("child said %q", line[:n])
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the program ended with %v, want killed by the SIGINT it would have died of", err)
	}
	rec := openRecord(t, db, fields[1])
	if rec.Status != tracker.StatusKilled || rec.Error != "interrupted by interrupt" || rec.Metrics["loss"] != 1 {
		t.Errorf("run %s %q, metrics %v", rec.Status, rec.Error, rec.Metrics)
	}
}

// A program's output reaches stdout as it writes it, partial lines (a progress bar) too.
func TestRunCommandPassesPartialLinesAtOnce(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "seen")
	out := &syncBuffer{}
	done := make(chan *track.CommandResult, 1)
	go func() {
		res, err := track.RunCommand(context.Background(), track.Command{
			Args:    []string{"sh", "-c", `printf 'progress 50%%\r'; i=0; while [ ! -f "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -f "$1" ]`, "sh", flag},
			Options: track.Options{DB: filepath.Join(dir, "aelab.db")}, Stdout: out,
		})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for i := 0; !strings.Contains(out.String(), "progress 50%\r"); i++ {
		if i > 200 {
			t.Fatalf("the partial line did not come through while the program ran: %q", out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	os.WriteFile(flag, nil, 0o644)
	if res := <-done; res == nil || res.ExitCode != 0 || out.String() != "progress 50%\r" {
		t.Errorf("result %+v, output %q", res, out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A program killed by a signal nobody sent through the run (the OOM killer's SIGKILL) FAILED.
func TestRunCommandKilledBySignalFails(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	res, err := track.RunCommand(context.Background(), track.Command{
		Args: []string{"sh", "-c", `echo "step=1 loss=3"; echo "allocating" >&2; kill -KILL $$`}, Options: track.Options{DB: db},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != tracker.StatusFailed || res.ExitCode != 137 || res.Reason != "killed by signal: killed: allocating" {
		t.Errorf("%+v", res)
	}
}
