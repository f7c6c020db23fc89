package sweeps

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// ExpandTrials lists the spec's trials in order: a grid varies its last parameter fastest,
// a random search draws its configurations from a generator seeded with RandomSeed (the
// same spec always makes the same trials), and each configuration runs once per seed. More
// than MaxGridTrials trials are refused unless allowLarge is set. Every trial's config is
// checked.
func (s *Spec) ExpandTrials(allowLarge bool) ([]Trial, error) {
	if n := s.Count(); n > MaxGridTrials && !allowLarge {
		return nil, fmt.Errorf("sweep %s makes %s trials, more than %d: pass --allow-large (Options.AllowLarge) if you mean it",
			s.Name, countText(n), MaxGridTrials)
	}
	trials := s.expand()
	for _, t := range trials {
		if _, err := s.TrialConfig(t); err != nil {
			return nil, err
		}
	}
	return trials, nil
}

func countText(n int) string {
	if n == math.MaxInt {
		return "more than " + aelib.Thousands(math.MaxInt)
	}
	return aelib.Thousands(n)
}

// expand makes the trials (without the size check or the config check).
func (s *Spec) expand() []Trial {
	var configs []map[string]string
	if s.Method == MethodRandom {
		rng := rand.New(rand.NewPCG(s.RandomSeed, 0x5eed))
		for range s.Trials {
			c := map[string]string{}
			for _, p := range s.Parameters {
				c[p.Name] = p.draw(rng)
			}
			configs = append(configs, c)
		}
	} else {
		configs = []map[string]string{{}}
		for _, p := range s.Parameters {
			var next []map[string]string
			for _, c := range configs {
				for _, v := range p.Values {
					d := make(map[string]string, len(c)+1)
					for k, x := range c {
						d[k] = x
					}
					d[p.Name] = v
					next = append(next, d)
				}
			}
			configs = next
		}
	}
	seeds := s.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{0}
	}
	trials := make([]Trial, 0, len(configs)*len(seeds))
	for _, c := range configs {
		for _, seed := range seeds {
			trials = append(trials, Trial{Index: len(trials), Params: c, Seed: seed})
		}
	}
	return trials
}

// draw picks one value of a parameter. Floats keep 4 significant digits, so the value a
// trial shows is the value it trained with.
func (p Parameter) draw(rng *rand.Rand) string {
	switch p.Kind {
	case KindUniform:
		return strconv.FormatFloat(p.Min+rng.Float64()*(p.Max-p.Min), 'g', 4, 64)
	case KindLogUniform:
		lo, hi := math.Log(p.Min), math.Log(p.Max)
		return strconv.FormatFloat(math.Exp(lo+rng.Float64()*(hi-lo)), 'g', 4, 64)
	case KindIntRange:
		return strconv.FormatInt(int64(p.Min)+rng.Int64N(int64(p.Max-p.Min)+1), 10)
	}
	return p.Values[rng.IntN(len(p.Values))]
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
		return cfg, &SpecError{File: s.File, Field: "base", Msg: err.Error()}
	}
	return cfg, nil
}

// TrialConfig is the configuration trial t trains: the base settings, then its parameter
// values and seed, checked as `aelab train` checks its flags.
func (s *Spec) TrialConfig(t Trial) (aelib.Config, error) {
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
