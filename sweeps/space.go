package sweeps

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// Trial is one run a sweep asks for: its index in the sweep, the values its parameters take
// (by name, as text, exactly as the worker applies them) and its seed (0: the base config's).
// The store keeps the list with the sweep.
type Trial = tracker.SweepTrial

// Count is how many trials the spec makes: the grid's combinations (or the random search's
// draws) times the seeds. It saturates at math.MaxInt.
func (s *Spec) Count() int {
	n := s.Trials
	if s.Method == MethodGrid {
		n = 1
		for _, p := range s.Parameters {
			if n > math.MaxInt/len(p.Values) {
				return math.MaxInt
			}
			n *= len(p.Values)
		}
	}
	seeds := max(len(s.Seeds), 1)
	if n > math.MaxInt/seeds {
		return math.MaxInt
	}
	return n * seeds
}

// MaxTrials is the most trials a sweep may have, even with Options.AllowLarge: the store keeps
// a sweep's trial list in one row, and status, reports and the UI read it whole.
const MaxTrials = 100_000

// CheckCount refuses a spec that makes more than MaxGridTrials trials unless allowLarge is
// set, and one that makes more than MaxTrials in any case. It counts; it makes no trial.
func (s *Spec) CheckCount(allowLarge bool) error {
	n := s.Count()
	switch {
	case n > MaxTrials:
		return fmt.Errorf("sweep %s makes %s trials, more than the limit of %s even with --allow-large: split it into several sweeps or vary fewer values",
			s.Name, countText(n), aelib.Thousands(MaxTrials))
	case n > MaxGridTrials && !allowLarge:
		return fmt.Errorf("sweep %s makes %s trials, more than %d: pass --allow-large (Options.AllowLarge) if you mean it",
			s.Name, countText(n), MaxGridTrials)
	}
	return nil
}

// CheckTrials checks the trial count (CheckCount) and then every trial's config, making the
// trials one at a time (All) and keeping none.
func (s *Spec) CheckTrials(allowLarge bool) error {
	if err := s.CheckCount(allowLarge); err != nil {
		return err
	}
	for t := range s.All() {
		if _, err := s.TrialConfig(t); err != nil {
			return err
		}
	}
	return nil
}

// ExpandTrials lists the spec's trials in the order of All, after CheckTrials.
func (s *Spec) ExpandTrials(allowLarge bool) ([]Trial, error) {
	if err := s.CheckTrials(allowLarge); err != nil {
		return nil, err
	}
	return slices.Collect(s.All()), nil
}

func countText(n int) string {
	if n == math.MaxInt {
		return "more than " + aelib.Thousands(math.MaxInt)
	}
	return aelib.Thousands(n)
}

// All makes the spec's trials one at a time, in order, keeping none: a grid varies its
// last parameter fastest (trial i's values are the digits of i in the grid's mixed radix), a
// random search draws its configurations from a generator seeded with RandomSeed (the same
// spec always makes the same trials), and each configuration runs once per seed, its trials
// sharing one Params map. It makes Count trials; call CheckCount first, a grid's count
// saturates.
func (s *Spec) All() iter.Seq[Trial] {
	seeds := s.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{0}
	}
	return func(yield func(Trial) bool) {
		index := 0
		emit := func(params map[string]string) bool {
			for _, seed := range seeds {
				if !yield(Trial{Index: index, Params: params, Seed: seed}) {
					return false
				}
				index++
			}
			return true
		}
		if s.Method == MethodRandom {
			rng := rand.New(rand.NewPCG(s.RandomSeed, 0x5eed))
			for range s.Trials {
				c := make(map[string]string, len(s.Parameters))
				for _, p := range s.Parameters {
					c[p.Name] = p.draw(rng)
				}
				if !emit(c) {
					return
				}
			}
			return
		}
		configs := s.Count() / len(seeds)
		for i := range configs {
			c := make(map[string]string, len(s.Parameters))
			rest := i
			for j := len(s.Parameters) - 1; j >= 0; j-- {
				p := s.Parameters[j]
				c[p.Name] = p.Values[rest%len(p.Values)]
				rest /= len(p.Values)
			}
			if !emit(c) {
				return
			}
		}
	}
}

// draw picks one value of a parameter. Floats keep 4 significant digits, so the value a
// trial shows is the value it trained with.
func (p Parameter) draw(rng *rand.Rand) string {
	switch p.Kind {
	case KindUniform:
		return flagNumber(round4(p.Min + rng.Float64()*(p.Max-p.Min)))
	case KindLogUniform:
		lo, hi := math.Log(p.Min), math.Log(p.Max)
		return flagNumber(round4(math.Exp(lo + rng.Float64()*(hi-lo))))
	case KindIntRange:
		return strconv.FormatInt(int64(p.Min)+rng.Int64N(int64(p.Max-p.Min)+1), 10)
	}
	return p.Values[rng.IntN(len(p.Values))]
}

// round4 rounds to 4 significant digits.
func round4(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 4, 64), 64)
	return r
}

// flagNumber formats a number as a config flag's value: a whole number as an integer
// ("1000000", which an integer flag accepts, never "1e+06"), any other in the shortest form
// that reads back as the same float.
func flagNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// BaseConfig is the configuration every trial starts from: the model's defaults with the
// spec's base settings.
func (s *Spec) BaseConfig() (aelib.Config, error) {
	f, err := s.configFlags()
	if err != nil {
		return aelib.Config{}, err
	}
	cfg, err := f.Config()
	if err != nil {
		return cfg, s.baseError(err)
	}
	return cfg, nil
}

// baseError places an error of the base config on the base setting that causes it: the first
// one whose adding to the model's defaults (with the settings before it) makes the config fail.
func (s *Spec) baseError(err error) error {
	e := &SpecError{File: s.File, Field: "base", Msg: err.Error()}
	for i, b := range s.Base {
		f, ferr := s.flagsWith(s.Base[:i+1])
		if ferr != nil {
			return ferr // a value no flag accepts: configFlags names its line
		}
		if _, cerr := f.Config(); cerr != nil {
			e.Line, e.Field, e.Msg = b.Line, "base."+b.Name, cerr.Error()
			break
		}
	}
	return e
}

// TrialConfig is the configuration trial t trains: the base settings, then its parameter
// values and seed, checked as `aelab train` checks its flags.
func (s *Spec) TrialConfig(t Trial) (aelib.Config, error) {
	if s.Command != nil {
		return aelib.Config{}, nil // a program's trial has its arguments instead (TrialCommand)
	}
	f, err := s.configFlags()
	if err != nil {
		return aelib.Config{}, err
	}
	for _, p := range s.Parameters {
		v, ok := t.Params[p.Name]
		if !ok {
			return aelib.Config{}, fmt.Errorf("trial %d: no value for parameter %s", t.Index, p.Name)
		}
		if err := f.Set(p.Name, v); err != nil {
			return aelib.Config{}, &SpecError{File: s.File, Line: p.Line, Field: "parameters." + p.Name, Msg: err.Error()}
		}
	}
	if t.Seed != 0 {
		if err := f.Set("seed", strconv.FormatUint(t.Seed, 10)); err != nil {
			return aelib.Config{}, err
		}
	}
	cfg, err := f.Config()
	if err != nil {
		return cfg, fmt.Errorf("trial %d (%s): %w", t.Index, t.Describe(s.ParameterNames()), err)
	}
	return cfg, nil
}

// ParameterNames are the varied parameters' names, in the spec's order.
func (s *Spec) ParameterNames() []string {
	names := make([]string, len(s.Parameters))
	for i, p := range s.Parameters {
		names[i] = p.Name
	}
	return names
}
