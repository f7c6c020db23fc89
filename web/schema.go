package web

// What the UI shows of metrics — titles, units, formats, which way is better, the order of
// tables — comes from the metric schema of package experiments; this file only adapts it, and
// names the chart's first metric and the runs table's first columns from it.

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker/query"
)

// metricInfo describes one metric for display (and for the charts' JSON).
type metricInfo struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Label  string `json:"label"` // title with its unit, for axes: "epoch time (s)"
	Unit   string `json:"unit,omitempty"`
	Better int    `json:"better"` // -1: lower is better; +1: higher is better; 0: neither
}

// chartMetric is the curve the charts show first: the validation loss of every epoch.
var chartMetric = experiments.ValBCE.Name

// defaultColumns are the runs table's columns until the user chooses others.
var defaultColumns = []string{"params.model", "params.epochs",
	metricColumn(experiments.ValBCE), metricColumn(experiments.TestMSE),
	metricColumn(experiments.TestPSNR), metricColumn(experiments.SecondsPerEpoch)}

func metricColumn(m experiments.Metric) string {
	return query.Field{Kind: query.FieldMetric, Key: m.Name}.String()
}

// metricMeta describes a metric; one the schema does not declare (the tracker logs runs that
// are not autoencoders) gets its own name as title.
func metricMeta(key string) metricInfo {
	m, ok := experiments.LookupMetric(key)
	if !ok {
		return metricInfo{Key: key, Title: key, Label: key}
	}
	better := map[aelib.Better]int{aelib.LowerIsBetter: -1, aelib.HigherIsBetter: +1}[m.Better]
	return metricInfo{Key: key, Title: m.Title, Label: m.Label(), Unit: m.Unit, Better: better}
}

// Format writes a value of the metric as the schema says (NaN and ±Inf included).
func (m metricInfo) Format(v float64) string { return experiments.FormatMetric(m.Key, v) }

// better reports whether v is a better value of the metric than w.
func (m metricInfo) better(v, w float64) bool {
	return !math.IsNaN(v) && (math.IsNaN(w) || float64(m.Better)*(v-w) > 0)
}

// sortMetrics orders metric keys as the schema lists them, keys it does not declare after,
// by name.
func sortMetrics(keys []string) []string {
	schema := experiments.Metrics()
	rank := func(k string) int {
		if i := slices.IndexFunc(schema, func(m experiments.Metric) bool { return m.Name == k }); i >= 0 {
			return i
		}
		return len(schema)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	return keys
}
