package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
)

// Verdict is the outcome of checking one course claim against the runs.
type Verdict string

// Verdicts.
const (
	Holds         Verdict = "holds"
	Differs       Verdict = "differs"
	NotComparable Verdict = "not comparable" // the run is shorter than the course's or used a data subset
	NotMeasured   Verdict = "not measured"   // no run (or no metric) to measure it from
)

// courseEpochs are the epochs the course trains each model for (§1.2 epochs=10, §1.3
// epochs=50, §1.4 EPOCHS=10); claims about trained models need runs at least this long.
var courseEpochs = map[string]int{aelib.ModelVanilla: 10, aelib.ModelDeep: 50, aelib.ModelDenoise: 10}

// Claim is one numeric claim of the course and how to check it against runs.
type Claim struct {
	ID      string
	Section string  // course section, "1.3"
	Text    string  // the claim, close to the course's wording
	Course  float64 // the course's value
	Shown   string  // how the course writes it, when not just Course in Unit ("80–90 %")
	Unit    string  // "params", "MB", "%", "" (a loss or an error)
	Digits  int     // decimals to show
	// Measure says, in words, how the value is measured from runs.
	Measure string
	// Tolerance is the largest |measured − course| (in Unit) that still holds; the course's
	// rounding for structural numbers, its "≈" for trained ones.
	Tolerance float64
	// Trained claims depend on training: they need the course's epochs on the full data set.
	Trained bool
	// Note explains a known difference.
	Note string
	// Models are the models whose runs the claim is measured from.
	Models []string
	// value computes the measurement from the representative run of each of Models.
	value func(runs map[string]*Run) (float64, error)
	// holds, when set, replaces the tolerance test (ranges, comparisons).
	holds func(measured float64) bool
}

// ClaimResult is a claim checked against the report's runs: aelab's, and a peer's where the
// report has runs of a reference implementation (the PyTorch reference of `aelab bench --peer`).
type ClaimResult struct {
	Claim
	Measurement
	// Peer is the claim measured from the peer's runs; nil when the report has none.
	Peer *Measurement
}

// Measurement is a claim measured from one implementation's runs.
type Measurement struct {
	Source   string // "" for aelab, else the peer: "pytorch"
	Measured float64
	Runs     []*Run // the runs it was measured from
	Verdict  Verdict
	Detail   string // "differs by +64.2 %", "not comparable: …", "not measured: …"
}

// CourseText is the course's value as the report shows it.
func (c Claim) CourseText() string {
	if c.Shown != "" {
		return c.Shown
	}
	return formatValue(c.Course, c.Unit, c.Digits)
}

// MeasuredText is the measured value as the report shows it, "—" when there is none.
func (r ClaimResult) MeasuredText() string { return r.valueText(r.Measurement) }

// PeerText is the peer's measured value as the report shows it, "—" when there is none.
func (r ClaimResult) PeerText() string {
	if r.Peer == nil {
		return "—"
	}
	return r.valueText(*r.Peer)
}

func (r ClaimResult) valueText(m Measurement) string {
	if m.Verdict == NotMeasured || math.IsNaN(m.Measured) {
		return "—"
	}
	if math.IsInf(m.Measured, 1) {
		return "never"
	}
	return formatValue(m.Measured, r.Unit, r.Digits)
}

// RunIDs are the short ids of the runs it was measured from, comma separated.
func (m Measurement) RunIDs() string {
	ids := make([]string, len(m.Runs))
	for i, run := range m.Runs {
		ids[i] = run.Record.ShortID()
	}
	return strings.Join(ids, ", ")
}

// VerdictText is the verdict with its detail: "holds", "differs by +64.2 %", ….
func (m Measurement) VerdictText() string {
	if m.Detail == "" {
		return string(m.Verdict)
	}
	return m.Detail
}

// Attribution says, where aelab's verdict and the peer's can be compared, whose a difference
// from the course is: aelab's (the peer holds) or the course's own (the peer differs too).
// "" without a comparable peer measurement.
func (r ClaimResult) Attribution() string {
	p := r.Peer
	if p == nil || (p.Verdict != Holds && p.Verdict != Differs) || (r.Verdict != Holds && r.Verdict != Differs) {
		return ""
	}
	name := peerTitle(p.Source)
	switch {
	case r.Verdict == Differs && p.Verdict == Differs:
		return fmt.Sprintf("%s differs too (%s): the course's own", name, strings.TrimPrefix(p.VerdictText(), "differs "))
	case r.Verdict == Differs:
		return name + " holds: the difference is aelab's"
	case p.Verdict == Differs:
		return fmt.Sprintf("%s %s", name, p.VerdictText())
	}
	return name + " holds too"
}

// peerTitle is how the report names a peer.
func peerTitle(peer string) string {
	if peer == "pytorch" {
		return "PyTorch reference"
	}
	return peer
}

func formatValue(v float64, unit string, digits int) string {
	switch unit {
	case "params":
		return experiments.ParamCount.Format(v)
	case "":
		return fmt.Sprintf("%.*f", digits, v)
	case "%":
		return fmt.Sprintf("%.*f %%", digits, v)
	}
	return fmt.Sprintf("%.*f %s", digits, v, unit)
}

// metric is the latest value of key in the representative run of model.
func metric(model, key string, scale float64) func(map[string]*Run) (float64, error) {
	return func(runs map[string]*Run) (float64, error) {
		r := runs[model]
		v, ok := r.Metric(key)
		if !ok {
			return 0, fmt.Errorf("run %s logged no %s", r.Record.ShortID(), key)
		}
		return v * scale, nil
	}
}

// reduction is 100·(1 − key(b)/key(a)): how much smaller b's value is than a's, in %.
func reduction(a, b, key string) func(map[string]*Run) (float64, error) {
	return func(runs map[string]*Run) (float64, error) {
		va, err := metric(a, key, 1)(runs)
		if err != nil {
			return 0, err
		}
		vb, err := metric(b, key, 1)(runs)
		if err != nil {
			return 0, err
		}
		if va == 0 {
			return 0, fmt.Errorf("%s of run %s is 0", key, runs[a].Record.ShortID())
		}
		return 100 * (1 - vb/va), nil
	}
}

// epochsToReach is the first epoch at which model's validation BCE is at or below the final
// validation BCE of ref; +Inf when it never gets there.
func epochsToReach(model, ref string) func(map[string]*Run) (float64, error) {
	return func(runs map[string]*Run) (float64, error) {
		r, target := runs[model], runs[ref]
		if len(target.ValBCE) == 0 || len(r.ValBCE) == 0 {
			return 0, fmt.Errorf("no validation history")
		}
		goal := target.ValBCE[len(target.ValBCE)-1].Value
		for _, p := range r.ValBCE {
			if p.Value <= goal {
				return float64(p.Epoch), nil
			}
		}
		return math.Inf(1), nil
	}
}

const mib = 1 << 20

// Claims is the course's numeric claims, in course order. Every measured value comes from the
// runs in the store; only the course's own values are written here.
func Claims() []Claim {
	const v, d, n = aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise
	return []Claim{
		{ID: "params-vanilla", Section: "1.2", Text: "Vanilla autoencoder: Total params: 476,720", Course: 476720, Unit: "params",
			Measure: "metric " + experiments.ParamCount.Name, Models: []string{v}, value: metric(v, experiments.ParamCount.Name, 1)},
		{ID: "size-vanilla-f32", Section: "1.3", Text: "Vanilla model size ~1.82 MB (float32)", Course: 1.82, Unit: "MB", Digits: 2, Tolerance: 0.005,
			Measure: experiments.ModelBytesF32.Name + " / 1024²", Models: []string{v}, value: metric(v, experiments.ModelBytesF32.Name, 1.0/mib)},
		{ID: "size-vanilla-f16", Section: "1.3", Text: "Vanilla model size ~0.91 MB (float16)", Course: 0.91, Unit: "MB", Digits: 2, Tolerance: 0.005,
			Measure: experiments.ModelBytesF16.Name + " / 1024²", Models: []string{v}, value: metric(v, experiments.ModelBytesF16.Name, 1.0/mib)},
		{ID: "loss-vanilla", Section: "1.2", Text: "Vanilla final loss ~0.095 after 10 epochs (log: loss 0.0945)", Course: 0.095, Digits: 4, Tolerance: 0.005, Trained: true,
			Measure: experiments.FinalTrainLoss.Name + " (BCE)", Models: []string{v}, value: metric(v, experiments.FinalTrainLoss.Name, 1)},
		{ID: "val-loss-vanilla", Section: "1.2", Text: "Vanilla val_loss 0.0912 after 10 epochs", Course: 0.0912, Digits: 4, Tolerance: 0.005, Trained: true,
			Measure: experiments.ValBCE.Name + " of the last epoch", Models: []string{v}, value: metric(v, experiments.ValBCE.Name, 1)},
		{ID: "mse-vanilla", Section: "1.2", Text: "Vanilla reconstruction MSE ~0.0092 (0.009234)", Course: 0.0092, Digits: 4, Tolerance: 0.0005, Trained: true,
			Measure: experiments.TestMSE.Name, Models: []string{v}, value: metric(v, experiments.TestMSE.Name, 1)},
		{ID: "corr-vanilla", Section: "1.2", Text: "Vanilla correlation 0.9823", Course: 0.9823, Digits: 4, Tolerance: 0.005, Trained: true,
			Measure: experiments.TestPearson.Name, Models: []string{v}, value: metric(v, experiments.TestPearson.Name, 1)},

		{ID: "params-deep", Section: "1.3", Text: "Deep autoencoder: Total params: 222,384", Course: 222384, Unit: "params",
			Measure: "metric " + experiments.ParamCount.Name, Models: []string{d}, value: metric(d, experiments.ParamCount.Name, 1)},
		{ID: "reduction-deep", Section: "1.3", Text: "Deep has 53 % fewer parameters than vanilla (−53.3 %)", Course: 53.3, Unit: "%", Digits: 1, Tolerance: 0.1,
			Measure: "100·(1 − " + experiments.ParamCount.Name + "(deep)/" + experiments.ParamCount.Name + "(vanilla))", Models: []string{v, d}, value: reduction(v, d, experiments.ParamCount.Name)},
		{ID: "size-deep-f32", Section: "1.3", Text: "Deep model size ~0.85 MB (float32)", Course: 0.85, Unit: "MB", Digits: 2, Tolerance: 0.005,
			Measure: experiments.ModelBytesF32.Name + " / 1024²", Models: []string{d}, value: metric(d, experiments.ModelBytesF32.Name, 1.0/mib)},
		{ID: "size-deep-f16", Section: "1.3", Text: "Deep model size ~0.43 MB (float16)", Course: 0.43, Unit: "MB", Digits: 2, Tolerance: 0.005,
			Measure: experiments.ModelBytesF16.Name + " / 1024²", Models: []string{d}, value: metric(d, experiments.ModelBytesF16.Name, 1.0/mib),
			Note: "2 bytes × 222,384 = 444,768 B = 0.424 MB, which rounds to 0.42; the course seems to have halved its rounded 0.85 MB."},
		{ID: "loss-deep", Section: "1.3", Text: "Deep final loss ~0.080 after 50 epochs (log: loss 0.0802)", Course: 0.080, Digits: 4, Tolerance: 0.005, Trained: true,
			Measure: experiments.FinalTrainLoss.Name + " (BCE)", Models: []string{d}, value: metric(d, experiments.FinalTrainLoss.Name, 1)},
		{ID: "val-loss-deep", Section: "1.3", Text: "Deep val_loss 0.0789 after 50 epochs", Course: 0.0789, Digits: 4, Tolerance: 0.005, Trained: true,
			Measure: experiments.ValBCE.Name + " of the last epoch", Models: []string{d}, value: metric(d, experiments.ValBCE.Name, 1)},
		{ID: "mse-deep", Section: "1.3", Text: "Deep reconstruction MSE ~0.0079 (0.007891)", Course: 0.0079, Digits: 4, Tolerance: 0.0005, Trained: true,
			Measure: experiments.TestMSE.Name, Models: []string{d}, value: metric(d, experiments.TestMSE.Name, 1)},
		{ID: "ssim-deep", Section: "1.3", Text: "Deep SSIM 0.9421", Course: 0.9421, Digits: 4, Tolerance: 0.01, Trained: true,
			Measure: experiments.TestSSIM.Name + " (7×7 window)", Models: []string{d}, value: metric(d, experiments.TestSSIM.Name, 1),
			Note: "SSIM depends on window and constants; the course does not give its settings."},
		{ID: "deep-beats-vanilla", Section: "1.3", Text: "Deep reconstructs better than vanilla despite fewer parameters (MSE 14 % better)", Course: 14, Unit: "%", Digits: 1, Shown: "better (14 %)", Trained: true,
			Measure: "100·(1 − " + experiments.TestMSE.Name + "(deep)/" + experiments.TestMSE.Name + "(vanilla)); holds when > 0", Models: []string{v, d}, value: reduction(v, d, experiments.TestMSE.Name),
			holds: func(m float64) bool { return m > 0 }},
		{ID: "epochs-deep", Section: "1.3", Text: "Deep converges more slowly: needs more epochs than vanilla's 10 (trained for 50)", Course: 50, Digits: 0, Shown: "> 10 (50 trained)", Trained: true,
			Measure: "first epoch at which deep's " + experiments.ValBCE.Name + " reaches vanilla's final " + experiments.ValBCE.Name + "; holds when > vanilla's epochs", Models: []string{v, d}, value: epochsToReach(d, v),
			holds: func(m float64) bool { return m > float64(courseEpochs[v]) }},

		{ID: "params-denoise", Section: "1.4", Text: "Convolutional denoising autoencoder: 28,353 parameters", Course: 28353, Unit: "params",
			Measure: "metric " + experiments.ParamCount.Name, Models: []string{n}, value: metric(n, experiments.ParamCount.Name, 1)},
		{ID: "reduction-denoise", Section: "1.4", Text: "94 % fewer parameters than vanilla (94.1 %)", Course: 94.1, Unit: "%", Digits: 1, Tolerance: 0.1,
			Measure: "100·(1 − " + experiments.ParamCount.Name + "(denoise)/" + experiments.ParamCount.Name + "(vanilla))", Models: []string{v, n}, value: reduction(v, n, experiments.ParamCount.Name)},
		{ID: "size-denoise-f32", Section: "1.4", Text: "Denoising model size ~0.11 MB (float32)", Course: 0.11, Unit: "MB", Digits: 2, Tolerance: 0.005,
			Measure: experiments.ModelBytesF32.Name + " / 1024²", Models: []string{n}, value: metric(n, experiments.ModelBytesF32.Name, 1.0/mib)},
		{ID: "loss-denoise", Section: "1.4", Text: "Denoising final loss ~0.10 after 10 epochs (logs: 0.1042, 0.1012)", Course: 0.10, Digits: 4, Tolerance: 0.01, Trained: true,
			Measure: experiments.FinalTrainLoss.Name + " (BCE against the clean images)", Models: []string{n}, value: metric(n, experiments.FinalTrainLoss.Name, 1)},
		{ID: "noisy-mse", Section: "1.4", Text: "MSE (noisy vs clean): 0.061234", Course: 0.061234, Digits: 6, Tolerance: 0.005,
			Measure: experiments.NoisyMSE.Name + " (no training involved)", Models: []string{n}, value: metric(n, experiments.NoisyMSE.Name, 1),
			Note: "This number depends only on the data and the noise recipe clip(x + 0.5·N(0,1), 0, 1), which aelab follows; " +
				"the course's 0.061 does not follow from its own recipe (see the measured value), so its 83.87 % improvement is relative to a different baseline."},
		{ID: "denoised-mse", Section: "1.4", Text: "MSE (denoised vs clean): 0.009876", Course: 0.009876, Digits: 6, Tolerance: 0.001, Trained: true,
			Measure: experiments.DenoisedMSE.Name, Models: []string{n}, value: metric(n, experiments.DenoisedMSE.Name, 1)},
		{ID: "improvement", Section: "1.4", Text: "Improvement: 83.87 %", Course: 83.87, Unit: "%", Digits: 2, Tolerance: 1, Trained: true,
			Measure: experiments.ImprovementPct.Name + " = 100·(1 − " + experiments.DenoisedMSE.Name + "/" + experiments.NoisyMSE.Name + ")", Models: []string{n}, value: metric(n, experiments.ImprovementPct.Name, 1),
			Note: "Relative to the noisy-input MSE: a noisier baseline than the course's 0.061 raises the percentage for the same denoiser."},
		{ID: "noise-reduction-range", Section: "1.4", Text: "80–90 % noise reduction typical", Course: 85, Unit: "%", Digits: 2, Shown: "80–90 %", Trained: true,
			Measure: experiments.ImprovementPct.Name + "; holds inside 80–90 %", Models: []string{n}, value: metric(n, experiments.ImprovementPct.Name, 1),
			holds: func(m float64) bool { return m >= 80 && m <= 90 }},
	}
}

// Audit checks every claim of Claims against runs: each claim uses the representative run of
// each model it needs (FINISHED, most epochs, full data, newest), among aelab's runs and, where
// there are any, among a peer's.
func Audit(runs []*Run) []ClaimResult {
	claims := Claims()
	peer := ""
	for _, r := range runs {
		if r.Peer() != "" {
			peer = r.Peer()
			break
		}
	}
	out := make([]ClaimResult, 0, len(claims))
	for _, c := range claims {
		res := ClaimResult{Claim: c, Measurement: check(c, runs, "")}
		if peer != "" {
			m := check(c, runs, peer)
			res.Peer = &m
		}
		out = append(out, res)
	}
	return out
}

// check measures c from the representative runs of source ("" for aelab, or a peer).
func check(c Claim, all []*Run, source string) Measurement {
	res := Measurement{Source: source, Measured: math.NaN()}
	byModel := map[string]*Run{}
	for _, m := range c.Models {
		r := representative(all, m, source)
		if r == nil {
			res.Verdict, res.Detail = NotMeasured, fmt.Sprintf("not measured: no %s run in the report", strings.TrimSpace(m+" "+source))
			res.Runs = nil
			return res
		}
		byModel[m] = r
		res.Runs = append(res.Runs, r)
	}
	v, err := c.value(byModel)
	if err != nil {
		res.Verdict, res.Detail = NotMeasured, "not measured: "+err.Error()
		return res
	}
	res.Measured = v
	if c.Trained {
		var why []string
		for _, r := range res.Runs {
			need := courseEpochs[r.Model()]
			if got := r.EpochsDone(); got < need {
				why = append(why, fmt.Sprintf("run %s had %d %s, the claim needs %d", r.Record.ShortID(), got, plural(got, "epoch"), need))
			}
			if s := r.Subset(); s != "" {
				why = append(why, fmt.Sprintf("run %s used a subset (%s)", r.Record.ShortID(), s))
			}
		}
		if len(why) > 0 {
			res.Verdict, res.Detail = NotComparable, "not comparable: "+strings.Join(why, "; ")
			return res
		}
	}
	var ok bool
	if c.holds != nil {
		ok = c.holds(v)
	} else {
		ok = math.Abs(v-c.Course) <= c.Tolerance+1e-12
	}
	switch {
	case ok:
		res.Verdict = Holds
	case math.IsInf(v, 1):
		res.Verdict, res.Detail = Differs, "differs: never reached"
	case c.holds != nil:
		res.Verdict, res.Detail = Differs, "differs: the claim does not hold"
	default:
		res.Verdict = Differs
		res.Detail = fmt.Sprintf("differs by %+.1f %%", 100*(v-c.Course)/c.Course)
	}
	return res
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
