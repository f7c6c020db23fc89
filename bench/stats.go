package bench

import (
	"fmt"
	"slices"
)

// WideSpread is the range, as a fraction of the median, beyond which a set of timings says
// more about the machine's load than about the code: a table with a wider spread says so.
const WideSpread = 0.20

// Spread is the median of repeated measurements (rounds) and their range.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"rounds"`
}

// SpreadOf summarises xs; the zero Spread when xs is empty.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: median, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Wide reports whether the range is wider than WideSpread of the median.
func (s Spread) Wide() bool { return s.N > 1 && s.Max-s.Min > WideSpread*s.Median }

// Format writes the median and, with more than one round, the range: "1.31 (1.29–1.36)".
// verb is the numbers' format, e.g. "%.2f".
func (s Spread) Format(verb string) string {
	m := fmt.Sprintf(verb, s.Median)
	if s.N < 2 {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, fmt.Sprintf(verb, s.Min), fmt.Sprintf(verb, s.Max))
}

// Ratios divides a[i] by b[i], round by round, over the rounds both have.
func Ratios(a, b []float64) []float64 {
	out := make([]float64, 0, min(len(a), len(b)))
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}
