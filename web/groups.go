package web

// Grouping the runs table: ?group=params.model gives one row a value of the param (or tag),
// with the number of runs and, for each metric column shown, the mean and the min–max of its
// runs; each group row opens to its runs.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// Bounds of a grouped table: the runs read to group, the runs listed under each group, and
// the grouped tables kept.
const (
	maxGroupedRuns  = 20000
	maxGroupMembers = 100
	groupsCached    = 8
)

// groupsCache keeps grouped tables by the store's version and the query: reading every run
// of a big store is the slow part of grouping, and a table that follows the store, a link
// opened again or a second browser ask for the same groups until something changes.
type groupsCache struct {
	mu      sync.Mutex
	entries map[string]groupsEntry
	order   []string // oldest first
}

type groupsEntry struct {
	groups []groupView
	total  int
}

func (c *groupsCache) get(key string) (groupsEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e, ok
}

func (c *groupsCache) put(key string, e groupsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]groupsEntry{}
	}
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
	}
	c.entries[key] = e
	if len(c.order) > groupsCached {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}

// groupView is one group of the runs table.
type groupView struct {
	Value   string // the param's or tag's value; "" when Missing
	Missing bool   // the runs that have no such param or tag
	Count   int
	Cells   []cell       // one per column: metrics' mean (min–max), params' and tags' shared value
	Members []runRowView // its first maxGroupMembers runs, in the query's order
	More    int          // runs of the group not in Members
	RunsURL string       // the runs page showing only this group's runs
}

// groupRows groups rows by the value of field g and sums each group up over cols; groups
// come in the order of their values (numbers by value), runs without the field last.
func groupRows(rows []tracker.RunRow, g query.Field, cols []column, q runsQuery) []groupView {
	byValue := map[string]*groupView{}
	var missing *groupView
	var order []*groupView
	value := func(r tracker.RunRow) (string, bool) {
		m := r.Params
		if g.Kind == query.FieldTag {
			m = r.Tags
		}
		v, ok := m[g.Key]
		return v, ok
	}
	members := map[*groupView][]tracker.RunRow{}
	for _, r := range rows[:min(len(rows), maxGroupedRuns)] {
		v, ok := value(r)
		gv := missing
		if ok {
			gv = byValue[v]
		}
		if gv == nil {
			gv = &groupView{Value: v, Missing: !ok}
			if ok {
				byValue[v] = gv
			} else {
				missing = gv
			}
			order = append(order, gv)
		}
		gv.Count++
		members[gv] = append(members[gv], r)
	}
	slices.SortStableFunc(order, func(a, b *groupView) int {
		if a.Missing != b.Missing {
			return map[bool]int{true: 1, false: -1}[a.Missing]
		}
		fa, ea := strconv.ParseFloat(a.Value, 64)
		fb, eb := strconv.ParseFloat(b.Value, 64)
		if ea == nil && eb == nil {
			return cmp.Compare(fa, fb)
		}
		return cmp.Compare(a.Value, b.Value)
	})
	out := make([]groupView, 0, len(order))
	for _, gv := range order {
		rs := members[gv]
		for _, c := range cols {
			gv.Cells = append(gv.Cells, summarize(rs, c.Field))
		}
		for _, r := range rs[:min(len(rs), maxGroupMembers)] {
			rv := runRowView{RunRow: r, Member: true}
			for _, c := range cols {
				rv.Cells = append(rv.Cells, formatCell(r, c.Field))
			}
			gv.Members = append(gv.Members, rv)
		}
		gv.More = len(rs) - len(gv.Members)
		gv.RunsURL = q.URL(func(r *runsQuery) { r.Group, r.Page, r.Q = "", 1, groupFilter(q.Q, g, *gv) })
		out = append(out, *gv)
	}
	return out
}

// groupFilter is the query that selects one group's runs: the page's query and the group's
// value (for the runs without the field, those whose value is none of the others' is not
// expressible, so the page's query alone).
func groupFilter(q string, g query.Field, gv groupView) string {
	if gv.Missing {
		return q
	}
	cond := fmt.Sprintf("%s = %s", g.String(), strconv.Quote(gv.Value))
	if q == "" {
		return cond
	}
	if _, own, err := query.ParseFilter(q); err == nil && own != nil {
		return q // its own order by ends it: leave it as it is
	}
	return "(" + q + ") and " + cond
}

// summarize is a group's cell of a column: a metric's mean with its min–max and the number
// of runs that have it, a param's or tag's value when the runs that have it share one, else
// how many values they have.
func summarize(rows []tracker.RunRow, f query.Field) cell {
	switch f.Kind {
	case query.FieldMetric:
		info := metricMeta(f.Key)
		n, sum, lo, hi := 0, 0.0, math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			p, ok := r.Metrics[f.Key]
			if !ok || math.IsNaN(p.Value) {
				continue
			}
			n++
			sum += p.Value
			lo, hi = min(lo, p.Value), max(hi, p.Value)
		}
		if n == 0 {
			return cell{Text: "–", Class: "num missing"}
		}
		mean := sum / float64(n)
		c := cell{Text: info.Format(mean), Class: "num group-stat",
			Title: fmt.Sprintf("mean of %d run%s: %s", n, plural(n), strconv.FormatFloat(mean, 'g', -1, 64))}
		if n > 1 {
			c.Range = info.Format(lo) + "–" + info.Format(hi)
			c.Title += fmt.Sprintf("; min %s, max %s", strconv.FormatFloat(lo, 'g', -1, 64), strconv.FormatFloat(hi, 'g', -1, 64))
		}
		return c
	case query.FieldParam, query.FieldTag:
		values := map[string]bool{}
		var one tracker.RunRow
		for _, r := range rows {
			if c := formatCell(r, f); c.Class != "missing" {
				values[c.Title], one = true, r
			}
		}
		switch len(values) {
		case 0:
			return cell{Text: "–", Class: "missing"}
		case 1:
			return formatCell(one, f)
		}
		return cell{Text: fmt.Sprintf("%d values", len(values)), Class: "missing"}
	}
	return cell{}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
