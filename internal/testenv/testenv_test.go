package testenv_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/testenv"
)

// TestMissingFailsOnCIAndSkipsElsewhere runs a test that lacks a part in a child process, once
// with CI=true and once without: the first fails with the reason, the second is skipped with it.
func TestMissingFailsOnCIAndSkipsElsewhere(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		testenv.Need(t, errors.New("no such thing"), "the widget (apt-get install widget)")
		t.Fatal("Need returned although the part is missing")
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsOnCIAndSkipsElsewhere$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		text := string(out)
		if !strings.Contains(text, "the widget (apt-get install widget): no such thing") {
			t.Errorf("CI=%q: the reason is not in the output:\n%s", ci, text)
		}
		switch ci {
		case "true":
			if err == nil || !strings.Contains(text, "--- FAIL") {
				t.Errorf("CI=true: want a failure, got err=%v:\n%s", err, text)
			}
		default:
			if err != nil || !strings.Contains(text, "--- SKIP") {
				t.Errorf("CI unset: want a skip, got err=%v:\n%s", err, text)
			}
		}
	}
}

func TestNeedPassesWhenPresent(t *testing.T) {
	testenv.Need(t, nil, "never said")
}
