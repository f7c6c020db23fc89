package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

type parser struct {
	q     string
	toks  []token
	pos   int
	depth int // open parentheses and 'not's around the current token
	terms int // comparisons and listed values so far
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
	return &Error{Query: p.q, Column: t.col, Msg: fmt.Sprintf(format, args...)}
}

// ParseFilter parses a filter expression (see the package documentation for the
// grammar). An empty or blank filter gives a nil Expr. A trailing "order by …"
// is returned as order terms.
func ParseFilter(q string) (e Expr, order []OrderTerm, err error) {
	if err := checkLength(q); err != nil {
		return nil, nil, err
	}
	p, lexErr := newParser(q)
	if lexErr != nil {
		defer func() { err = firstError(err, lexErr) }()
	}
	e, order, err = p.parseFilter()
	return
}

// newParser lexes q. On a lexing error the parser gets the tokens before the bad
// one, ended there, and the error is returned for firstError.
func newParser(q string) (*parser, *Error) {
	toks, err := lex(q)
	if err != nil {
		qe := err.(*Error)
		return &parser{q: q, toks: append(toks, token{kind: tEOF, col: qe.Column})}, qe
	}
	return &parser{q: q, toks: toks}, nil
}

// firstError picks the parser's error when it is left of the lexer's, else the lexer's.
func firstError(parseErr error, lexErr *Error) error {
	if qe, ok := parseErr.(*Error); ok && qe.Column < lexErr.Column {
		return qe
	}
	return lexErr
}

// ParseField parses one field name of the query language: metrics.KEY, params.KEY,
// tags.KEY or an attribute (attributes.NAME, or the bare name). A malformed one is an *Error.
func ParseField(s string) (Field, error) {
	p, lexErr := newParser(s)
	if lexErr != nil {
		return Field{}, lexErr
	}
	t := p.next()
	if t.kind != tIdent {
		return Field{}, p.errf(t, "expected a field such as metrics.val_bce, got %s", t.describe())
	}
	f, err := p.field(t)
	if err != nil {
		return Field{}, err
	}
	if n := p.peek(); n.kind != tEOF {
		return Field{}, p.errf(n, "expected end of the field name, got %s", n.describe())
	}
	return f, nil
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
	if err := checkLength(q); err != nil {
		return nil, err
	}
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
		if len(out) == MaxOrderTerms {
			return nil, p.errf(t, "too many keys to order by: at most %d", MaxOrderTerms)
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

// parseChain parses operand (op operand)… into one LogicalExpr (or the lone operand).
func (p *parser) parseChain(op string, operand func() (Expr, error)) (Expr, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	terms := []Expr{first}
	for p.peek().isKeyword(op) {
		p.next()
		t, err := operand()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &LogicalExpr{Op: op, Terms: terms}, nil
}

// enter counts one more level of nesting at token t (a '(' or a 'not').
func (p *parser) enter(t token) error {
	if p.depth++; p.depth > MaxDepth {
		return p.errf(t, "parentheses and 'not' nest deeper than %d levels", MaxDepth)
	}
	return nil
}

// count counts one more comparison or listed value at token t.
func (p *parser) count(t token) error {
	if p.terms++; p.terms > MaxTerms {
		return p.errf(t, "too many comparisons and values: at most %d", MaxTerms)
	}
	return nil
}

func (p *parser) parseNot() (Expr, error) {
	if t := p.peek(); t.isKeyword("not") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &NotExpr{X: x}, nil
	}
	return p.parsePrimary()
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "like": true, "order": true, "by": true, "asc": true, "desc": true}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errf(c, "expected ')' to close the '(' at column %d, got %s", t.col, c.describe())
		}
		p.depth--
		return e, nil
	case tIdent:
		if len(t.parts) == 1 && keywords[strings.ToLower(t.text)] && !strings.Contains(t.text, "`") {
			return nil, p.errf(t, "expected a field such as metrics.val_bce, got keyword '%s'", t.text)
		}
		f, err := p.field(t)
		if err != nil {
			return nil, err
		}
		if err := p.count(t); err != nil {
			return nil, err
		}
		return p.parseComparison(f)
	default:
		return nil, p.errf(t, "expected a field such as metrics.val_bce or '(', got %s", t.describe())
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
			if err := p.count(p.toks[p.pos-1]); err != nil {
				return nil, err
			}
			if len(in.Values) > 0 && v.IsNumber != in.Values[0].IsNumber && !f.IsTime() {
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
			return &Error{Query: p.q, Column: v.Col, Msg: fmt.Sprintf("%s is a number, got string %q", f.String(), v.Text)}
		}
	case FieldAttribute:
		switch f.Key {
		case "start_time", "end_time":
			if !v.IsNumber {
				if _, err := ParseTime(v.Text); err != nil {
					return &Error{Query: p.q, Column: v.Col, Msg: fmt.Sprintf("%s needs a date like \"2006-01-02 15:04\" or Unix milliseconds, got %q", f.String(), v.Text)}
				}
			}
		}
	}
	return nil
}

// ParseTime reads a date of the query language: RFC 3339, or "2006-01-02T15:04:05",
// "2006-01-02 15:04:05", "2006-01-02 15:04" or "2006-01-02" in local time.
func ParseTime(s string) (time.Time, error) {
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
