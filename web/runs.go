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

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
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
	Group   string   // a param or tag field the table groups its runs by; "" for one row a run
}

// maxOffset bounds how far into the runs a page may start: a page past it is refused rather
// than turned into an offset the database cannot take.
const maxOffset = 1_000_000_000

// queryInt reads the whole number v names, "" giving def; a value that is not an integer
// from lo to hi is a bad request saying so.
func queryInt(v url.Values, name string, def, lo, hi int) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < int64(lo) || n > int64(hi) {
		return 0, badRequest{fmt.Errorf("%s=%q: want a whole number from %d to %d", name, clip(s, 40), lo, hi)}
	}
	return int(n), nil
}

// clip shortens a string for a message to at most n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// parseRunsQuery reads a runs query from the URL. Numbers out of range (a page past
// maxOffset, a size of 0) are a badRequest.
func parseRunsQuery(v url.Values) (runsQuery, error) {
	q := runsQuery{Q: strings.TrimSpace(v.Get("q")), Order: strings.TrimSpace(v.Get("order")),
		Cols: v["col"], Deleted: v.Get("deleted") == "1", Group: strings.TrimSpace(v.Get("group"))}
	var err error
	if q.Size, err = queryInt(v, "size", defaultPageSize, 1, maxPageSize); err != nil {
		return q, err
	}
	if v.Has("limit") { // the API's names
		if q.Size, err = queryInt(v, "limit", q.Size, 1, maxPageSize); err != nil {
			return q, err
		}
	}
	if q.Page, err = queryInt(v, "page", 1, 1, maxOffset/q.Size+1); err != nil {
		return q, err
	}
	if v.Has("offset") {
		off, err := queryInt(v, "offset", 0, 0, maxOffset)
		if err != nil {
			return q, err
		}
		q.Page = off/q.Size + 1
	}
	if len(q.Cols) == 0 && !v.Has("cols") {
		q.Cols = defaultColumns
	}
	if len(q.Cols) > maxColumns {
		q.Cols = q.Cols[:maxColumns]
	}
	if q.Group != "" {
		f, err := query.ParseField(q.Group)
		if err != nil || (f.Kind != query.FieldParam && f.Kind != query.FieldTag) {
			return q, badRequest{fmt.Errorf("group=%q: group by a param or a tag, such as params.model", clip(q.Group, 80))}
		}
		q.Group = f.String()
	}
	return q, nil
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
	if q.Group != "" {
		v.Set("group", q.Group)
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
	Field   query.Field
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
	Range string // a group's min–max, under its mean
}

type runRowView struct {
	tracker.RunRow
	Cells  []cell
	Member bool // a row under a group's row, hidden until the group opens
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
	GroupBy []string       // the params and tags the table can be grouped by (full pages only)
	// Groups is the table grouped by Query.Group: one entry a value, its runs' metrics summed
	// up; GroupedAll is false when more runs matched than are grouped (maxGroupedRuns).
	Groups     []groupView
	GroupedAll bool
}

// HasGroupOption says whether the group-by menu lists field.
func (v *runsView) HasGroupOption(field string) bool { return slices.Contains(v.GroupBy, field) }

// GroupedLimit is the most runs a grouped table sums up.
func (v *runsView) GroupedLimit() int { return maxGroupedRuns }

// ExportURL downloads every run of the query, with the columns shown, as format (csv, json).
func (v *runsView) ExportURL(format string) string {
	vals := v.Query.values()
	for _, k := range []string{"page", "size", "group"} {
		vals.Del(k)
	}
	vals.Set("format", format)
	return "/runs/export?" + vals.Encode()
}

// fieldTitle is a column's title: a metric's from the metric schema ("val BCE"), a param's or
// tag's key.
func fieldTitle(f query.Field) string {
	if f.Kind == query.FieldMetric {
		return metricMeta(f.Key).Title
	}
	return f.Key
}

// chooserGroup is the column chooser's list of one kind of key.
type chooserGroup struct {
	Kind query.FieldKind
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
	fields := make([]query.Field, 0, len(q.Cols))
	for _, name := range q.Cols {
		f, err := query.ParseField(name)
		if err != nil || f.Kind == query.FieldAttribute {
			continue // a column the chooser never offers: skipped
		}
		fields = append(fields, f)
		shown[f.String()] = true
	}
	order := q.Order
	if _, own, err := query.ParseFilter(q.Q); err == nil && own != nil {
		order = "" // the query's own "order by" wins
	}
	pq := tracker.PageQuery{
		Search:  tracker.Search{Filter: q.Q, OrderBy: order, Limit: q.Size, IncludeDeleted: q.Deleted},
		Offset:  (q.Page - 1) * q.Size,
		Columns: fields,
	}
	var groupField query.Field
	var groupKey string
	var cached groupsEntry
	grouped := false
	if q.Group != "" { // every matching run, in groups: no pages
		groupField, _ = query.ParseField(q.Group) // parseRunsQuery checked it
		pq.Limit, pq.Offset = maxGroupedRuns+1, 0
		if !shown[groupField.String()] {
			pq.Columns = append(slices.Clip(fields), groupField)
		}
		version, err := s.store.Version()
		if err != nil {
			return nil, err
		}
		groupKey = version + "\x00" + q.values().Encode()
		cached, grouped = s.groups.get(groupKey)
	}
	var page *tracker.Page
	var err error
	if grouped {
		page = &tracker.Page{Total: cached.total}
	} else {
		page, err = s.store.SearchPage(pq)
	}
	var qe *query.Error
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
	if q.Group == "" && v.Err == nil && slices.Equal(q.Cols, defaultColumns) && !anyCourseRun(page.Rows) {
		// A page of runs that are not aelab's models shows what they logged instead.
		own, err := s.ownColumns(page.Rows)
		if err != nil {
			return nil, err
		}
		if len(own) > 0 {
			pq.Columns, fields = own, own
			if page, err = s.store.SearchPage(pq); err != nil {
				return nil, err
			}
			clear(shown)
			for _, f := range fields {
				shown[f.String()] = true
			}
		}
	}
	sortField, desc := currentSort(q, order)
	mk := func(f query.Field, title string) column {
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
		v.Fixed[a] = mk(query.Field{Kind: query.FieldAttribute, Key: a}, a)
	}
	for _, f := range fields {
		v.Columns = append(v.Columns, mk(f, fieldTitle(f)))
	}
	v.Total = page.Total
	if q.Group != "" {
		if !grouped && v.Err == nil {
			cached = groupsEntry{groups: groupRows(page.Rows, groupField, v.Columns, q), total: page.Total}
			s.groups.put(groupKey, cached)
		}
		v.Groups, v.GroupedAll = cached.groups, page.Total <= maxGroupedRuns
		page.Rows = nil
	}
	for _, row := range page.Rows {
		rv := runRowView{RunRow: row}
		for _, c := range v.Columns {
			rv.Cells = append(rv.Cells, formatCell(row, c.Field))
		}
		v.Rows = append(v.Rows, rv)
	}
	v.Pages = max(1, (v.Total+q.Size-1)/q.Size)
	if q.Group != "" {
		v.Pages = 1
	}
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
			kind query.FieldKind
			keys []string
		}{{query.FieldParam, ks.Params}, {query.FieldMetric, ks.Metrics}, {query.FieldTag, ks.Tags}} {
			group := chooserGroup{Kind: g.kind}
			for _, k := range g.keys {
				name := query.Field{Kind: g.kind, Key: k}.String()
				group.Keys = append(group.Keys, chooserKey{Name: name, Label: fieldTitle(query.Field{Kind: g.kind, Key: k}), Checked: shown[name]})
				if g.kind != query.FieldMetric {
					v.GroupBy = append(v.GroupBy, name)
				}
			}
			v.Chooser = append(v.Chooser, group)
		}
	}
	return v, nil
}

// currentSort is the field the table is ordered by first, from the query's own "order by"
// or the order parameter; "" for the default (newest first).
func currentSort(q runsQuery, order string) (field string, desc bool) {
	var terms []query.OrderTerm
	if _, own, err := query.ParseFilter(q.Q); err == nil && own != nil {
		terms = own
	} else if t, err := query.ParseOrderBy(order); err == nil {
		terms = t
	}
	if len(terms) == 0 {
		return "attributes.start_time", true
	}
	return terms[0].Field.String(), terms[0].Desc
}

func newQueryError(qe *query.Error, q runsQuery) *queryErrorView {
	v := &queryErrorView{Field: "query", Query: qe.Query, Message: qe.Msg, Column: qe.Column}
	if qe.Query != q.Q && qe.Query == q.Order {
		v.Field = "order"
	}
	v.Caret = strings.Repeat(" ", max(0, qe.Column-1)) + "^"
	return v
}

// formatCell writes a run's value of a param, tag or metric.
func formatCell(row tracker.RunRow, f query.Field) cell {
	switch f.Kind {
	case query.FieldMetric:
		p, ok := row.Metrics[f.Key]
		if !ok {
			return cell{Text: "–", Class: "num missing"}
		}
		return cell{Text: metricMeta(f.Key).Format(p.Value), Title: strconv.FormatFloat(p.Value, 'g', -1, 64) + fmt.Sprintf(" (step %d, epoch %d)", p.Step, p.Epoch), Class: "num"}
	case query.FieldParam, query.FieldTag:
		m := row.Params
		if f.Kind == query.FieldTag {
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

// runsRequest reads the runs query of a request and its data; false when it has answered
// the request with an error (a bad number or group is a 400).
func (s *Server) runsRequest(w http.ResponseWriter, r *http.Request, withKeys bool) (runsQuery, *runsView, bool) {
	q, err := parseRunsQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return q, nil, false
	}
	v, err := s.runsData(q, withKeys)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return q, nil, false
	}
	return q, v, true
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	if _, v, ok := s.runsRequest(w, r, true); ok {
		s.page(w, r, "runs", "Runs", v)
	}
}

// runsTable is the table part of the runs page, which the page's script swaps in when the
// query, order or page changes or the store does.
func (s *Server) runsTable(w http.ResponseWriter, r *http.Request) {
	if _, v, ok := s.runsRequest(w, r, false); ok {
		s.page(w, r, "runs", "Runs", v, "table")
	}
}

// apiRuns is one page of runs as JSON: ?q=&order=&offset=&limit=&col=….
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q, v, ok := s.runsRequest(w, r, false)
	if !ok {
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

// Columns a page of runs that are not aelab's models shows by default.
const (
	ownParamColumns  = 4
	ownMetricColumns = 5
)

// anyCourseRun reports whether a row is one of aelab's models (it has params.model, a default
// column).
func anyCourseRun(rows []tracker.RunRow) bool {
	return slices.ContainsFunc(rows, func(r tracker.RunRow) bool { return r.Params["model"] != "" })
}

// ownColumns are the default columns of a page of runs that are not aelab's models (a
// classifier logged through package track, a program run by aelab run): the params and the
// metrics those runs logged, those more of them logged first, system samples left out.
func (s *Server) ownColumns(rows []tracker.RunRow) ([]query.Field, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	ks, err := s.store.KeysOf(ids)
	if err != nil {
		return nil, err
	}
	var fields []query.Field
	for _, k := range ks.Params[:min(len(ks.Params), ownParamColumns)] {
		fields = append(fields, query.Field{Kind: query.FieldParam, Key: k})
	}
	metrics := 0
	for _, k := range ks.Metrics {
		if m, ok := experiments.LookupMetric(k); ok && m.Kind == experiments.Sampled {
			continue
		}
		if metrics == ownMetricColumns {
			break
		}
		fields = append(fields, query.Field{Kind: query.FieldMetric, Key: k})
		metrics++
	}
	return fields, nil
}
