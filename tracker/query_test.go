package tracker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/tracker/query"
)

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
		var qe *query.Error
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
	e, order, err := query.ParseFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	b := sqlBuilder{d: sqliteDialect}
	b.expr(e)
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
			Columns: []query.Field{{Kind: query.FieldParam, Key: "model"}, {Kind: query.FieldMetric, Key: "val_mse"}}})
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
		runs, err = s.SearchRuns(Search{Filter: `name = "a"`, Columns: []query.Field{{Kind: query.FieldParam}, {Kind: query.FieldTag}}})
		if err != nil || len(runs) != 1 || len(runs[0].Params) != 3 || len(runs[0].Tags) != 1 || len(runs[0].Metrics) != 0 {
			t.Errorf("all params and tags, no metrics: %+v, %v", runs, err)
		}
	})
}
