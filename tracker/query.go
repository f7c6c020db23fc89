package tracker

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// QueryError is a malformed filter or order-by: Column is the 1-based column
// (in characters) of the offending token.
type QueryError struct {
	Query  string
	Column int
	Msg    string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("query: at column %d: %s", e.Column, e.Msg)
}

// ---- lexer

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // the source text (ident parts unquoted, strings unquoted)
	col  int    // 1-based column
	// for idents: the dot-separated parts with backticks removed
	parts []string
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tIdent:
		return fmt.Sprintf("'%s'", strings.Join(t.parts, "."))
	default:
		return fmt.Sprintf("'%s'", t.text)
	}
}

func (t token) isKeyword(kw string) bool {
	return t.kind == tIdent && len(t.parts) == 1 && !strings.Contains(t.text, "`") && strings.EqualFold(t.text, kw)
}

func lex(q string) ([]token, error) {
	var toks []token
	rs := []rune(q)
	i := 0
	errAt := func(pos int, format string, args ...any) error {
		return &QueryError{Query: q, Column: pos + 1, Msg: fmt.Sprintf(format, args...)}
	}
	// On error, the tokens before the bad one are returned too, so that the
	// parser can report an earlier mistake first.
	for i < len(rs) {
		c := rs[i]
		start := i
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", col: start + 1})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", col: start + 1})
			i++
		case c == ',':
			toks = append(toks, token{kind: tComma, text: ",", col: start + 1})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(rs) && (rs[i+1] == '=' || (c == '<' && rs[i+1] == '>')) {
				op += string(rs[i+1])
			}
			if op == "!" {
				return toks, errAt(start, "unexpected '!' (did you mean '!='?)")
			}
			if op == "==" {
				op = "="
				i++ // tolerate ==
			}
			i += len([]rune(op))
			if op == "<>" {
				op = "!="
			}
			toks = append(toks, token{kind: tOp, text: op, col: start + 1})
		case c == '\'' || c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
				if rs[i] == c {
					if i+1 < len(rs) && rs[i+1] == c { // doubled quote = literal quote
						b.WriteRune(c)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				if rs[i] == '\\' && i+1 < len(rs) && (rs[i+1] == c || rs[i+1] == '\\') {
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				b.WriteRune(rs[i])
				i++
			}
			if !closed {
				return toks, errAt(start, "unterminated string (missing closing %c)", c)
			}
			toks = append(toks, token{kind: tString, text: b.String(), col: start + 1})
		case c == '-' || c == '+' || c == '.' || unicode.IsDigit(c):
			j := i
			if rs[j] == '-' || rs[j] == '+' {
				j++
			}
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.' || rs[j] == 'e' || rs[j] == 'E' ||
				((rs[j] == '-' || rs[j] == '+') && (rs[j-1] == 'e' || rs[j-1] == 'E'))) {
				j++
			}
			text := string(rs[i:j])
			if _, err := strconv.ParseFloat(text, 64); err != nil || (j < len(rs) && isIdentRune(rs[j])) {
				for j < len(rs) && (isIdentRune(rs[j]) || rs[j] == '.') {
					j++
				}
				return toks, errAt(start, "bad number %q", string(rs[i:j]))
			}
			toks = append(toks, token{kind: tNumber, text: text, col: start + 1})
			i = j
		case isIdentRune(c) || c == '`':
			var parts []string
			j := i
			for {
				if j < len(rs) && rs[j] == '`' {
					k := j + 1
					var b strings.Builder
					for k < len(rs) && rs[k] != '`' {
						b.WriteRune(rs[k])
						k++
					}
					if k >= len(rs) {
						return toks, errAt(j, "unterminated `quoted` name")
					}
					if b.Len() == 0 {
						return toks, errAt(j, "empty `quoted` name")
					}
					parts = append(parts, b.String())
					j = k + 1
				} else {
					k := j
					for k < len(rs) && isIdentRune(rs[k]) {
						k++
					}
					if k == j {
						if j < len(rs) {
							return toks, errAt(j, "unexpected %q in a name", rs[j])
						}
						return toks, errAt(j, "name ends with '.'")
					}
					parts = append(parts, string(rs[j:k]))
					j = k
				}
				if j < len(rs) && rs[j] == '.' {
					j++
					continue
				}
				break
			}
			toks = append(toks, token{kind: tIdent, text: string(rs[i:j]), col: start + 1, parts: parts})
			i = j
		default:
			return toks, errAt(start, "unexpected character %q", c)
		}
	}
	toks = append(toks, token{kind: tEOF, col: len(rs) + 1})
	return toks, nil
}

func isIdentRune(c rune) bool {
	return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// ---- AST

// Expr is a parsed filter expression. String renders it back in canonical form.
type Expr interface {
	String() string
	sql(b *sqlBuilder) error
}

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
	Col  int
}

func (f Field) String() string {
	k := f.Key
	for _, r := range k {
		if !isIdentRune(r) && r != '.' {
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
	return strconv.Quote(v.Text)
}

// BinaryExpr is L and R / L or R.
type BinaryExpr struct {
	Op   string // "and" or "or"
	L, R Expr
}

func (e *BinaryExpr) String() string {
	return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")"
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

// ---- parser

type parser struct {
	q    string
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errf(t token, format string, args ...any) error {
	return &QueryError{Query: p.q, Column: t.col, Msg: fmt.Sprintf(format, args...)}
}

// ParseFilter parses a filter expression (see the package documentation for the
// grammar). An empty or blank filter gives a nil Expr. A trailing "order by …"
// is returned as order terms.
func ParseFilter(q string) (e Expr, order []OrderTerm, err error) {
	p, lexErr := newParser(q)
	if lexErr != nil {
		defer func() { err = firstError(err, lexErr) }()
	}
	e, order, err = p.parseFilter()
	return
}

// newParser lexes q. On a lexing error the parser gets the tokens before the bad
// one, ended there, and the error is returned for firstError.
func newParser(q string) (*parser, *QueryError) {
	toks, err := lex(q)
	if err != nil {
		qe := err.(*QueryError)
		return &parser{q: q, toks: append(toks, token{kind: tEOF, col: qe.Column})}, qe
	}
	return &parser{q: q, toks: toks}, nil
}

// firstError picks the parser's error when it is left of the lexer's, else the lexer's.
func firstError(parseErr error, lexErr *QueryError) error {
	if qe, ok := parseErr.(*QueryError); ok && qe.Column < lexErr.Column {
		return qe
	}
	return lexErr
}

func (p *parser) parseFilter() (Expr, []OrderTerm, error) {
	var err error
	var e Expr
	if !(p.peek().kind == tEOF || p.atOrderBy()) {
		if e, err = p.parseOr(); err != nil {
			return nil, nil, err
		}
	}
	var order []OrderTerm
	if p.atOrderBy() {
		p.next()
		p.next()
		if order, err = p.parseOrderList(); err != nil {
			return nil, nil, err
		}
	}
	if t := p.peek(); t.kind != tEOF {
		if e != nil {
			return nil, nil, p.errf(t, "expected 'and', 'or' or end of input, got %s", t.describe())
		}
		return nil, nil, p.errf(t, "unexpected %s", t.describe())
	}
	return e, order, nil
}

// ParseOrderBy parses an order-by list: "metrics.val_mse asc, attributes.start_time desc".
// A leading "order by" is allowed. Blank gives nil.
func ParseOrderBy(q string) (order []OrderTerm, err error) {
	p, lexErr := newParser(q)
	if lexErr != nil {
		defer func() { err = firstError(err, lexErr) }()
	}
	return p.parseOrderBy()
}

func (p *parser) parseOrderBy() ([]OrderTerm, error) {
	if p.atOrderBy() {
		p.next()
		p.next()
	} else if p.peek().kind == tEOF {
		return nil, nil
	}
	order, err := p.parseOrderList()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errf(t, "expected ',' or end of input, got %s", t.describe())
	}
	return order, nil
}

func (p *parser) atOrderBy() bool {
	return p.peek().isKeyword("order") && p.toks[p.pos+1].isKeyword("by")
}

func (p *parser) parseOrderList() ([]OrderTerm, error) {
	var out []OrderTerm
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, p.errf(t, "expected a field to order by, got %s", t.describe())
		}
		f, err := p.field(t)
		if err != nil {
			return nil, err
		}
		term := OrderTerm{Field: f}
		if n := p.peek(); n.isKeyword("asc") {
			p.next()
		} else if n.isKeyword("desc") {
			p.next()
			term.Desc = true
		}
		out = append(out, term)
		if p.peek().kind != tComma {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) parseOr() (Expr, error) { return p.parseChain("or", p.parseAnd) }

func (p *parser) parseAnd() (Expr, error) { return p.parseChain("and", p.parseNot) }

// parseChain parses operand (op operand)…, left-associative.
func (p *parser) parseChain(op string, operand func() (Expr, error)) (Expr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for p.peek().isKeyword(op) {
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) parseNot() (Expr, error) {
	if p.peek().isKeyword("not") {
		p.next()
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x}, nil
	}
	return p.parsePrimary()
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "like": true, "order": true, "by": true, "asc": true, "desc": true}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errf(c, "expected ')' to close the '(' at column %d, got %s", t.col, c.describe())
		}
		return e, nil
	case tIdent:
		if len(t.parts) == 1 && keywords[strings.ToLower(t.text)] && !strings.Contains(t.text, "`") {
			return nil, p.errf(t, "expected a field such as metrics.val_loss, got keyword '%s'", t.text)
		}
		f, err := p.field(t)
		if err != nil {
			return nil, err
		}
		return p.parseComparison(f)
	default:
		return nil, p.errf(t, "expected a field such as metrics.val_loss or '(', got %s", t.describe())
	}
}

var attributeNames = map[string]bool{"id": true, "name": true, "status": true, "experiment": true,
	"source": true, "start_time": true, "end_time": true}

func (p *parser) field(t token) (Field, error) {
	kindOf := map[string]FieldKind{
		"metrics": FieldMetric, "metric": FieldMetric,
		"params": FieldParam, "param": FieldParam,
		"tags": FieldTag, "tag": FieldTag,
		"attributes": FieldAttribute, "attribute": FieldAttribute, "attr": FieldAttribute,
	}
	if len(t.parts) == 1 {
		name := strings.ToLower(t.parts[0])
		if attributeNames[name] {
			return Field{Kind: FieldAttribute, Key: name, Col: t.col}, nil
		}
		if _, ok := kindOf[name]; ok {
			return Field{}, p.errf(t, "expected %s.KEY, got '%s' without a key", name, t.text)
		}
		return Field{}, p.errf(t, "unknown field '%s' (use metrics.KEY, params.KEY, tags.KEY or attributes.NAME)", t.parts[0])
	}
	kind, ok := kindOf[strings.ToLower(t.parts[0])]
	if !ok {
		return Field{}, p.errf(t, "unknown field prefix '%s' (use metrics., params., tags. or attributes.)", t.parts[0])
	}
	key := strings.Join(t.parts[1:], ".")
	if kind == FieldAttribute {
		key = strings.ToLower(key)
		if !attributeNames[key] {
			return Field{}, p.errf(t, "unknown attribute '%s' (known: id, name, status, experiment, source, start_time, end_time)", strings.Join(t.parts[1:], "."))
		}
	}
	return Field{Kind: kind, Key: key, Col: t.col}, nil
}

func (p *parser) value(after string) (Value, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		f, _ := strconv.ParseFloat(t.text, 64)
		return Value{IsNumber: true, Number: f, Text: t.text, Col: t.col}, nil
	case tString:
		return Value{Text: t.text, Col: t.col}, nil
	}
	return Value{}, p.errf(t, "expected a value after '%s', got %s", after, t.describe())
}

func (p *parser) parseComparison(f Field) (Expr, error) {
	t := p.next()
	not := false
	if t.isKeyword("not") {
		not = true
		t = p.next()
		if !t.isKeyword("in") && !t.isKeyword("like") {
			return nil, p.errf(t, "expected 'in' or 'like' after 'not', got %s", t.describe())
		}
	}
	switch {
	case t.kind == tOp:
		v, err := p.value(t.text)
		if err != nil {
			return nil, err
		}
		c := &Comparison{Field: f, Op: t.text, Value: v}
		return c, p.check(f, v)
	case t.isKeyword("in"):
		lp := p.next()
		if lp.kind != tLParen {
			return nil, p.errf(lp, "expected '(' after 'in', got %s", lp.describe())
		}
		in := &InExpr{Field: f, Not: not}
		after := "("
		for {
			v, err := p.value(after)
			if err != nil {
				return nil, err
			}
			if err := p.check(f, v); err != nil {
				return nil, err
			}
			if len(in.Values) > 0 && v.IsNumber != in.Values[0].IsNumber && !isTimeField(f) {
				return nil, p.errf(p.toks[p.pos-1], "mix of numbers and strings in one 'in' list")
			}
			in.Values = append(in.Values, v)
			n := p.next()
			if n.kind == tRParen {
				return in, nil
			}
			if n.kind != tComma {
				return nil, p.errf(n, "expected ',' or ')' in the 'in' list, got %s", n.describe())
			}
			after = ","
		}
	case t.isKeyword("like"):
		v, err := p.value("like")
		if err != nil {
			return nil, err
		}
		if v.IsNumber {
			return nil, p.errf(t, "'like' needs a quoted pattern, got number %s", v.Text)
		}
		if f.Kind == FieldMetric {
			return nil, p.errf(t, "'like' does not apply to metrics (they are numbers)")
		}
		return &LikeExpr{Field: f, Not: not, Pattern: v}, nil
	}
	return nil, p.errf(t, "expected an operator (=, !=, <, <=, >, >=, in, like) after %s, got %s", f.String(), t.describe())
}

// check rejects values that cannot compare with the field.
func (p *parser) check(f Field, v Value) error {
	switch f.Kind {
	case FieldMetric:
		if !v.IsNumber {
			return &QueryError{Query: p.q, Column: v.Col, Msg: fmt.Sprintf("%s is a number, got string %q", f.String(), v.Text)}
		}
	case FieldAttribute:
		switch f.Key {
		case "start_time", "end_time":
			if !v.IsNumber {
				if _, err := parseTime(v.Text); err != nil {
					return &QueryError{Query: p.q, Column: v.Col, Msg: fmt.Sprintf("%s needs a date like \"2006-01-02 15:04\" or Unix milliseconds, got %q", f.String(), v.Text)}
				}
			}
		}
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		var t time.Time
		var err error
		if layout == time.RFC3339Nano {
			t, err = time.Parse(layout, s)
		} else {
			t, err = time.ParseInLocation(layout, s, time.Local)
		}
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// ---- SQL

// sqlBuilder accumulates SQL text written by the code and the arguments bound to it.
type sqlBuilder struct {
	sb   strings.Builder
	args []any
}

func (b *sqlBuilder) w(s string)     { b.sb.WriteString(s) }
func (b *sqlBuilder) arg(v any)      { b.sb.WriteString("?"); b.args = append(b.args, v) }
func (b *sqlBuilder) String() string { return b.sb.String() }

var sqlOps = map[string]string{"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (e *BinaryExpr) sql(b *sqlBuilder) error {
	b.w("(")
	if err := e.L.sql(b); err != nil {
		return err
	}
	b.w(map[string]string{"and": " AND ", "or": " OR "}[e.Op])
	if err := e.R.sql(b); err != nil {
		return err
	}
	b.w(")")
	return nil
}

func (e *NotExpr) sql(b *sqlBuilder) error {
	b.w("NOT ")
	return e.X.sql(b)
}

// subject writes the opening of a test on field f and returns the SQL expression
// for its value (when numeric is true, as a number) and the closing text.
func subject(b *sqlBuilder, f Field, numeric bool) (expr, closing string) {
	switch f.Kind {
	case FieldMetric:
		b.w("EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = runs.id AND m.key = ")
		b.arg(f.Key)
		b.w(" AND ")
		return "m.value", ")"
	case FieldParam, FieldTag:
		b.w("EXISTS (SELECT 1 FROM " + string(f.Kind) + " kv WHERE kv.run_id = runs.id AND kv.key = ")
		b.arg(f.Key)
		b.w(" AND ")
		if numeric {
			return "aelab_num(kv.value)", ")"
		}
		return "kv.value", ")"
	}
	b.w("(")
	col := map[string]string{"id": "runs.id", "name": "runs.name", "status": "runs.status",
		"experiment": "e.name", "source": "runs.source", "start_time": "runs.start_time", "end_time": "runs.end_time"}[f.Key]
	if numeric && col != "runs.start_time" && col != "runs.end_time" {
		col = "aelab_num(" + col + ")"
	}
	return col, ")"
}

// bindValue is the argument for value v compared with field f.
func bindValue(f Field, v Value) any {
	if f.Kind == FieldAttribute {
		switch f.Key {
		case "status":
			return strings.ToUpper(v.Text)
		case "start_time", "end_time":
			if v.IsNumber {
				return int64(v.Number)
			}
			t, _ := parseTime(v.Text)
			return t.UnixMilli()
		}
	}
	if v.IsNumber {
		return v.Number
	}
	return v.Text
}

func isTimeField(f Field) bool {
	return f.Kind == FieldAttribute && (f.Key == "start_time" || f.Key == "end_time")
}

func (e *Comparison) sql(b *sqlBuilder) error {
	expr, closing := subject(b, e.Field, e.Value.IsNumber)
	b.w(expr + " " + sqlOps[e.Op] + " ")
	b.arg(bindValue(e.Field, e.Value))
	b.w(closing)
	return nil
}

func (e *InExpr) sql(b *sqlBuilder) error {
	numeric := e.Values[0].IsNumber
	expr, closing := subject(b, e.Field, numeric)
	b.w(expr)
	if e.Not {
		b.w(" NOT")
	}
	b.w(" IN (")
	for i, v := range e.Values {
		if i > 0 {
			b.w(", ")
		}
		b.arg(bindValue(e.Field, v))
	}
	b.w(")" + closing)
	return nil
}

func (e *LikeExpr) sql(b *sqlBuilder) error {
	expr, closing := subject(b, e.Field, false)
	if isTimeField(e.Field) {
		expr = "CAST(" + expr + " AS TEXT)"
	}
	b.w(expr)
	if e.Not {
		b.w(" NOT")
	}
	b.w(" LIKE ")
	b.arg(e.Pattern.Text)
	b.w(closing)
	return nil
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
			col := map[string]string{"id": "runs.id", "name": "runs.name", "status": "runs.status",
				"experiment": "e.name", "source": "runs.source", "start_time": "runs.start_time", "end_time": "runs.end_time"}[t.Field.Key]
			b.w(col + " IS NULL, " + col + dir(t))
		}
	}
}
