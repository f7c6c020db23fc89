package tracker

import (
	"fmt"
	"strings"

	"github.com/aelab/aelab/tracker/query"
)

// MaxQueryLookups is how many tests of metric, param or tag keys a filter may make, counting
// the tests of one key in one and/or chain once: each is a subquery, and planning them takes
// time that grows faster than their number.
const MaxQueryLookups = 1_000

// sqlBuilder accumulates SQL text written by the code and the arguments bound to it.
type sqlBuilder struct {
	sb   strings.Builder
	args []any
	d    *dialect
	// query is the filter being written; lookups counts its key subqueries,
	// and err is the first error (the builder's methods write on regardless).
	query   string
	lookups int
	err     error
	// status is the SQL for a run's status: runs.status, or an expression that
	// also calls LOST the runs found dead but not recorded so (read-only stores).
	status string
}

func (b *sqlBuilder) w(s string)     { b.sb.WriteString(s) }
func (b *sqlBuilder) arg(v any)      { b.sb.WriteString("?"); b.args = append(b.args, v) }
func (b *sqlBuilder) String() string { return b.sb.String() }

var sqlOps = map[string]string{"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

// expr writes the SQL condition of a parsed filter.
func (b *sqlBuilder) expr(e query.Expr) {
	switch e := e.(type) {
	case *query.LogicalExpr:
		b.logical(e)
	case *query.NotExpr:
		b.w("NOT ")
		b.expr(e.X)
	case *query.Comparison, *query.InExpr, *query.LikeExpr:
		b.fieldTest(e)
	default:
		panic(fmt.Sprintf("tracker: query expression %T has no SQL", e))
	}
}

// logical writes the chain as a balanced tree of parenthesised pairs: databases
// parse "a OR b OR c …" one nesting level per term (SQLite stops at 1,000), so
// 5,000 terms become 13 levels instead. The chain's tests of one metric, param
// or tag key share one EXISTS over that key's row (a run has one row per key,
// so "EXISTS a OR EXISTS b" is "EXISTS (a OR b)", and the same for AND): a long
// generated chain over a few keys costs a few subqueries, not one per term.
func (b *sqlBuilder) logical(e *query.LogicalExpr) {
	op := map[string]string{"and": " AND ", "or": " OR "}[e.Op]
	var units []func()
	byKey := map[query.Field][]query.Expr{}
	for _, t := range e.Terms {
		f, ok := testedField(t)
		if !ok || f.Kind == query.FieldAttribute {
			units = append(units, func() { b.expr(t) })
			continue
		}
		col := f.Col
		f.Col = 0 // one group per kind and key
		if byKey[f] == nil {
			units = append(units, func() {
				tests := byKey[f]
				existsKey(b, query.Field{Kind: f.Kind, Key: f.Key, Col: col}, func() {
					balanced(b, tests, op, func(t query.Expr) { b.test(t) })
				})
			})
		}
		byKey[f] = append(byKey[f], t)
	}
	balanced(b, units, op, func(unit func()) { unit() })
}

// balanced writes items joined by op as a balanced tree of parenthesised pairs.
func balanced[T any](b *sqlBuilder, items []T, op string, write func(T)) {
	if len(items) == 1 {
		write(items[0])
		return
	}
	mid := len(items) / 2
	b.w("(")
	balanced(b, items[:mid], op, write)
	b.w(op)
	balanced(b, items[mid:], op, write)
	b.w(")")
}

// testedField is the field e tests when e is a test of one field's value (a Comparison,
// InExpr or LikeExpr).
func testedField(e query.Expr) (query.Field, bool) {
	switch e := e.(type) {
	case *query.Comparison:
		return e.Field, true
	case *query.InExpr:
		return e.Field, true
	case *query.LikeExpr:
		return e.Field, true
	}
	return query.Field{}, false
}

// fieldTest writes a field test: an attribute's directly, a key's inside existsKey.
func (b *sqlBuilder) fieldTest(e query.Expr) {
	if f, _ := testedField(e); f.Kind != query.FieldAttribute {
		existsKey(b, f, func() { b.test(e) })
		return
	}
	b.w("(")
	b.test(e)
	b.w(")")
}

// test writes the condition of a field test on the field's value (inside existsKey for
// metrics, params and tags).
func (b *sqlBuilder) test(e query.Expr) {
	switch e := e.(type) {
	case *query.Comparison:
		b.comparison(e)
	case *query.InExpr:
		b.in(e)
	case *query.LikeExpr:
		b.like(e)
	}
}

// existsKey writes the test that the run has key f and that test holds for its
// value kv.value. Past MaxQueryLookups such subqueries it records an error.
func existsKey(b *sqlBuilder, f query.Field, test func()) {
	if b.lookups++; b.lookups > MaxQueryLookups && b.err == nil {
		b.err = &query.Error{Query: b.query, Column: f.Col, Msg: fmt.Sprintf(
			"too many lookups of metrics, params and tags: at most %d (tests of one key joined by one and/or chain count once)", MaxQueryLookups)}
	}
	table := map[query.FieldKind]string{query.FieldMetric: "latest_metrics", query.FieldParam: "params", query.FieldTag: "tags"}[f.Kind]
	b.w("runs.id IN (SELECT kv.run_id FROM " + table + " kv WHERE kv.key = ")
	b.arg(f.Key)
	b.w(" AND ")
	test()
	b.w(")")
}

// attributeColumn is the SQL column of an attribute, for the query and order.
func (b *sqlBuilder) attributeColumn(name string) string {
	if name == "status" && b.status != "" {
		return b.status
	}
	return map[string]string{"id": "runs.id", "name": "runs.name", "status": "runs.status",
		"experiment": "e.name", "source": "runs.source", "start_time": "runs.start_time", "end_time": "runs.end_time"}[name]
}

// valueExpr is the SQL for field f's value, as a number when numeric is true.
func (b *sqlBuilder) valueExpr(f query.Field, numeric bool) string {
	col := "kv.value"
	switch {
	case f.Kind == query.FieldMetric || f.IsTime():
		numeric = false // already numbers
		if f.Kind == query.FieldAttribute {
			col = b.attributeColumn(f.Key)
		}
	case f.Kind == query.FieldAttribute:
		col = b.attributeColumn(f.Key)
	}
	if numeric {
		return "aelab_num(" + col + ")"
	}
	return col
}

// value binds value v compared with field f. Times are Unix milliseconds,
// compared as float64 (exact below 2^53 ms, the year 285,000): a number out of
// int64's range then keeps its meaning (start_time > 1e300 matches nothing)
// instead of wrapping around.
func (b *sqlBuilder) value(f query.Field, v query.Value) {
	switch {
	case f.IsTime():
		ms := v.Number
		if !v.IsNumber {
			t, _ := query.ParseTime(v.Text)
			ms = float64(t.UnixMilli())
		}
		b.w("CAST(")
		b.arg(ms)
		b.w(" AS DOUBLE PRECISION)")
	case f.Kind == query.FieldAttribute && f.Key == "status" && !v.IsNumber:
		b.arg(strings.ToUpper(v.Text))
	case v.IsNumber:
		b.arg(v.Number)
	default:
		b.arg(v.Text)
	}
}

func (b *sqlBuilder) comparison(e *query.Comparison) {
	b.w(b.valueExpr(e.Field, e.Value.IsNumber) + " " + sqlOps[e.Op] + " ")
	b.value(e.Field, e.Value)
}

func (b *sqlBuilder) in(e *query.InExpr) {
	b.w(b.valueExpr(e.Field, e.Values[0].IsNumber))
	if e.Not {
		b.w(" NOT")
	}
	b.w(" IN (")
	for i, v := range e.Values {
		if i > 0 {
			b.w(", ")
		}
		b.value(e.Field, v)
	}
	b.w(")")
}

func (b *sqlBuilder) like(e *query.LikeExpr) {
	expr := b.valueExpr(e.Field, false)
	if e.Field.IsTime() {
		expr = "CAST(" + expr + " AS TEXT)"
	}
	b.w(expr)
	if e.Not {
		b.w(" NOT")
	}
	op, after := b.d.likeOp()
	b.w(op)
	b.arg(e.Pattern.Text)
	b.w(after)
}

// orderSQL writes the ORDER BY terms: runs missing a key come last.
func orderSQL(b *sqlBuilder, terms []query.OrderTerm) {
	dir := func(t query.OrderTerm) string {
		if t.Desc {
			return " DESC"
		}
		return " ASC"
	}
	for i, t := range terms {
		if i > 0 {
			b.w(", ")
		}
		switch t.Field.Kind {
		case query.FieldMetric:
			sub := func() {
				b.w("(SELECT m.value FROM latest_metrics m WHERE m.run_id = runs.id AND m.key = ")
				b.arg(t.Field.Key)
				b.w(")")
			}
			sub()
			b.w(" IS NULL, ")
			sub()
			b.w(dir(t))
		case query.FieldParam, query.FieldTag:
			sub := func() {
				b.w("(SELECT kv.value FROM " + string(t.Field.Kind) + " kv WHERE kv.run_id = runs.id AND kv.key = ")
				b.arg(t.Field.Key)
				b.w(")")
			}
			// missing last, then numbers (numerically), then strings.
			sub()
			b.w(" IS NULL, aelab_num(")
			sub()
			b.w(") IS NULL, aelab_num(")
			sub()
			b.w(")" + dir(t) + ", ")
			sub()
			b.w(dir(t))
		default:
			col := b.attributeColumn(t.Field.Key)
			b.w(col + " IS NULL, " + col + dir(t))
		}
	}
}
