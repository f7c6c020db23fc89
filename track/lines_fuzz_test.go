package track_test

import (
	"math"
	"strings"
	"testing"

	"github.com/aelab/aelab/track"
)

// FuzzParseMetricLine: a program's stdout is untrusted; whatever a line holds, what it logs has
// valid names and finite values, and a line is never both metrics and bad.
func FuzzParseMetricLine(f *testing.F) {
	for _, s := range []string{"epoch=3 loss=0.25 val_loss=0.31", "step=10 acc=0.9", "loss=nan", "a=1 a=2", "x=1e999", "hello", "=", "a= b=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, ok, bad := track.ParseMetricLine(line)
		if ok && bad {
			t.Fatalf("%q: both a metrics line and bad", line)
		}
		if !ok && len(m.Values) > 0 {
			t.Fatalf("%q: not a metrics line but logs %v", line, m.Values)
		}
		for k, v := range m.Values {
			if k == "" || len(k) > track.MaxMetricName || strings.ContainsAny(k, " =\t\n\r") || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q logs %q=%v", line, k, v)
			}
		}
		if m.Step < 0 || m.Epoch < 0 {
			t.Fatalf("%q: step %d epoch %d", line, m.Step, m.Epoch)
		}
	})
}
