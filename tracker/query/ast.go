package query

import "strings"

// Expr is a parsed filter expression: a *LogicalExpr, *NotExpr, *Comparison, *InExpr or
// *LikeExpr. String renders it back in canonical form, which parses to the same Expr.
type Expr interface {
	String() string
	isExpr()
}

func (*LogicalExpr) isExpr() {}
func (*NotExpr) isExpr()     {}
func (*Comparison) isExpr()  {}
func (*InExpr) isExpr()      {}
func (*LikeExpr) isExpr()    {}

// FieldKind says which part of a run a field names.
type FieldKind string

const (
	FieldMetric    FieldKind = "metrics"
	FieldParam     FieldKind = "params"
	FieldTag       FieldKind = "tags"
	FieldAttribute FieldKind = "attributes"
)

// Field is metrics.KEY, params.KEY, tags.KEY or attributes.NAME.
type Field struct {
	Kind FieldKind
	Key  string
	Col  int // 1-based column in the query; 0 when not parsed from one
}

// IsTime reports whether f is a time attribute (start_time, end_time), which compares with
// Unix milliseconds or a date (ParseTime).
func (f Field) IsTime() bool {
	return f.Kind == FieldAttribute && (f.Key == "start_time" || f.Key == "end_time")
}

func (f Field) String() string {
	k := f.Key
	for _, part := range strings.Split(k, ".") {
		if part == "" || strings.ContainsFunc(part, func(r rune) bool { return !isIdentRune(r) }) {
			k = "`" + k + "`"
			break
		}
	}
	return string(f.Kind) + "." + k
}

// Value is a literal in a query: a number or a string.
type Value struct {
	IsNumber bool
	Number   float64
	Text     string // the string, or the number as written
	Col      int
}

func (v Value) String() string {
	if v.IsNumber {
		return v.Text
	}
	return quoteString(v.Text)
}

// quoteString writes s as the lexer reads it back: double quotes, with
// backslashes and double quotes escaped by a backslash.
func quoteString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// LogicalExpr is T1 and T2 and … / T1 or T2 or …: a chain of one operator is
// one node, however long, so that long generated queries stay shallow.
type LogicalExpr struct {
	Op    string // "and" or "or"
	Terms []Expr // two or more
}

func (e *LogicalExpr) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
	}
	return "(" + strings.Join(parts, " "+e.Op+" ") + ")"
}

// NotExpr is not X.
type NotExpr struct{ X Expr }

func (e *NotExpr) String() string { return "not " + e.X.String() }

// Comparison is field op value.
type Comparison struct {
	Field Field
	Op    string // = != < <= > >=
	Value Value
}

func (e *Comparison) String() string { return e.Field.String() + " " + e.Op + " " + e.Value.String() }

// InExpr is field [not] in (values).
type InExpr struct {
	Field  Field
	Not    bool
	Values []Value
}

func (e *InExpr) String() string {
	vs := make([]string, len(e.Values))
	for i, v := range e.Values {
		vs[i] = v.String()
	}
	not := ""
	if e.Not {
		not = "not "
	}
	return e.Field.String() + " " + not + "in (" + strings.Join(vs, ", ") + ")"
}

// LikeExpr is field [not] like pattern.
type LikeExpr struct {
	Field   Field
	Not     bool
	Pattern Value
}

func (e *LikeExpr) String() string {
	not := ""
	if e.Not {
		not = "not "
	}
	return e.Field.String() + " " + not + "like " + e.Pattern.String()
}

// OrderTerm is one key of an order by.
type OrderTerm struct {
	Field Field
	Desc  bool
}
