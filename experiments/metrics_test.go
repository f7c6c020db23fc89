package experiments

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// aelib.EpochMetrics names its fields as the schema's per-epoch metrics (issue #10, item 14:
// its JSON said val_loss while runs logged val_bce).
func TestEpochMetricsJSONNamesAreTheSchema(t *testing.T) {
	raw, err := json.Marshal(aelib.EpochMetrics{})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "epoch")
	delete(fields, "step")
	for name := range fields {
		if m, ok := LookupMetric(name); !ok || m.Kind != PerEpoch {
			t.Errorf("aelib.EpochMetrics field %q is not a per-epoch metric of the schema", name)
		}
	}
	for _, m := range Metrics() {
		if _, ok := fields[m.Name]; m.Kind == PerEpoch && !ok {
			t.Errorf("per-epoch metric %s is not a field of aelib.EpochMetrics", m.Name)
		}
	}
}

// checkAgainstSchema checks what a real run logged against the schema: everything is declared,
// with the kind it is logged as; every declared per-epoch metric has one point per epoch, the
// model's measures and, with noise, the denoising metrics are there. TestRunLogsEverything and
// TestRunLogsVariantMetrics call it on their runs.
func checkAgainstSchema(t *testing.T, store *tracker.Store, runID string, cfg aelib.Config) {
	t.Helper()
	hists, err := store.MetricHistories(runID)
	if err != nil {
		t.Fatal(err)
	}
	for name, points := range hists {
		m, ok := LookupMetric(name)
		switch {
		case !ok:
			t.Errorf("%s logged %s, which the schema does not declare", cfg.Model, name)
		case m.Kind == PerEpoch && len(points) != cfg.Epochs:
			t.Errorf("%s: per-epoch %s has %d points for %d epochs", cfg.Model, name, len(points), cfg.Epochs)
		case m.Kind == Final && len(points) != 1:
			t.Errorf("%s: final %s has %d points", cfg.Model, name, len(points))
		case m.Kind == Sampled && len(points) < cfg.Epochs: // the system monitor: one at each epoch's end, more between
			t.Errorf("%s: sampled %s has %d points for %d epochs", cfg.Model, name, len(points), cfg.Epochs)
		}
	}
	for _, m := range Metrics() {
		if _, ok := hists[m.Name]; m.Kind == PerEpoch && !ok {
			t.Errorf("%s did not log per-epoch %s", cfg.Model, m.Name)
		}
	}
	for _, measure := range must(aelib.LookupVariant(cfg.Model)).Measures {
		if _, ok := hists[measure.Name]; !ok {
			t.Errorf("%s did not log its measure %s", cfg.Model, measure.Name)
		}
	}
	if _, ok := hists[NoisyMSE.Name]; ok != (cfg.Noise > 0) {
		t.Errorf("%s (noise %g) logged %s: %v", cfg.Model, cfg.Noise, NoisyMSE.Name, ok)
	}
}

func TestLogSampleRefusesUndeclaredMetrics(t *testing.T) {
	if err := LogSample(nil, map[string]float64{"system.bogus": 1}, 0, 0); err == nil {
		t.Error("LogSample of an undeclared metric: no error")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// NaN, ±Inf and values too large for their format show as "NaN" and "–" (issue #10, item 4:
// the report formatted a NaN parameter count with aelib.Thousands(int(NaN)) and overflowed the stack).
func TestFormatNonFiniteAndHuge(t *testing.T) {
	for _, c := range []struct {
		m    Metric
		v    float64
		want string
	}{
		{ParamCount, math.NaN(), "NaN"},
		{ParamCount, math.Inf(1), "–"},
		{ParamCount, math.Inf(-1), "–"},
		{ParamCount, 1e300, "–"},
		{ParamCount, -1e19, "–"},
		{ParamCount, 476720, "476,720"},
		{ParamCount, -1234.4, "-1,234"},
		{ModelBytesF32, math.NaN(), "NaN"},
		{ModelBytesF32, 1e20, "–"},
		{ModelBytesF32, 1906880, "1.82 MB"},
		{ValBCE, math.NaN(), "NaN"},
		{ValBCE, math.Inf(1), "–"},
		{ValBCE, 0.09123, "0.0912"},
		{TestPSNR, 21.5, "21.50 dB"},
		{ImprovementPct, 83.871, "83.87 %"},
		{SecondsPerEpoch, 2.718, "2.72 s"},
		{TrainSeconds, 1235, "20m35s"},
		{TrainSeconds, 1e300, "1.000e+300 s"},
		{ValBCE, -2e12, "-2.000e+12"},
		{DigitMSE.For(3), 0.0123456, "0.01235"},
	} {
		if got := c.m.Format(c.v); got != c.want {
			t.Errorf("%s.Format(%v) = %q, want %q", c.m.Name, c.v, got, c.want)
		}
	}
	for v, want := range map[float64]string{math.NaN(): "NaN", math.Inf(1): "–", 0.091234: "0.09123", 123456: "123456", 1e6: "1.000e+06", 1e-5: "1.000e-05", 0: "0"} {
		if got := FormatMetric("not_in_the_schema", v); got != want {
			t.Errorf("FormatMetric(unknown, %v) = %q, want %q", v, got, want)
		}
	}
}

// FuzzFormatMetric: the number formatters never panic, whatever the metric and the value;
// non-finite values are "NaN" or "–", and counts read back as the rounded value.
func FuzzFormatMetric(f *testing.F) {
	f.Add("params", 476720.0)
	f.Add("params", math.NaN())
	f.Add("model_bytes_f32", math.Inf(-1))
	f.Add("val_bce", 1e308)
	f.Add("train_seconds", 90.0)
	f.Add("nope", -1e-320)
	f.Fuzz(func(t *testing.T, name string, v float64) {
		s := FormatMetric(name, v)
		if s == "" {
			t.Fatalf("FormatMetric(%q, %v) is empty", name, v)
		}
		switch {
		case math.IsNaN(v) && s != "NaN", math.IsInf(v, 0) && s != "–":
			t.Fatalf("FormatMetric(%q, %v) = %q", name, v, s)
		}
		if name == ParamCount.Name && math.Abs(v) < 1<<52 { // a count: exact, with thousands separators
			back, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
			if err != nil || math.Abs(float64(back)-v) > 0.5 {
				t.Fatalf("%s %v shown as %q", name, v, s)
			}
		}
		_ = FormatNumber(v)
	})
}
