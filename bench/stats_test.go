package bench

import (
	"math"
	"testing"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want Spread
		wide bool
		text string
	}{
		{nil, Spread{}, false, "0.00"},
		{[]float64{2}, Spread{2, 2, 2, 1}, false, "2.00"},
		{[]float64{3, 1, 2}, Spread{2, 1, 3, 3}, true, "2.00 (1.00–3.00)"},
		{[]float64{1.0, 1.1, 1.05, 0.95}, Spread{1.025, 0.95, 1.1, 4}, false, "1.02 (0.95–1.10)"},
	} {
		got := SpreadOf(tc.xs)
		if math.Abs(got.Median-tc.want.Median) > 1e-12 || got.Min != tc.want.Min || got.Max != tc.want.Max || got.N != tc.want.N {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", tc.xs, got, tc.want)
		}
		if got.Wide() != tc.wide {
			t.Errorf("SpreadOf(%v).Wide() = %v, want %v", tc.xs, got.Wide(), tc.wide)
		}
		if s := got.Format("%.2f"); s != tc.text {
			t.Errorf("SpreadOf(%v).Format = %q, want %q", tc.xs, s, tc.text)
		}
	}
	if r := Ratios([]float64{1, 2, 3}, []float64{2, 0, 6, 8}); len(r) != 2 || r[0] != 0.5 || r[1] != 0.5 {
		t.Errorf("Ratios = %v, want [0.5 0.5] (a zero divisor skipped, extra rounds ignored)", r)
	}
}
