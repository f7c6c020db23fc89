package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a malformed filter, order-by or field name: Column is the 1-based
// column (in characters) of the offending token.
type Error struct {
	Query  string
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("query: at column %d: %s", e.Column, e.Msg)
}

// Limits of a query, so that a hostile or generated query fails with a clear
// error instead of exhausting the stack, the memory or the database's own limits.
const (
	// MaxLength is the longest filter or order-by, in characters.
	MaxLength = 256 << 10
	// MaxDepth is how deeply parentheses and 'not' may nest.
	MaxDepth = 100
	// MaxTerms is how many comparisons and listed values a filter may hold
	// (each becomes bound SQL parameters).
	MaxTerms = 10_000
	// MaxOrderTerms is how many keys an order-by may list.
	MaxOrderTerms = 32
)

// checkLength refuses a query longer than MaxLength characters, before
// anything is allocated for it.
func checkLength(q string) *Error {
	if len(q) <= MaxLength { // bytes ≥ characters
		return nil
	}
	n := utf8.RuneCountInString(q)
	if n <= MaxLength {
		return nil
	}
	return &Error{Query: q, Column: MaxLength + 1,
		Msg: fmt.Sprintf("query is too long: %d characters, at most %d", n, MaxLength)}
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
	open := 0 // parentheses open at i
	errAt := func(pos int, format string, args ...any) error {
		return &Error{Query: q, Column: pos + 1, Msg: fmt.Sprintf(format, args...)}
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
			// Bounded here already, so that a wall of '(' costs no tokens.
			if open++; open > MaxDepth {
				return toks, errAt(start, "parentheses and 'not' nest deeper than %d levels", MaxDepth)
			}
			toks = append(toks, token{kind: tLParen, text: "(", col: start + 1})
			i++
		case c == ')':
			open--
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
			_, err := strconv.ParseFloat(text, 64)
			if err != nil || (j < len(rs) && isIdentRune(rs[j])) {
				if errors.Is(err, strconv.ErrRange) && !(j < len(rs) && isIdentRune(rs[j])) {
					return toks, errAt(start, "number %s is out of range (a float64 holds up to ±1.8e308)", text)
				}
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
