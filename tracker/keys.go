package tracker

import (
	"fmt"
	"maps"
	"slices"
	"sort"
)

// KeySet lists the param, tag and metric keys the store's runs use, each sorted.
type KeySet struct {
	Params  []string `json:"params"`
	Metrics []string `json:"metrics"`
	Tags    []string `json:"tags"`
}

// Keys returns every param, tag and metric key logged in the store (by runs deleted or not):
// what a runs table can show as columns.
func (s *Store) Keys() (*KeySet, error) {
	ks := &KeySet{}
	for _, t := range []struct {
		table string
		dst   *[]string
	}{{"params", &ks.Params}, {"latest_metrics", &ks.Metrics}, {"tags", &ks.Tags}} {
		keys, err := s.reader().strings(`SELECT DISTINCT key FROM ` + t.table + ` ORDER BY key`)
		if err != nil {
			return nil, fmt.Errorf("tracker: keys of %s: %w", t.table, err)
		}
		*t.dst = keys
	}
	return ks, nil
}

// HistoryLen is how many values of a metric a run logged.
type HistoryLen struct {
	Key    string `json:"key"`
	Points int    `json:"points"` // the most values any of the runs logged
}

// HistoryKeys returns the metrics the runs (full ids) logged, sorted by key, each with the
// most values one of them logged: a key with several values has a curve to draw, a key
// logged once is a final measure.
func (s *Store) HistoryKeys(runIDs ...string) ([]HistoryLen, error) {
	if len(runIDs) == 0 {
		return []HistoryLen{}, nil
	}
	args := make([]any, len(runIDs))
	for i, id := range runIDs {
		args[i] = id
	}
	rows, err := s.reader().query(`SELECT key, count(*) FROM metrics WHERE run_id IN `+placeholders(len(args))+
		` GROUP BY run_id, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: metric keys: %w", err)
	}
	defer rows.Close()
	most := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("tracker: metric keys: %w", err)
		}
		most[k] = max(most[k], n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: metric keys: %w", err)
	}
	out := make([]HistoryLen, 0, len(most))
	for k, n := range most {
		out = append(out, HistoryLen{Key: k, Points: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// KeysOf returns the param, tag and metric keys the runs (full ids) use, each sorted with the
// keys more of the runs use first.
func (s *Store) KeysOf(ids []string) (*KeySet, error) {
	ks := &KeySet{}
	if len(ids) == 0 {
		return ks, nil
	}
	in, args := placeholders(len(ids)), anys(ids)
	for _, t := range []struct {
		table string
		dst   *[]string
	}{{"params", &ks.Params}, {"latest_metrics", &ks.Metrics}, {"tags", &ks.Tags}} {
		keys, err := s.reader().strings(`SELECT key FROM `+t.table+` WHERE run_id IN `+in+`
			GROUP BY key ORDER BY count(*) DESC, key`, args...)
		if err != nil {
			return nil, fmt.Errorf("tracker: keys of %s: %w", t.table, err)
		}
		*t.dst = keys
	}
	return ks, nil
}

// RecordKeys returns the param, tag and metric keys the records use, each sorted: KeysOf for
// runs already read.
func RecordKeys(recs []*RunRecord) *KeySet {
	params, tags, metrics := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		for k := range r.Params {
			params[k] = true
		}
		for k := range r.Tags {
			tags[k] = true
		}
		for k := range r.Metrics {
			metrics[k] = true
		}
	}
	return &KeySet{Params: slices.Sorted(maps.Keys(params)), Tags: slices.Sorted(maps.Keys(tags)),
		Metrics: slices.Sorted(maps.Keys(metrics))}
}
