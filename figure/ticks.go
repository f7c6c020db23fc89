package figure

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// Ticks places ticks where gonum/plot's DefaultTicks does and labels them to be read at a
// glance: thousands, millions and billions with a suffix ("500k", "1.5M") from 10,000 up, and no more
// decimals than the values need ("0.05", "0.1", "0.15"; never "500.00").
type Ticks struct{}

// Ticks implements plot.Ticker.
func (Ticks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var major []float64
	for _, t := range ticks {
		if t.Label != "" {
			major = append(major, t.Value)
		}
	}
	labels := Labels(major)
	j := 0
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = labels[j]
			j++
		}
	}
	return ticks
}

// Labels formats evenly spaced tick values with one suffix and one number of decimals for all
// of them (see Ticks).
func Labels(values []float64) []string {
	if len(values) == 0 {
		return nil
	}
	var big float64
	for _, v := range values {
		big = max(big, math.Abs(v))
	}
	scale, suffix := 1.0, ""
	switch {
	case big >= 1e9:
		scale, suffix = 1e9, "G"
	case big >= 1e6:
		scale, suffix = 1e6, "M"
	case big >= 1e4:
		scale, suffix = 1e3, "k"
	}
	decimals := 0 // the fewest that write every value exactly (ticks are round numbers)
	for ; decimals < 8; decimals++ {
		exact := true
		for _, v := range values {
			x := v / scale * math.Pow10(decimals)
			exact = exact && math.Abs(x-math.Round(x)) < 1e-6*max(1, math.Abs(x))
		}
		if exact {
			break
		}
	}
	out := make([]string, len(values))
	for i, v := range values {
		s := strconv.FormatFloat(v/scale, 'f', decimals, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		if s == "-0" {
			s = "0"
		}
		if s != "0" {
			s += suffix
		}
		out[i] = s
	}
	return out
}

// EpochTicks labels whole numbers only (epochs), at most about ten of them.
type EpochTicks struct{}

// Ticks implements plot.Ticker.
func (EpochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	step := math.Max(1, math.Ceil((last-first)/10))
	var ticks []plot.Tick
	for v := first; v <= last; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// Unlabelled places ticks where t does, without labels: for the x axis of a panel stacked
// above another that shows them.
func Unlabelled(t plot.Ticker) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		ticks := t.Ticks(lo, hi)
		for i := range ticks {
			ticks[i].Label = ""
		}
		return ticks
	})
}
