package track

import (
	"math"
	"strconv"
	"strings"
)

// Limits on what a program's stdout may log: its text is untrusted.
const (
	MaxMetricName  = 100  // characters of a metric name
	MaxMetricsLine = 4096 // bytes of a line read for metrics (a longer line is passed through, not read)
	maxLinePairs   = 64   // name=value pairs in one metrics line
)

// MetricLine is what one line of a program's stdout logs: metric values, and the step and
// epoch they belong to when the line names them.
type MetricLine struct {
	Values   map[string]float64
	Step     int64 // from step=, else from epoch=
	HasStep  bool
	Epoch    int
	HasEpoch bool
}

// ParseMetricLine reads a line of name=value pairs, Katib's stdout format:
// "epoch=3 loss=0.25 val_loss=0.31" logs loss and val_loss at step 3 of epoch 3; step=N
// sets the step alone. A line is a metrics line only when every word of it is such a pair
// (other output is not metrics: ok false, bad false). A metrics line with a bad pair — a
// name outside [A-Za-z0-9_.-/] or longer than MaxMetricName, a value that is not a finite
// number, a step or epoch that is not a non-negative integer, a name given twice — logs
// nothing and says bad.
func ParseMetricLine(line string) (m MetricLine, ok, bad bool) {
	line = strings.TrimRight(line, "\r\n")
	if len(line) > MaxMetricsLine {
		return m, false, false
	}
	words := strings.Fields(line)
	if len(words) == 0 || len(words) > maxLinePairs {
		return m, false, false
	}
	for _, w := range words {
		if i := strings.IndexByte(w, '='); i <= 0 || i == len(w)-1 {
			return m, false, false
		}
	}
	m.Values = make(map[string]float64, len(words))
	for _, w := range words {
		name, text, _ := strings.Cut(w, "=")
		if !validMetricName(name) {
			return MetricLine{}, false, true
		}
		switch name {
		case "step", "epoch":
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil || n < 0 || (name == "epoch" && n > math.MaxInt32) {
				return MetricLine{}, false, true
			}
			if name == "step" && !m.HasStep {
				m.Step, m.HasStep = n, true
			} else if name == "epoch" && !m.HasEpoch {
				m.Epoch, m.HasEpoch = int(n), true
			} else {
				return MetricLine{}, false, true // given twice
			}
			continue
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return MetricLine{}, false, true
		}
		if _, dup := m.Values[name]; dup {
			return MetricLine{}, false, true
		}
		m.Values[name] = v
	}
	if m.HasEpoch && !m.HasStep {
		m.Step, m.HasStep = int64(m.Epoch), true
	}
	return m, true, false
}

// validMetricName reports whether a metric name from a program's output may be stored:
// 1 to MaxMetricName characters of letters, digits, '_', '.', '-' and '/', starting with a
// letter or '_'.
func validMetricName(name string) bool {
	if name == "" || len(name) > MaxMetricName {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-' || c == '/'):
		default:
			return false
		}
	}
	return true
}
