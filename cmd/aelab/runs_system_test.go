package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRunsShowSystem trains a real run and checks that `runs show` sums up its system.*
// metrics in their own section and keeps them out of the latest metrics and the history.
func TestRunsShowSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU and memory are sampled from /proc (Linux)")
	}
	db := filepath.Join(t.TempDir(), "aelab.db")
	if code, _, stderr := runAelab(t, "train", "--model", "vanilla", "--epochs", "2", "--subset", "512", "--test-subset", "256", "--db", db, "--progress=false"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	code, out, stderr := runAelab(t, "runs", "list", "--db", db, "--json")
	var runs []struct{ ID string }
	if err := json.Unmarshal([]byte(out), &runs); code != 0 || err != nil || len(runs) != 1 {
		t.Fatalf("runs list --json: exit %d, %v: %s", code, err, stderr)
	}
	code, out, stderr = runAelab(t, "runs", "show", runs[0].ID, "--db", db)
	if code != 0 {
		t.Fatalf("runs show: exit %d: %s", code, stderr)
	}
	i := strings.Index(out, "\nSystem (")
	if i < 0 {
		t.Fatalf("no System section:\n%s", out)
	}
	system, rest := out[i:], out[:i]
	for _, want := range []string{"system.cpu_percent", "system.rss_bytes", "system.rss_peak_bytes"} {
		if !strings.Contains(system, want) {
			t.Errorf("System section lacks %q:\n%s", want, system)
		}
	}
	// Memory in bytes' units: the test process may hold more or less than a gigabyte.
	if !regexp.MustCompile(`\d (MB|GB) `).MatchString(system) {
		t.Errorf("System section shows no memory in MB or GB:\n%s", system)
	}
	if strings.Contains(rest, "system.") {
		t.Errorf("system metrics listed outside their section:\n%s", rest)
	}
}
