package tracker

import (
	"strconv"
	"strings"
)

// numberPattern is what a param, tag or attribute text must look like to compare
// as a number: a decimal number with an optional exponent, blanks around it
// allowed. PostgreSQL's aelab_num (a SQL function in migrations/postgres/0001.sql) uses
// it and SQLite's (parseNumber) matches it by hand, so both stores select the
// same runs (TestNumberParity, TestNumberScannerMatchesPattern).
const numberPattern = `^[ \t\n\r\f\v]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f\v]*$`

// parseNumber is the number text spells, and whether it spells one that a
// float64 holds: out of range (1e400, and 1e-400, which would round to 0) is
// not a number, as PostgreSQL's float parser says. It matches numberPattern
// by hand: a filter calls it for every run it looks at.
func parseNumber(text string) (float64, bool) {
	t := strings.Trim(text, " \t\n\r\f\v")
	if !isDecimal(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, false
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(t), "e")
	if f == 0 && strings.ContainsAny(mantissa, "123456789") {
		return 0, false
	}
	return f, true
}

// isDecimal reports whether t is [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?.
func isDecimal(t string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	whole := digits()
	frac := 0
	if i < len(t) && t[i] == '.' {
		i++
		frac = digits()
	}
	if whole == 0 && frac == 0 {
		return false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(t)
}

// sqlNumber is SQLite's aelab_num: the number a text spells, or NULL.
func sqlNumber(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		if f, ok := parseNumber(x); ok {
			return f
		}
	case []byte:
		return sqlNumber(string(x))
	}
	return nil
}
