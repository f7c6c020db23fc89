package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aelab/aelab/tracker"
)

// Paging and column limits of the runs table.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	maxColumns      = 60
)

// runsQuery is what the runs page asks for, read from (and written back to) its URL.
type runsQuery struct {
	Q       string   // filter, in the tracker's query language
	Order   string   // order by, set by clicking a column; ignored when Q has its own "order by"
	Page    int      // 1-based
	Size    int      // runs per page
	Cols    []string // params, metrics and tags shown, as field names (params.model)
	Deleted bool     // show deleted runs too
}

func parseRunsQuery(v url.Values) runsQuery {
	q := runsQuery{Q: strings.TrimSpace(v.Get("q")), Order: strings.TrimSpace(v.Get("order")),
		Page: 1, Size: defaultPageSize, Cols: v["col"], Deleted: v.Get("deleted") == "1"}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 0 {
		q.Page = n
	}
	if n, err := strconv.Atoi(v.Get("size")); err == nil && n > 0 {
		q.Size = min(n, maxPageSize)
	}
	if v.Has("offset") || v.Has("limit") { // the API's names
		off, _ := strconv.Atoi(v.Get("offset"))
		if n, err := strconv.Atoi(v.Get("limit")); err == nil && n > 0 {
			q.Size = min(n, maxPageSize)
		}
		q.Page = max(off, 0)/q.Size + 1
	}
	if len(q.Cols) == 0 && !v.Has("cols") {
		q.Cols = defaultColumns
	}
	if len(q.Cols) > maxColumns {
		q.Cols = q.Cols[:maxColumns]
	}
	return q
}

// values writes the query back as URL values (defaults left out).
func (q runsQuery) values() url.Values {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Size != defaultPageSize {
		v.Set("size", strconv.Itoa(q.Size))
	}
	if !slices.Equal(q.Cols, defaultColumns) {
		v["col"] = q.Cols
		v.Set("cols", "1") // the columns are chosen (none, perhaps): no defaults
	}
	if q.Deleted {
		v.Set("deleted", "1")
	}
	return v
}

// URL is the runs page for the query with change applied.
func (q runsQuery) URL(change func(*runsQuery)) string {
	if change != nil {
		change(&q)
	}
	if enc := q.values().Encode(); enc != "" {
		return "/?" + enc
	}
	return "/"
}

// column is one column of the runs table beyond the fixed ones.
type column struct {
	Field   tracker.Field
	Name    string // the field as written in queries: params.model
	Title   string
	Sort    string // "asc" or "desc" when the table is ordered by it
	SortURL string
}

// cell is one formatted value of the table.
type cell struct {
	Text  string
	Title string // the exact value, on hover
	Class string // "num" for numbers, "missing" when the run has no value
}

type runRowView struct {
	tracker.RunRow
	Cells []cell
}

// queryErrorView shows a malformed query with a caret under the offending column.
type queryErrorView struct {
	Field   string // "query" or "order"
	Query   string
	Caret   string // spaces up to the column, then ^
	Message string
	Column  int
}

// runsView is the runs page's data.
type runsView struct {
	Query   runsQuery
	Columns []column
	Fixed   map[string]column // the sortable fixed columns: status, name, experiment, start_time
	Rows    []runRowView
	Total   int
	First   int // 1-based number of the first run shown
	Last    int
	Pages   int
	PrevURL string
	NextURL string
	Sizes   []int
	Err     *queryErrorView
	Chooser []chooserGroup // the column chooser (full pages only)
}

// chooserGroup is the column chooser's list of one kind of key.
type chooserGroup struct {
	Kind tracker.FieldKind
	Keys []chooserKey
}

type chooserKey struct {
	Name    string // field name: params.model
	Label   string // key: model
	Checked bool
}

// runsData reads one page of runs for q. A malformed query is not an error: the view carries it.
func (s *Server) runsData(q runsQuery, withKeys bool) (*runsView, error) {
	v := &runsView{Query: q, Sizes: []int{25, 50, 100, 200}}
	shown := map[string]bool{}
	fields := make([]tracker.Field, 0, len(q.Cols))
	for _, name := range q.Cols {
		f, err := tracker.ParseField(name)
		if err != nil || f.Kind == tracker.FieldAttribute {
			continue // a column the chooser never offers: skipped
		}
		fields = append(fields, f)
		shown[f.String()] = true
	}
	order := q.Order
	if _, own, err := tracker.ParseFilter(q.Q); err == nil && own != nil {
		order = "" // the query's own "order by" wins
	}
	page, err := s.store.SearchPage(tracker.PageQuery{
		Search:  tracker.Search{Filter: q.Q, OrderBy: order, Limit: q.Size, IncludeDeleted: q.Deleted},
		Offset:  (q.Page - 1) * q.Size,
		Columns: fields,
	})
	var qe *tracker.QueryError
	switch {
	case errors.As(err, &qe):
		v.Err = newQueryError(qe, q)
		page = &tracker.Page{}
	case err != nil && strings.HasPrefix(err.Error(), "query:"):
		v.Err = &queryErrorView{Field: "query", Query: q.Q, Message: strings.TrimPrefix(err.Error(), "query: ")}
		page = &tracker.Page{}
	case err != nil:
		return nil, err
	}
	sortField, desc := currentSort(q, order)
	mk := func(f tracker.Field, title string) column {
		c := column{Field: f, Name: f.String(), Title: title}
		next := c.Name + " asc"
		if c.Name == sortField {
			c.Sort = map[bool]string{false: "asc", true: "desc"}[desc]
			if !desc {
				next = c.Name + " desc"
			}
		}
		c.SortURL = q.URL(func(r *runsQuery) { r.Order, r.Page = next, 1 })
		return c
	}
	v.Fixed = map[string]column{}
	for _, a := range []string{"status", "name", "experiment", "start_time"} {
		v.Fixed[a] = mk(tracker.Field{Kind: tracker.FieldAttribute, Key: a}, a)
	}
	for _, f := range fields {
		v.Columns = append(v.Columns, mk(f, f.Key))
	}
	v.Total = page.Total
	for _, row := range page.Rows {
		rv := runRowView{RunRow: row}
		for _, c := range v.Columns {
			rv.Cells = append(rv.Cells, formatCell(row, c.Field))
		}
		v.Rows = append(v.Rows, rv)
	}
	v.Pages = max(1, (v.Total+q.Size-1)/q.Size)
	if len(v.Rows) > 0 {
		v.First = (q.Page-1)*q.Size + 1
		v.Last = v.First + len(v.Rows) - 1
	}
	if q.Page > 1 {
		v.PrevURL = q.URL(func(r *runsQuery) { r.Page = min(r.Page-1, v.Pages) })
	}
	if q.Page < v.Pages {
		v.NextURL = q.URL(func(r *runsQuery) { r.Page++ })
	}
	if withKeys {
		ks, err := s.keys.get(s.store)
		if err != nil {
			return nil, err
		}
		for _, g := range []struct {
			kind tracker.FieldKind
			keys []string
		}{{tracker.FieldParam, ks.Params}, {tracker.FieldMetric, ks.Metrics}, {tracker.FieldTag, ks.Tags}} {
			group := chooserGroup{Kind: g.kind}
			for _, k := range g.keys {
				name := tracker.Field{Kind: g.kind, Key: k}.String()
				group.Keys = append(group.Keys, chooserKey{Name: name, Label: k, Checked: shown[name]})
			}
			v.Chooser = append(v.Chooser, group)
		}
	}
	return v, nil
}

// currentSort is the field the table is ordered by first, from the query's own "order by"
// or the order parameter; "" for the default (newest first).
func currentSort(q runsQuery, order string) (field string, desc bool) {
	var terms []tracker.OrderTerm
	if _, own, err := tracker.ParseFilter(q.Q); err == nil && own != nil {
		terms = own
	} else if t, err := tracker.ParseOrderBy(order); err == nil {
		terms = t
	}
	if len(terms) == 0 {
		return "attributes.start_time", true
	}
	return terms[0].Field.String(), terms[0].Desc
}

func newQueryError(qe *tracker.QueryError, q runsQuery) *queryErrorView {
	v := &queryErrorView{Field: "query", Query: qe.Query, Message: qe.Msg, Column: qe.Column}
	if qe.Query != q.Q && qe.Query == q.Order {
		v.Field = "order"
	}
	v.Caret = strings.Repeat(" ", max(0, qe.Column-1)) + "^"
	return v
}

// formatCell writes a run's value of a param, tag or metric.
func formatCell(row tracker.RunRow, f tracker.Field) cell {
	switch f.Kind {
	case tracker.FieldMetric:
		p, ok := row.Metrics[f.Key]
		if !ok {
			return cell{Text: "–", Class: "num missing"}
		}
		return cell{Text: metricMeta(f.Key).Format(p.Value), Title: strconv.FormatFloat(p.Value, 'g', -1, 64) + fmt.Sprintf(" (step %d, epoch %d)", p.Step, p.Epoch), Class: "num"}
	case tracker.FieldParam, tracker.FieldTag:
		m := row.Params
		if f.Kind == tracker.FieldTag {
			m = row.Tags
		}
		val, ok := m[f.Key]
		if !ok {
			return cell{Text: "–", Class: "missing"}
		}
		c := cell{Text: val, Title: val}
		if _, err := strconv.ParseFloat(val, 64); err == nil {
			c.Class = "num"
		}
		if len([]rune(val)) > 40 {
			c.Text = string([]rune(val)[:39]) + "…"
		}
		return c
	}
	return cell{}
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.runsData(parseRunsQuery(r.URL.Query()), true)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "runs", "Runs", v)
}

// runsTable is the table part of the runs page, which the page's script swaps in when the
// query, order or page changes or the store does.
func (s *Server) runsTable(w http.ResponseWriter, r *http.Request) {
	v, err := s.runsData(parseRunsQuery(r.URL.Query()), false)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "runs", "Runs", v, "table")
}

// apiRuns is one page of runs as JSON: ?q=&order=&offset=&limit=&col=….
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q := parseRunsQuery(r.URL.Query())
	v, err := s.runsData(q, false)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if v.Err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": v.Err.Message, "field": v.Err.Field,
			"query": v.Err.Query, "column": v.Err.Column})
		return
	}
	runs := make([]tracker.RunRow, len(v.Rows))
	for i, row := range v.Rows {
		runs[i] = row.RunRow
	}
	cols := make([]string, len(v.Columns))
	for i, c := range v.Columns {
		cols[i] = c.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": v.Total, "offset": (q.Page - 1) * q.Size,
		"limit": q.Size, "columns": cols, "runs": runs})
}

func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.keys.get(s.store)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, ks)
}

// keysCache keeps the store's keys until the store's version changes (listing them scans
// the params and tags tables).
type keysCache struct {
	mu      sync.Mutex
	version string
	keys    *tracker.KeySet
}

func (c *keysCache) get(store *tracker.Store) (*tracker.KeySet, error) {
	v, err := store.Version()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != nil && c.version == v {
		return c.keys, nil
	}
	ks, err := store.Keys()
	if err != nil {
		return nil, err
	}
	c.version, c.keys = v, ks
	return ks, nil
}
