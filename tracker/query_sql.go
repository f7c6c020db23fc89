package tracker

import (
	"fmt"
	"strings"
)

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

// sql writes the chain as a balanced tree of parenthesised pairs: databases
// parse "a OR b OR c …" one nesting level per term (SQLite stops at 1,000), so
// 5,000 terms become 13 levels instead. The chain's tests of one metric, param
// or tag key share one EXISTS over that key's row (a run has one row per key,
// so "EXISTS a OR EXISTS b" is "EXISTS (a OR b)", and the same for AND): a long
// generated chain over a few keys costs a few subqueries, not one per term.
func (e *LogicalExpr) sql(b *sqlBuilder) {
	op := map[string]string{"and": " AND ", "or": " OR "}[e.Op]
	var units []func()
	byKey := map[Field][]fieldTest{}
	for _, t := range e.Terms {
		ft, ok := t.(fieldTest)
		if !ok || ft.field().Kind == FieldAttribute {
			units = append(units, func() { t.sql(b) })
			continue
		}
		f := ft.field()
		f.Col = 0 // one group per kind and key
		if byKey[f] == nil {
			units = append(units, func() {
				tests := byKey[f]
				existsKey(b, tests[0].field(), func() { balanced(b, tests, op, func(t fieldTest) { t.test(b) }) })
			})
		}
		byKey[f] = append(byKey[f], ft)
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

func (e *NotExpr) sql(b *sqlBuilder) {
	b.w("NOT ")
	e.X.sql(b)
}

// fieldTest is a test of one field's value: Comparison, InExpr, LikeExpr.
type fieldTest interface {
	Expr
	field() Field
	// test writes the condition on the field's value (inside existsKey for
	// metrics, params and tags).
	test(b *sqlBuilder)
}

func (e *Comparison) field() Field { return e.Field }
func (e *InExpr) field() Field     { return e.Field }
func (e *LikeExpr) field() Field   { return e.Field }

// fieldSQL writes a field test: an attribute's directly, a key's inside existsKey.
func fieldSQL(b *sqlBuilder, t fieldTest) {
	if f := t.field(); f.Kind != FieldAttribute {
		existsKey(b, f, func() { t.test(b) })
		return
	}
	b.w("(")
	t.test(b)
	b.w(")")
}

func (e *Comparison) sql(b *sqlBuilder) { fieldSQL(b, e) }
func (e *InExpr) sql(b *sqlBuilder)     { fieldSQL(b, e) }
func (e *LikeExpr) sql(b *sqlBuilder)   { fieldSQL(b, e) }

// existsKey writes the test that the run has key f and that test holds for its
// value kv.value. Past MaxQueryLookups such subqueries it records an error:
// planning them takes time that grows faster than their number (SQLite: 0.2 s
// for 1,000, 21 s for 5,000 on a 2-core machine).
func existsKey(b *sqlBuilder, f Field, test func()) {
	if b.lookups++; b.lookups > MaxQueryLookups && b.err == nil {
		b.err = &QueryError{Query: b.query, Column: f.Col, Msg: fmt.Sprintf(
			"too many lookups of metrics, params and tags: at most %d (tests of one key joined by one and/or chain count once)", MaxQueryLookups)}
	}
	table := map[FieldKind]string{FieldMetric: "latest_metrics", FieldParam: "params", FieldTag: "tags"}[f.Kind]
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
func (b *sqlBuilder) valueExpr(f Field, numeric bool) string {
	col := "kv.value"
	switch {
	case f.Kind == FieldMetric || isTimeField(f):
		numeric = false // already numbers
		if f.Kind == FieldAttribute {
			col = b.attributeColumn(f.Key)
		}
	case f.Kind == FieldAttribute:
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
func (b *sqlBuilder) value(f Field, v Value) {
	switch {
	case isTimeField(f):
		ms := v.Number
		if !v.IsNumber {
			t, _ := parseTime(v.Text)
			ms = float64(t.UnixMilli())
		}
		b.w("CAST(")
		b.arg(ms)
		b.w(" AS DOUBLE PRECISION)")
	case f.Kind == FieldAttribute && f.Key == "status" && !v.IsNumber:
		b.arg(strings.ToUpper(v.Text))
	case v.IsNumber:
		b.arg(v.Number)
	default:
		b.arg(v.Text)
	}
}

func isTimeField(f Field) bool {
	return f.Kind == FieldAttribute && (f.Key == "start_time" || f.Key == "end_time")
}

func (e *Comparison) test(b *sqlBuilder) {
	b.w(b.valueExpr(e.Field, e.Value.IsNumber) + " " + sqlOps[e.Op] + " ")
	b.value(e.Field, e.Value)
}

func (e *InExpr) test(b *sqlBuilder) {
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

func (e *LikeExpr) test(b *sqlBuilder) {
	expr := b.valueExpr(e.Field, false)
	if isTimeField(e.Field) {
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
func orderSQL(b *sqlBuilder, terms []OrderTerm) {
	dir := func(t OrderTerm) string {
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
		case FieldMetric:
			sub := func() {
				b.w("(SELECT m.value FROM latest_metrics m WHERE m.run_id = runs.id AND m.key = ")
				b.arg(t.Field.Key)
				b.w(")")
			}
			sub()
			b.w(" IS NULL, ")
			sub()
			b.w(dir(t))
		case FieldParam, FieldTag:
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
