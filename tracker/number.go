package tracker

import (
	"regexp"
	"strconv"
	"strings"
)

// numberPattern is what a param, tag or attribute text must look like to compare
// as a number: a decimal number with an optional exponent, blanks around it
// allowed. SQLite's aelab_num (parseNumber) and PostgreSQL's (a SQL function
// in postgresMigrations) share it, so both stores select the same runs.
// Written in the regular-expression syntax that Go and PostgreSQL both read.
const numberPattern = `^[ \t\n\r\f\v]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f\v]*$`

var numberRE = regexp.MustCompile(numberPattern)

// parseNumber is the number text spells, and whether it spells one that a
// float64 holds: out of range (1e400, and 1e-400, which would round to 0) is
// not a number, as PostgreSQL's float parser says.
func parseNumber(text string) (float64, bool) {
	if !numberRE.MatchString(text) {
		return 0, false
	}
	t := strings.Trim(text, " \t\n\r\f\v")
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
