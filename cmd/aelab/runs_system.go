package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// isSystemMetric is true for the metrics a run samples (the schema's Sampled kind, system.*):
// `runs show` sums them up in their own section rather than listing every sample.
func isSystemMetric(key string) bool {
	m, ok := experiments.LookupMetric(key)
	return ok && m.Kind == experiments.Sampled
}

// writeSystemSummary prints, for each system.* metric of a run, the mean and the peak of its
// samples and how many there were.
func writeSystemSummary(w io.Writer, hist map[string][]tracker.MetricPoint) {
	var keys []string
	for _, k := range runsSortedKeys(hist) {
		if isSystemMetric(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSystem (sampled every few seconds and at each epoch's end):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  metric\tmean\tpeak\tsamples")
	for _, k := range keys {
		var sum, peak float64
		n := 0
		for _, p := range hist[k] {
			if math.IsNaN(p.Value) {
				continue
			}
			sum += p.Value
			peak = max(peak, p.Value)
			n++
		}
		if n == 0 {
			fmt.Fprintf(tw, "  %s\t-\t-\t0\n", k)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", k, experiments.FormatMetric(k, sum/float64(n)), experiments.FormatMetric(k, peak), n)
	}
	tw.Flush()
}
