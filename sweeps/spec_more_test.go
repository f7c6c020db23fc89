package sweeps

import (
	"errors"
	"testing"
)

// specErr parses src and returns its *SpecError, failing the test when there is none.
func specErr(t *testing.T, src string) *SpecError {
	t.Helper()
	_, err := ParseSpec("sweep.yaml", []byte(src))
	var se *SpecError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v, want a *SpecError", src, err)
	}
	return se
}

// A key given twice inside parameters (or base, or early_stopping) is refused with its line,
// as a top-level key given twice is: YAML would keep the last one silently.
func TestDuplicateKeysInsideMappingsAreRefused(t *testing.T) {
	for _, c := range []struct {
		src, want string
	}{
		{"model: deep\nparameters:\n  lr: [0.001]\n  lr: [0.002]\n", "sweep.yaml:4: parameters.lr: given twice (first at line 3)"},
		{"model: deep\nparameters: {lr: [0.001], lr: [0.002]}\n", "sweep.yaml:2: parameters.lr: given twice (first at line 2)"},
		{"model: deep\nbase:\n  epochs: 2\n  epochs: 3\nparameters: {lr: [0.001]}\n", "sweep.yaml:4: base.epochs: given twice (first at line 3)"},
		{"model: deep\nparameters: {lr: [0.001]}\nearly_stopping:\n  rule: median\n  rule: asha\n", "sweep.yaml:5: early_stopping.rule: given twice (first at line 4)"},
	} {
		if got := specErr(t, c.src).Error(); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.src, got, c.want)
		}
	}
}

// An int_range whose ends reach a million is checked, drawn and applied as integers: a value
// such as "1e+06" is what an integer setting refuses.
func TestLargeIntRangeIsFormattedAsIntegers(t *testing.T) {
	s := mustParse(t, "model: vanilla\nmethod: random\ntrials: 20\nparameters:\n  subset: {int_range: [1000000, 3000000]}\n  lr: {uniform: [1000000, 2000000]}\n")
	for tr := range s.All() {
		cfg, err := s.TrialConfig(tr)
		if err != nil {
			t.Fatalf("trial %d (%v): %v", tr.Index, tr.Params, err)
		}
		if cfg.TrainSubset < 1_000_000 || cfg.TrainSubset > 3_000_000 || cfg.LearningRate < 1e6 {
			t.Errorf("trial %d: subset %d lr %g out of range", tr.Index, cfg.TrainSubset, cfg.LearningRate)
		}
		for name, v := range tr.Params {
			for _, r := range v {
				if r == 'e' || r == 'E' || r == '.' {
					t.Errorf("trial %d: %s=%q is not written as an integer", tr.Index, name, v)
				}
			}
		}
	}
	// A choice written in exponent form that is a whole number is an integer too.
	g := mustParse(t, "model: vanilla\nparameters:\n  subset: [1e6, 2000]\n")
	if v := g.Parameters[0].Values; v[0] != "1000000" || v[1] != "2000" {
		t.Errorf("choice values %q, want 1000000 and 2000", v)
	}
	for _, c := range []struct {
		f    float64
		want string
	}{{1e6, "1000000"}, {-3, "-3"}, {0.001, "0.001"}, {1.5e-5, "1.5e-05"}, {2.5e6, "2500000"}, {1e300, "1e+300"}} {
		if got := flagNumber(c.f); got != c.want {
			t.Errorf("flagNumber(%g) = %q, want %q", c.f, got, c.want)
		}
	}
}

// An error of the base config names the base setting that causes it, with its line.
func TestBaseErrorsNameLineAndField(t *testing.T) {
	for _, c := range []struct {
		src, want string
	}{
		{"model: vanilla\nbase:\n  epochs: 2\n  filters: 8\nparameters: {lr: [0.001]}\n",
			"sweep.yaml:4: base.filters: --filters does not apply to model vanilla (only to denoise)"},
		{"model: denoise\nbase:\n  widths: \"8,4\"\n  epochs: 2\nparameters: {lr: [0.001]}\n",
			"sweep.yaml:3: base.widths: --widths does not apply to model denoise (only to vanilla, deep, sparse, contractive, vae)"},
	} {
		if got := specErr(t, c.src).Error(); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.src, got, c.want)
		}
	}
}

// A parameter value whose model is too large to count is refused with its line.
func TestAbsurdModelSizeInSpecIsRefused(t *testing.T) {
	got := specErr(t, "model: vanilla\nparameters:\n  widths: [\"64,16\", \"9000000000000000000,32\"]\n").Error()
	want := "sweep.yaml:3: parameters.widths: widths=9000000000000000000,32: model vanilla is too large to train: its sizes pass aelab's limit of 1,000,000,000,000 parameters"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
