package query

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseFilterValid(t *testing.T) {
	cases := map[string]string{
		``:                       `<nil>`,
		`metrics.val_loss < 0.1`: `metrics.val_loss < 0.1`,
		`metrics.val_loss < 0.1 and params.model = "deep"`: `(metrics.val_loss < 0.1 and params.model = "deep")`,
		`a.b`: ``, // placeholder, replaced below
		`params.model = 'deep' OR params.model = "vanilla" AND NOT tags.x = '1'`: `(params.model = "deep" or (params.model = "vanilla" and not tags.x = "1"))`,
		`(params.model = 'deep' or params.model = 'x') and metrics.m >= -1e-3`:   `((params.model = "deep" or params.model = "x") and metrics.m >= -1e-3)`,
		`params.model in ('deep', "vanilla")`:                                    `params.model in ("deep", "vanilla")`,
		`params.model NOT IN ('deep')`:                                           `params.model not in ("deep")`,
		`tags.note like '%good%'`:                                                `tags.note like "%good%"`,
		`tags.note not like 'x_'`:                                                `tags.note not like "x_"`,
		"metrics.`val/loss` != 2":                                                "metrics.`val/loss` != 2",
		`params.env.go_version = "1.26"`:                                         `params.env.go_version = "1.26"`,
		`status = 'finished' and attribute.name <> 'x'`:                          `(attributes.status = "finished" and attributes.name != "x")`,
		`metric.a=1 and param.b=2 and tag.c='3'`:                                 `(metrics.a = 1 and params.b = 2 and tags.c = "3")`,
		`attributes.start_time > "2024-01-02 10:00"`:                             `attributes.start_time > "2024-01-02 10:00"`,
		`params.x = 'it''s'`:                                                     `params.x = "it's"`,
		`not not metrics.a == 1`:                                                 `not not metrics.a = 1`,
	}
	delete(cases, "a.b")
	for q, want := range cases {
		e, _, err := ParseFilter(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		got := fmt.Sprint(e)
		if e == nil {
			got = "<nil>"
		}
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	cases := []struct{ q, want string }{
		{`metrics.val_mse < `, `query: at column 19: expected a value after '<', got end of input`},
		{`metrics.val_loss <`, `query: at column 19: expected a value after '<', got end of input`},
		{`metrics.val_loss < 'low'`, `query: at column 20: metrics.val_loss is a number, got string "low"`},
		{`params.model = "deep`, `query: at column 16: unterminated string (missing closing ")`},
		{`params.model = "deep" and`, `query: at column 26: expected a field such as metrics.val_bce or '(', got end of input`},
		{`params.model "deep"`, `query: at column 14: expected an operator (=, !=, <, <=, >, >=, in, like) after params.model, got string "deep"`},
		{`(metrics.a < 1`, `query: at column 15: expected ')' to close the '(' at column 1, got end of input`},
		{`foo.bar = 1`, `query: at column 1: unknown field prefix 'foo' (use metrics., params., tags. or attributes.)`},
		{`attributes.colour = 1`, `query: at column 1: unknown attribute 'colour'`},
		{`metrics = 1`, `query: at column 1: expected metrics.KEY, got 'metrics' without a key`},
		{`params.a = 1 params.b = 2`, `query: at column 14: expected 'and', 'or' or end of input, got 'params.b'`},
		{`params.a in (1, 'x')`, `query: at column 17: mix of numbers and strings`},
		{`params.a in ()`, `query: at column 14: expected a value after '(', got ')'`},
		{`params.a not = 1`, `query: at column 14: expected 'in' or 'like' after 'not'`},
		{`params.a like 3`, `query: at column 10: 'like' needs a quoted pattern`},
		{`metrics.a like '3'`, `query: at column 11: 'like' does not apply to metrics`},
		{`params.a = 1.2.3`, `query: at column 12: bad number "1.2.3"`},
		{`params.a ! 1`, `query: at column 10: unexpected '!'`},
		{`params.a = 1 ; drop`, `query: at column 14: unexpected character ';'`},
		{`attributes.start_time > 'yesterday'`, `query: at column 25: attributes.start_time needs a date`},
		{`params.é = 1 and params.ü ~ 2`, `query: at column 27: unexpected character '~'`},
		{"metrics.`x = 1", "query: at column 9: unterminated `quoted` name"},
		{`and`, `query: at column 1: expected a field such as metrics.val_bce, got keyword 'and'`},
	}
	for _, c := range cases {
		_, _, err := ParseFilter(c.q)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: err = %v, want a *Error", c.q, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s…", c.q, err, c.want)
		}
	}
}

func TestParseOrderBy(t *testing.T) {
	terms, err := ParseOrderBy("metrics.val_mse asc, attributes.start_time DESC, params.model")
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != 3 || terms[0].Field.Key != "val_mse" || terms[0].Desc || !terms[1].Desc || terms[2].Field.Kind != FieldParam {
		t.Errorf("%+v", terms)
	}
	if terms, err := ParseOrderBy("order by metrics.x desc"); err != nil || len(terms) != 1 || !terms[0].Desc {
		t.Errorf("%+v %v", terms, err)
	}
	if _, err := ParseOrderBy("metrics.x sideways"); err == nil || !strings.Contains(err.Error(), "column 11") {
		t.Errorf("err = %v", err)
	}
	if _, err := ParseOrderBy("metrics.x,"); err == nil || !strings.Contains(err.Error(), "column 11: expected a field to order by, got end of input") {
		t.Errorf("err = %v", err)
	}
}
