package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aelab/aelab/tracker/query"
)

// parseSearch parses q's filter and its order: q.OrderBy, or an "order by" ending the filter.
func parseSearch(q Search) (query.Expr, []query.OrderTerm, error) {
	where, order, err := query.ParseFilter(q.Filter)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(q.OrderBy) != "" {
		if order != nil {
			return nil, nil, errors.New("query: order given twice (in the filter and in OrderBy)")
		}
		if order, err = query.ParseOrderBy(q.OrderBy); err != nil {
			return nil, nil, err
		}
	}
	return where, order, nil
}

// searchSQL writes the query selecting cols of the runs q selects (where is its parsed
// filter), without the ORDER BY: "[WITH lost …] SELECT cols FROM runs JOIN experiments e …
// WHERE …". Runs found dead (lost) count as LOST in the filter and order, also where that
// was not written (read-only stores).
func (s *Store) searchSQL(q Search, where query.Expr, lost map[string]string, cols string) (*sqlBuilder, error) {
	b := &sqlBuilder{query: q.Filter, d: s.d}
	if len(lost) > 0 {
		b.w("WITH lost(id) AS (VALUES ")
		for i, id := range slices.Sorted(maps.Keys(lost)) {
			if i > 0 {
				b.w(", ")
			}
			b.w("(")
			b.arg(id)
			b.w(")")
		}
		b.w(") ")
		b.status = "(CASE WHEN runs.id IN (SELECT id FROM lost) THEN 'LOST' ELSE runs.status END)"
	}
	b.w("SELECT " + cols + " FROM runs JOIN experiments e ON e.id = runs.experiment_id WHERE 1=1")
	if !q.IncludeDeleted {
		b.w(" AND runs.deleted = 0")
	}
	if q.Experiment != "" {
		b.w(" AND e.name = ")
		b.arg(q.Experiment)
	}
	if where != nil {
		b.w(" AND " + s.d.filterOpen)
		if b.expr(where); b.err != nil {
			return nil, b.err
		}
		b.w(s.d.filterClose)
	}
	return b, nil
}

// orderBy writes the ORDER BY clause: the terms, then newest first (and the id, so that
// pages of equal keys are stable).
func orderBy(b *sqlBuilder, order []query.OrderTerm) {
	b.w(" ORDER BY ")
	if len(order) > 0 {
		orderSQL(b, order)
		b.w(", ")
	}
	b.w("runs.start_time DESC, runs.id")
}

// PageQuery asks for one page of the runs a search selects, with only the params, tags
// and metrics a table shows.
type PageQuery struct {
	Search                // Search.Limit is the page size (0: every run from Offset on)
	Offset  int           // runs to skip
	Columns []query.Field // params, tags and metrics to load for each row (attributes always are)
}

// RunRow is one line of a runs table: a run's attributes, and of its params, tags and
// latest metrics those a PageQuery asked for.
type RunRow struct {
	ID         string                 `json:"id"`
	Experiment string                 `json:"experiment"`
	Name       string                 `json:"name"`
	Status     Status                 `json:"status"`
	Error      string                 `json:"error,omitempty"`
	StartTime  time.Time              `json:"start_time"`
	EndTime    time.Time              `json:"end_time"` // zero while running
	Heartbeat  time.Time              `json:"heartbeat"`
	Source     string                 `json:"source,omitempty"`
	Deleted    bool                   `json:"deleted,omitempty"`
	Params     map[string]string      `json:"params"`
	Tags       map[string]string      `json:"tags"`
	Metrics    map[string]MetricPoint `json:"metrics"`
}

// ShortID is the first 8 characters of the run id.
func (r *RunRow) ShortID() string { return short(r.ID) }

// Duration is how long the run ran (until its last heartbeat if it is still running or lost).
func (r *RunRow) Duration() time.Duration {
	rec := RunRecord{Status: r.Status, StartTime: r.StartTime, EndTime: r.EndTime, Heartbeat: r.Heartbeat}
	return rec.Duration()
}

// Page is one page of a search: Total runs match, Rows are those from Offset on.
type Page struct {
	Total  int      `json:"total"`
	Offset int      `json:"offset"`
	Rows   []RunRow `json:"runs"`
}

// SearchPage returns one page of the runs q selects, in its order, with the number of runs
// that match. Filtering, ordering, counting and paging happen in the database, so a page
// costs about the same with ten runs or ten thousand. A malformed filter or order returns
// a *query.Error.
func (s *Store) SearchPage(q PageQuery) (*Page, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("tracker: search page: negative offset %d or limit %d", q.Offset, q.Limit)
	}
	where, order, err := parseSearch(q.Search)
	if err != nil {
		return nil, err
	}
	lost := s.reapLost()
	page := &Page{Offset: q.Offset, Rows: []RunRow{}}
	count, err := s.searchSQL(q.Search, where, lost, "count(*)")
	if err != nil {
		return nil, err
	}
	if err := s.reader().queryRow(count.String(), count.args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("tracker: search page: counting: %w", err)
	}
	b, err := s.searchSQL(q.Search, where, lost, `runs.id, e.name, runs.name, runs.status, runs.error,
		runs.start_time, runs.end_time, runs.heartbeat, runs.source, runs.deleted`)
	if err != nil {
		return nil, err
	}
	orderBy(b, order)
	if q.Limit > 0 || q.Offset > 0 {
		limit := int64(q.Limit)
		if limit == 0 {
			limit = math.MaxInt64 // OFFSET needs a LIMIT in SQLite
		}
		b.w(" LIMIT ")
		b.arg(limit)
		b.w(" OFFSET ")
		b.arg(q.Offset)
	}
	rows, err := s.reader().query(b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: search page: %w", err)
	}
	byID := map[string]*RunRow{}
	for rows.Next() {
		r := RunRow{Params: map[string]string{}, Tags: map[string]string{}, Metrics: map[string]MetricPoint{}}
		var start, end, hb sql.NullInt64
		var status string
		if err := rows.Scan(&r.ID, &r.Experiment, &r.Name, &status, &r.Error, &start, &end, &hb, &r.Source, &r.Deleted); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tracker: search page: %w", err)
		}
		r.Status = Status(status)
		r.StartTime, r.EndTime, r.Heartbeat = msTime(start), msTime(end), msTime(hb)
		if reason, ok := lost[r.ID]; ok && r.Status == StatusRunning {
			r.Status, r.Error, r.EndTime = StatusLost, reason, r.Heartbeat
		}
		page.Rows = append(page.Rows, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: search page: %w", err)
	}
	for i := range page.Rows {
		byID[page.Rows[i].ID] = &page.Rows[i]
	}
	if err := s.loadColumns(byID, q.Columns); err != nil {
		return nil, fmt.Errorf("tracker: search page: %w", err)
	}
	return page, nil
}

// loadColumns fills the rows' params, tags and metrics named by columns.
func (s *Store) loadColumns(byID map[string]*RunRow, columns []query.Field) error {
	if len(byID) == 0 {
		return nil
	}
	keys := map[query.FieldKind][]any{}
	for _, f := range columns {
		if f.Kind != query.FieldAttribute {
			keys[f.Kind] = append(keys[f.Kind], f.Key)
		}
	}
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for kind, ks := range keys {
		table := map[query.FieldKind]string{query.FieldParam: "params", query.FieldTag: "tags", query.FieldMetric: "latest_metrics"}[kind]
		cols := "run_id, key, value"
		if kind == query.FieldMetric {
			cols = "run_id, key, value, step, epoch, timestamp"
		}
		q := `SELECT ` + cols + ` FROM ` + table + ` WHERE run_id IN ` + placeholders(len(ids)) + ` AND key IN ` + placeholders(len(ks))
		rows, err := s.reader().query(q, append(append([]any(nil), ids...), ks...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, k string
			if kind == query.FieldMetric {
				var p MetricPoint
				var v sql.NullFloat64
				var ts sql.NullInt64
				if err := rows.Scan(&id, &k, &v, &p.Step, &p.Epoch, &ts); err != nil {
					rows.Close()
					return err
				}
				p.Value, p.Time = nullNaN(v), msTime(ts)
				byID[id].Metrics[k] = p
				continue
			}
			var v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return err
			}
			if kind == query.FieldParam {
				byID[id].Params[k] = v
			} else {
				byID[id].Tags[k] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// placeholders is "(?, ?, …)" with n question marks.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}
