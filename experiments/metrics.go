package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/sysmetrics"
	"github.com/aelab/aelab/tracker"
)

// The metric schema: every metric a run logs is declared once here — its name in the store,
// when it is logged, its unit, which way is better, how to show it — and the runner, the CLI,
// the reports, the UI and the notebooks read names, titles and formats from it. The runner logs
// through the schema (LogEpoch, LogResults, LogSample), so a metric that is not declared here
// cannot be logged, and test fixtures written through the same functions cannot drift from
// real runs.

// Kind says when a run logs a metric.
type Kind int8

// Kinds of metrics.
const (
	PerEpoch Kind = iota + 1 // once per epoch: the run's history (LogEpoch)
	Final                    // once, after training: evaluation, sizes, timings (LogResults)
	Sampled                  // by a system monitor at intervals while the run lives (LogSample)
)

func (k Kind) String() string {
	switch k {
	case PerEpoch:
		return "per-epoch"
	case Final:
		return "final"
	case Sampled:
		return "sampled"
	}
	return "unknown"
}

// Units of metrics. A count is shown as an integer with thousands separators, bytes as
// KB/MB (aelib.Bytes); the others as a decimal number followed by the unit, if any.
const (
	UnitNone         = ""
	UnitSeconds      = "s"
	UnitBytes        = "bytes"
	UnitParams       = "params"
	UnitSteps        = "steps"
	UnitStepsPerSec  = "steps/s"
	UnitPercent      = "%"
	UnitDecibel      = "dB"
	UnitNats         = "nats"
	UnitUnits        = "units"
	UnitPercentOfCPU = "% CPU"
)

// countUnits are shown as integers.
var countUnits = []string{UnitParams, UnitSteps, UnitUnits}

// Metric declares one metric.
type Metric struct {
	Name   string // the key in the store: "val_bce"
	Kind   Kind
	Title  string // short, for column heads, legends and axes: "val BCE"
	Unit   string // one of the Unit constants
	Better aelib.Better
	Digits int // decimals shown (ignored for counts and bytes)

	epoch func(m aelib.EpochMetrics) float64   // PerEpoch: the value in an epoch's measurements
	final func(r *Result) (v float64, ok bool) // Final: the value in a run's result, if it has one
}

// Per-epoch metrics: the run's history.
var (
	TrainLoss         = Metric{Name: "train_loss", Kind: PerEpoch, Title: "train loss", Better: aelib.LowerIsBetter, Digits: 4, epoch: func(m aelib.EpochMetrics) float64 { return m.TrainLoss }}
	ValBCE            = Metric{Name: "val_bce", Kind: PerEpoch, Title: "val BCE", Better: aelib.LowerIsBetter, Digits: 4, epoch: func(m aelib.EpochMetrics) float64 { return m.ValLoss }}
	ValMSE            = Metric{Name: "val_mse", Kind: PerEpoch, Title: "val MSE", Better: aelib.LowerIsBetter, Digits: 5, epoch: func(m aelib.EpochMetrics) float64 { return m.ValMSE }}
	ValMAE            = Metric{Name: "val_mae", Kind: PerEpoch, Title: "val MAE", Better: aelib.LowerIsBetter, Digits: 4, epoch: func(m aelib.EpochMetrics) float64 { return m.ValMAE }}
	EpochSeconds      = Metric{Name: "epoch_seconds", Kind: PerEpoch, Title: "epoch time", Unit: UnitSeconds, Better: aelib.LowerIsBetter, Digits: 2, epoch: func(m aelib.EpochMetrics) float64 { return m.Seconds }}
	EpochTrainSeconds = Metric{Name: "epoch_train_seconds", Kind: PerEpoch, Title: "epoch training time", Unit: UnitSeconds, Better: aelib.LowerIsBetter, Digits: 2, epoch: func(m aelib.EpochMetrics) float64 { return m.TrainSeconds }}
)

// Final metrics: the evaluation on the test split.
var (
	TestBCE        = testMetric("test_bce", "test BCE", UnitNone, aelib.LowerIsBetter, 4, func(e Evaluation) float64 { return e.Test.BCE })
	TestMSE        = testMetric("test_mse", "test MSE", UnitNone, aelib.LowerIsBetter, 5, func(e Evaluation) float64 { return e.Test.MSE })
	TestMAE        = testMetric("test_mae", "test MAE", UnitNone, aelib.LowerIsBetter, 4, func(e Evaluation) float64 { return e.Test.MAE })
	TestPSNR       = testMetric("test_psnr", "PSNR", UnitDecibel, aelib.HigherIsBetter, 2, func(e Evaluation) float64 { return e.Test.PSNR })
	TestSSIM       = testMetric("test_ssim", "SSIM", UnitNone, aelib.HigherIsBetter, 4, func(e Evaluation) float64 { return e.Test.SSIM })
	TestPearson    = testMetric("test_pearson", "correlation", UnitNone, aelib.HigherIsBetter, 4, func(e Evaluation) float64 { return e.Test.Pearson })
	TestSimilarity = testMetric("test_similarity", "similarity (1 − MAE)", UnitPercent, aelib.HigherIsBetter, 2, func(e Evaluation) float64 { return e.Test.Similarity })
)

// Final metrics of a denoising run (a config with noise): noisy inputs and denoised outputs
// against the clean images.
var (
	NoisyMSE       = denoisingMetric("noisy_mse", "noisy MSE", UnitNone, aelib.LowerIsBetter, 4, func(e Evaluation) float64 { return e.Denoising.NoisyMSE })
	DenoisedMSE    = denoisingMetric("denoised_mse", "denoised MSE", UnitNone, aelib.LowerIsBetter, 4, func(e Evaluation) float64 { return e.Denoising.DenoisedMSE })
	ImprovementPct = denoisingMetric("improvement_pct", "improvement", UnitPercent, aelib.HigherIsBetter, 2, func(e Evaluation) float64 { return e.Denoising.ImprovementPct })
	NoisyPSNR      = denoisingMetric("noisy_psnr", "noisy PSNR", UnitDecibel, aelib.HigherIsBetter, 2, func(e Evaluation) float64 { return e.Denoising.NoisyPSNR })
	DenoisedPSNR   = denoisingMetric("denoised_psnr", "denoised PSNR", UnitDecibel, aelib.HigherIsBetter, 2, func(e Evaluation) float64 { return e.Denoising.DenoisedPSNR })
	NoisySSIM      = denoisingMetric("noisy_ssim", "noisy SSIM", UnitNone, aelib.HigherIsBetter, 4, func(e Evaluation) float64 { return e.Denoising.NoisySSIM })
	DenoisedSSIM   = denoisingMetric("denoised_ssim", "denoised SSIM", UnitNone, aelib.HigherIsBetter, 4, func(e Evaluation) float64 { return e.Denoising.DenoisedSSIM })
)

// Final metrics: the model's size.
var (
	ParamCount    = sizeMetric("params", "parameters", UnitParams, func(total, _, _ int) int { return total })
	EncoderParams = sizeMetric("encoder_params", "encoder parameters", UnitParams, func(_, enc, _ int) int { return enc })
	DecoderParams = sizeMetric("decoder_params", "decoder parameters", UnitParams, func(_, _, dec int) int { return dec })
	ModelBytesF32 = sizeMetric("model_bytes_f32", "size (float32)", UnitBytes, func(total, _, _ int) int { return 4 * total })
	ModelBytesF16 = sizeMetric("model_bytes_f16", "size (float16)", UnitBytes, func(total, _, _ int) int { return 2 * total })
)

// Final metrics: how training went and how long it took.
var (
	TrainSeconds    = historyMetric("train_seconds", "training time", UnitSeconds, aelib.LowerIsBetter, 1, func(h *aelib.History) (float64, bool) { return h.Seconds, true })
	SecondsPerEpoch = historyMetric("seconds_per_epoch", "s/epoch", UnitSeconds, aelib.LowerIsBetter, 2, func(h *aelib.History) (float64, bool) { return h.SecondsPerEpoch(), true })
	CompileSeconds  = historyMetric("compile_seconds", "compile time", UnitSeconds, aelib.LowerIsBetter, 1, func(h *aelib.History) (float64, bool) { return h.CompileSeconds, true })
	StepsPerEpoch   = historyMetric("steps_per_epoch", "steps/epoch", UnitSteps, aelib.NeitherBetter, 0, func(h *aelib.History) (float64, bool) { return float64(h.StepsPerEpoch), true })
	StepsPerSecond  = historyMetric("steps_per_second", "steps/s", UnitStepsPerSec, aelib.HigherIsBetter, 1, func(h *aelib.History) (float64, bool) {
		return float64(h.StepsPerEpoch) / max(h.SecondsPerEpoch(), 1e-9), len(h.Epochs) > 0
	})
	FinalTrainLoss = historyMetric("final_train_loss", "final train loss", UnitNone, aelib.LowerIsBetter, 4, func(h *aelib.History) (float64, bool) {
		if len(h.Epochs) == 0 {
			return 0, false
		}
		return h.Epochs[len(h.Epochs)-1].TrainLoss, true
	})
)

// DigitMSE is the family of final metrics digit_mse_0 … digit_mse_9, the test MSE of each
// class; For names one.
var DigitMSE = Metric{Name: "digit_mse_", Kind: Final, Title: "MSE of digit ", Better: aelib.LowerIsBetter, Digits: 5}

// For is the metric of one digit class: DigitMSE.For(7) is digit_mse_7.
func (m Metric) For(digit int) Metric {
	m.Name += strconv.Itoa(digit)
	m.Title += strconv.Itoa(digit)
	return m
}

// Sampled metrics: the machine while the run lives, logged by a system monitor (LogSample; see
// sysmetrics.Sample.Metrics): the training process's CPU time over wall time as a share of all cores, its
// resident memory now and at its peak, and the GPU it trains on (the first visible to it): the
// device's utilisation and memory in use.
var (
	SystemCPU       = Metric{Name: sysmetrics.MetricCPU, Kind: Sampled, Title: "CPU", Unit: UnitPercentOfCPU, Better: aelib.NeitherBetter, Digits: 0}
	SystemRSS       = Metric{Name: sysmetrics.MetricRSS, Kind: Sampled, Title: "memory (RSS)", Unit: UnitBytes, Better: aelib.LowerIsBetter}
	SystemPeakRSS   = Metric{Name: sysmetrics.MetricPeakRSS, Kind: Sampled, Title: "peak memory (RSS)", Unit: UnitBytes, Better: aelib.LowerIsBetter}
	SystemGPU       = Metric{Name: sysmetrics.MetricGPU, Kind: Sampled, Title: "GPU", Unit: UnitPercent, Better: aelib.NeitherBetter, Digits: 0}
	SystemGPUMemory = Metric{Name: sysmetrics.MetricGPUMemory, Kind: Sampled, Title: "GPU memory", Unit: UnitBytes, Better: aelib.LowerIsBetter}
)

// schema lists the declared metrics in the order tables show them; the variant measures of
// the registry (aelib.Variant.Measures) follow the final metrics.
var schema = func() []Metric {
	s := []Metric{
		TrainLoss, ValBCE, ValMSE, ValMAE, EpochSeconds, EpochTrainSeconds,
		TestBCE, TestMSE, TestMAE, TestPSNR, TestSSIM, TestPearson, TestSimilarity,
		NoisyMSE, DenoisedMSE, ImprovementPct, NoisyPSNR, DenoisedPSNR, NoisySSIM, DenoisedSSIM,
		ParamCount, EncoderParams, DecoderParams, ModelBytesF32, ModelBytesF16,
		TrainSeconds, SecondsPerEpoch, CompileSeconds, StepsPerEpoch, StepsPerSecond, FinalTrainLoss,
	}
	for d := range 10 {
		s = append(s, DigitMSE.For(d))
	}
	seen := map[string]bool{}
	for _, v := range aelib.Variants() {
		for _, m := range v.Measures {
			if !seen[m.Name] { // two models may share a measure
				seen[m.Name] = true
				s = append(s, Metric{Name: m.Name, Kind: Final, Title: m.Title, Unit: m.Unit, Better: m.Better, Digits: 4})
			}
		}
	}
	return append(s, SystemCPU, SystemRSS, SystemPeakRSS, SystemGPU, SystemGPUMemory)
}()

// Metrics returns the schema: every declared metric, per-epoch ones first.
func Metrics() []Metric { return slices.Clone(schema) }

// Losses are the per-epoch losses whose history compare tables and loss curves show.
func Losses() []Metric { return []Metric{TrainLoss, ValBCE} }

// LookupMetric returns the declared metric of a name.
func LookupMetric(name string) (Metric, bool) {
	i := slices.IndexFunc(schema, func(m Metric) bool { return m.Name == name })
	if i < 0 {
		return Metric{}, false
	}
	return schema[i], true
}

// Of is the metric's value in a run's result (Final metrics) and whether the result has one.
func (m Metric) Of(r *Result) (float64, bool) {
	if m.final == nil || r == nil {
		return 0, false
	}
	return m.final(r)
}

// InEpoch is the metric's value in one epoch's measurements (PerEpoch metrics).
func (m Metric) InEpoch(e aelib.EpochMetrics) (float64, bool) {
	if m.epoch == nil {
		return 0, false
	}
	return m.epoch(e), true
}

// Text shows a stored run's latest value of the metric, "—" when the run has none.
func (m Metric) Text(r *tracker.RunRecord) string {
	if v, ok := r.Metrics[m.Name]; ok {
		return m.Format(v)
	}
	return "—"
}

// Label is the title with its unit, for an axis or a column head: "epoch time (s)".
func (m Metric) Label() string {
	if m.Unit == UnitNone || m.Unit == UnitParams {
		return m.Title
	}
	return m.Title + " (" + m.Unit + ")"
}

// Format shows a value of the metric: NaN as "NaN", an infinite value, or one too large to
// show as an integer, as "–"; counts with thousands separators ("476,720"), bytes as KB/MB
// ("1.82 MB"), times from 90 s on as durations ("20m35s"), other numbers with the metric's
// decimals and unit ("12.34 s", "21.50 dB"), from 1e9 on with an exponent ("1.000e+12").
func (m Metric) Format(v float64) string {
	if s, ok := nonFinite(v); ok {
		return s
	}
	switch {
	case m.Unit == UnitBytes:
		if tooLargeForInt(v) {
			return "–"
		}
		return aelib.Bytes(int(v))
	case slices.Contains(countUnits, m.Unit):
		if tooLargeForInt(v) {
			return "–"
		}
		return aelib.Thousands(int(roundHalfAway(v)))
	case m.Unit == UnitSeconds && math.Abs(v) >= 90 && math.Abs(v) < 1e9: // minutes and hours read better as a duration
		return time.Duration(v * float64(time.Second)).Round(time.Second).String()
	}
	num := strconv.FormatFloat(v, 'f', m.Digits, 64)
	if math.Abs(v) >= 1e9 { // a diverged loss: an exponent, not 300 digits
		num = strconv.FormatFloat(v, 'e', 3, 64)
	}
	if m.Unit == UnitNone {
		return num
	}
	return num + " " + m.Unit
}

// FormatMetric shows a value of the named metric: with its declared format, or, for a metric the
// schema does not know (the tracker logs runs that are not autoencoders), with 4 significant
// digits, in exponent form below 1e-3 and from 1e6 on.
func FormatMetric(name string, v float64) string {
	if m, ok := LookupMetric(name); ok {
		return m.Format(v)
	}
	return FormatNumber(v)
}

// FormatNumber shows a number of unknown meaning with 4 significant digits: "0.09123", "1234",
// "1.235e+06", "NaN", "–" for ±Inf.
func FormatNumber(v float64) string {
	if s, ok := nonFinite(v); ok {
		return s
	}
	if a := math.Abs(v); v != 0 && (a < 1e-3 || a >= 1e6) {
		return strconv.FormatFloat(v, 'e', 3, 64)
	}
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if strings.ContainsRune(s, 'e') { // 'g' chose an exponent for a number in [1e4, 1e6)
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	return s
}

// nonFinite is the text of NaN ("NaN") and ±Inf ("–").
func nonFinite(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		return "NaN", true
	case math.IsInf(v, 0):
		return "–", true
	}
	return "", false
}

// tooLargeForInt reports whether v is beyond the integers a float64 holds exactly (2^53), where
// conversion to int would be meaningless or, beyond 2^63, implementation-defined.
func tooLargeForInt(v float64) bool { return v >= 1<<53 || v <= -(1<<53) }

func roundHalfAway(v float64) float64 {
	if v < 0 {
		return -roundHalfAway(-v)
	}
	return float64(int64(v + 0.5))
}

// Constructors of the final metrics, one per source of values.

func testMetric(name, title, unit string, better aelib.Better, digits int, value func(Evaluation) float64) Metric {
	return Metric{Name: name, Kind: Final, Title: title, Unit: unit, Better: better, Digits: digits,
		final: func(r *Result) (float64, bool) { return value(r.Evaluation), true }}
}

func denoisingMetric(name, title, unit string, better aelib.Better, digits int, value func(Evaluation) float64) Metric {
	return Metric{Name: name, Kind: Final, Title: title, Unit: unit, Better: better, Digits: digits,
		final: func(r *Result) (float64, bool) {
			if r.Evaluation.Denoising == nil {
				return 0, false
			}
			return value(r.Evaluation), true
		}}
}

func sizeMetric(name, title, unit string, value func(total, enc, dec int) int) Metric {
	return Metric{Name: name, Kind: Final, Title: title, Unit: unit, Better: aelib.NeitherBetter,
		final: func(r *Result) (float64, bool) {
			total, enc, dec := r.Model.Arch.Params()
			return float64(value(total, enc, dec)), true
		}}
}

func historyMetric(name, title, unit string, better aelib.Better, digits int, value func(*aelib.History) (float64, bool)) Metric {
	return Metric{Name: name, Kind: Final, Title: title, Unit: unit, Better: better, Digits: digits,
		final: func(r *Result) (float64, bool) {
			if r.History == nil {
				return 0, false
			}
			return value(r.History)
		}}
}

// errUndeclared is the error of a write of a metric the schema does not declare.
func errUndeclared(name string, kind Kind) error {
	return fmt.Errorf("experiments: metric %q is not declared as a %s metric in the schema (experiments/metrics.go)", name, kind)
}
