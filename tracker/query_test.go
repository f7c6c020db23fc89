package tracker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
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
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%s: err = %v, want a *QueryError", c.q, err)
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

// searchStore holds four finished runs:
//
//	a: model=deep     epochs=10  val_mse=0.02 lr="0.01"
//	b: model=vanilla  epochs=5   val_mse=0.05
//	c: model=deep     epochs=ten (no val_mse)
//	d: model=x"; drop table runs; --   val_mse=0.01
func searchStore(t testing.TB, b backend) (*Store, map[string]string) {
	s := b.store(t)
	ids := map[string]string{}
	mk := func(name string, params map[string]string, metrics map[string]float64, exp string) {
		r := mustStart(t, s, RunSpec{Experiment: exp, Name: name, Params: params, Tags: map[string]string{"note": name + " note"}})
		if len(metrics) > 0 {
			if err := r.LogMetrics(metrics, 1, 1); err != nil {
				t.Fatal(err)
			}
		}
		r.Finish(StatusFinished, "")
		ids[name] = r.ID()
		time.Sleep(2 * time.Millisecond) // distinct start times (ms)
	}
	mk("a", map[string]string{"model": "deep", "epochs": "10", "lr": "0.01"}, map[string]float64{"val_mse": 0.02}, "e1")
	mk("b", map[string]string{"model": "vanilla", "epochs": "5"}, map[string]float64{"val_mse": 0.05}, "e1")
	mk("c", map[string]string{"model": "deep", "epochs": "ten"}, nil, "e2")
	mk("d", map[string]string{"model": `x"; drop table runs; --`}, map[string]float64{"val_mse": 0.01}, "e2")
	return s, ids
}

func names(runs []*RunRecord) string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

func TestSearchRuns(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s, ids := searchStore(t, b)
		cases := []struct {
			q    Search
			want string
		}{
			{Search{}, "d,c,b,a"},
			{Search{Limit: 2}, "d,c"},
			{Search{Filter: `metrics.val_mse < 0.03`}, "d,a"},
			{Search{Filter: `metrics.val_mse < 0.03 and params.model = "deep"`}, "a"},
			{Search{Filter: `params.model = 'deep' or metrics.val_mse > 0.04`}, "c,b,a"},
			{Search{Filter: `not params.model = 'deep'`}, "d,b"},
			{Search{Filter: `params.epochs >= 6`}, "a"},   // numeric: "10" >= 6, "ten" is not a number
			{Search{Filter: `params.epochs >= '6'`}, "c"}, // strings: only "ten" >= "6"
			{Search{Filter: `params.epochs = 10.0`}, "a"}, // numeric equality
			{Search{Filter: `params.model in ('vanilla', 'deep')`}, "c,b,a"},
			{Search{Filter: `params.model not in ('vanilla', 'deep')`}, "d"},
			{Search{Filter: `params.lr != '0.01'`}, ""}, // only runs having lr
			{Search{Filter: `not params.lr = '0.01'`}, "d,c,b"},
			{Search{Filter: `tags.note like 'b%'`}, "b"},
			{Search{Filter: `tags.note not like '% note'`}, ""},
			{Search{Filter: `attributes.experiment = 'e2'`}, "d,c"},
			{Search{Experiment: "e1"}, "b,a"},
			{Search{Filter: `status = 'finished'`}, "d,c,b,a"},
			{Search{Filter: `status = 'RUNNING'`}, ""},
			{Search{Filter: `name in ('a', 'c')`}, "c,a"},
			{Search{Filter: `attributes.id like '` + ids["b"][:8] + `%'`}, "b"},
			{Search{Filter: `attributes.start_time > 0`}, "d,c,b,a"},
			{Search{Filter: `attributes.start_time > "2000-01-01"`}, "d,c,b,a"},
			{Search{Filter: `attributes.start_time < "2000-01-01"`}, ""},
			// Injection attempts are plain data.
			{Search{Filter: `params.model = 'x"; drop table runs; --'`}, "d"},
			{Search{Filter: `params.model = "x\"; drop table runs; --"`}, "d"},
			{Search{Filter: "params.`model' OR 1=1 --` = 'deep'"}, ""},
			{Search{Filter: `tags.note = "'; DELETE FROM runs; --"`}, ""},
			// Ordering: runs missing the metric come last in both directions.
			{Search{OrderBy: "metrics.val_mse asc"}, "d,a,b,c"},
			{Search{OrderBy: "metrics.val_mse desc"}, "b,a,d,c"},
			{Search{OrderBy: "attributes.start_time asc"}, "a,b,c,d"},
			{Search{OrderBy: "params.epochs desc"}, "a,b,c,d"}, // numbers (numerically) before strings, missing last
			{Search{OrderBy: "params.epochs asc"}, "b,a,c,d"},
			{Search{OrderBy: "attributes.name desc", Limit: 1}, "d"},
			{Search{Filter: `params.model = 'deep' order by attributes.name asc`}, "a,c"},
		}
		for _, c := range cases {
			runs, err := s.SearchRuns(c.q)
			if err != nil {
				t.Errorf("%+v: %v", c.q, err)
				continue
			}
			if got := names(runs); got != c.want {
				t.Errorf("%+v: got %q, want %q", c.q, got, c.want)
			}
		}
		// Malformed injection is a syntax error, and the table is still there.
		_, err := s.SearchRuns(Search{Filter: `params.model = x"; drop table runs; --`})
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Column != 16 {
			t.Errorf("malformed injection: %v", err)
		}
		if _, err := s.SearchRuns(Search{OrderBy: "metrics.x; drop table runs"}); !errors.As(err, &qe) {
			t.Errorf("order-by injection: %v", err)
		}
		if runs, err := s.SearchRuns(Search{}); err != nil || len(runs) != 4 {
			t.Fatalf("runs table damaged: %d %v", len(runs), err)
		}
		if _, err := s.SearchRuns(Search{Filter: `params.a = 1 order by name`, OrderBy: "name"}); err == nil {
			t.Error("order given twice accepted")
		}
	})
}

func TestSQLHasNoUserText(t *testing.T) {
	q := "params.`evil key` = 'evil value' and metrics.`k2` < 3 and tags.t like 'p%' and params.m in ('v1') order by tags.`evil order`"
	e, order, err := ParseFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	b := sqlBuilder{d: sqliteDialect}
	e.sql(&b)
	orderSQL(&b, order)
	for _, bad := range []string{"evil", "k2", "p%", "v1"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("SQL contains user text %q: %s", bad, b.String())
		}
	}
	if len(b.args) != 12 {
		t.Errorf("%d args: %v", len(b.args), b.args)
	}
}

// Search.Columns loads only the keys asked for; the filter and order still see every key.
func TestSearchColumns(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s, _ := searchStore(t, b)
		runs, err := s.SearchRuns(Search{Filter: `tags.note like '%note' and metrics.val_mse < 0.03`, OrderBy: "params.lr desc",
			Columns: []Field{{Kind: FieldParam, Key: "model"}, {Kind: FieldMetric, Key: "val_mse"}}})
		if err != nil || names(runs) != "a,d" {
			t.Fatalf("%q, %v", names(runs), err)
		}
		a := runs[0]
		if len(a.Params) != 1 || a.Params["model"] != "deep" || len(a.Tags) != 0 || len(a.Metrics) != 1 || a.Metrics["val_mse"] != 0.02 {
			t.Errorf("record of a: params %v tags %v metrics %v", a.Params, a.Tags, a.Metrics)
		}
		full, _ := s.GetRun(a.ID)
		if len(full.Params) != 3 || len(full.Tags) != 1 {
			t.Errorf("full record: %v %v", full.Params, full.Tags)
		}
		// A field without a key stands for all of its kind.
		runs, err = s.SearchRuns(Search{Filter: `name = "a"`, Columns: []Field{{Kind: FieldParam}, {Kind: FieldTag}}})
		if err != nil || len(runs) != 1 || len(runs[0].Params) != 3 || len(runs[0].Tags) != 1 || len(runs[0].Metrics) != 0 {
			t.Errorf("all params and tags, no metrics: %+v, %v", runs, err)
		}
	})
}
