package tracker

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker/query"
)

// wantQueryError checks that err is a *query.Error at column col whose message starts with msg.
func wantQueryError(t *testing.T, what string, err error, col int, msg string) {
	t.Helper()
	var qe *query.Error
	if !errors.As(err, &qe) {
		t.Errorf("%s: err = %v, want a *query.Error", what, err)
		return
	}
	if qe.Column != col || !strings.HasPrefix(qe.Msg, msg) {
		t.Errorf("%s: %v\nwant column %d: %s…", what, err, col, msg)
	}
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Issue #10 item 5: deep nesting is a positioned error with bounded memory,
// never a stack overflow.
func TestQueryNestingBounded(t *testing.T) {
	var err error
	mb := strings.Repeat("(", 1<<20)
	if n := allocated(func() { _, _, err = query.ParseFilter(mb) }); n > 1<<20 {
		t.Errorf("1 MB of '(' allocated %d bytes", n)
	}
	wantQueryError(t, "1 MB of (", err, query.MaxLength+1, fmt.Sprintf("query is too long: %d characters, at most %d", 1<<20, query.MaxLength))
	_, err = query.ParseOrderBy(mb)
	wantQueryError(t, "order by 1 MB of (", err, query.MaxLength+1, "query is too long")

	deep := strings.Repeat("(", 200_000) + "metrics.a < 1" + strings.Repeat(")", 200_000)
	if n := allocated(func() { _, _, err = query.ParseFilter(deep[:query.MaxLength]) }); n > 64<<20 {
		t.Errorf("%d characters of '(' allocated %d bytes", query.MaxLength, n)
	}
	wantQueryError(t, "deep (", err, query.MaxDepth+1, fmt.Sprintf("parentheses and 'not' nest deeper than %d levels", query.MaxDepth))
	nots := strings.Repeat("not ", 50_000) + "metrics.a < 1"
	_, _, err = query.ParseFilter(nots)
	wantQueryError(t, "deep not", err, 4*query.MaxDepth+1, "parentheses and 'not' nest deeper")

	// As deep as allowed parses, and runs on the database.
	s, _ := searchStore(t, sqliteBackend)
	ok := strings.Repeat("(not ", query.MaxDepth/2) + "params.model = 'deep'" + strings.Repeat(")", query.MaxDepth/2)
	if runs, err := s.SearchRuns(Search{Filter: ok}); err != nil || names(runs) != "c,a" {
		t.Errorf("%d levels: %q, %v", query.MaxDepth, names(runs), err)
	}
}

// chain joins n comparisons, the first from first, the others from other, with op.
func chain(n int, op, first string, other func(i int) string) string {
	parts := []string{first}
	for i := 1; i < n; i++ {
		parts = append(parts, other(i))
	}
	return strings.Join(parts, " "+op+" ")
}

// Issue #10 item 5: long flat or/and chains work (SQLite failed from 1,000 terms).
func TestLongChains(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s, _ := searchStore(t, b)
		for _, n := range []int{1_000, 5_000} {
			or := chain(n, "or", `params.model = "deep"`, func(i int) string { return fmt.Sprintf(`params.model = "m%d"`, i) })
			and := chain(n, "and", `metrics.val_mse < 0.03`, func(i int) string { return fmt.Sprintf(`metrics.val_mse < %d`, i) })
			ids := chain(n, "or", `attributes.name = "b"`, func(i int) string { return fmt.Sprintf(`attributes.id = "%d"`, i) })
			for q, want := range map[string]string{or: "c,a", and: "d,a", ids: "b"} {
				runs, err := s.SearchRuns(Search{Filter: q})
				if err != nil || names(runs) != want {
					t.Errorf("%d terms (%.40s…): %q, %v; want %q", n, q, names(runs), err, want)
				}
			}
		}
	})
}

// Chains of tests of different keys (one subquery each) work up to our own limit.
func TestManyKeyLookups(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s, _ := searchStore(t, b)
		mixed := func(n int) string {
			return chain(n, "or", `(metrics.val_mse < 0.03 and params.model = "deep")`, func(i int) string {
				return fmt.Sprintf(`(tags.x%d = "%d" and not tags.y >= %d)`, i, i, i)
			})
		}
		q := mixed(MaxQueryLookups / 2)
		if runs, err := s.SearchRuns(Search{Filter: q}); err != nil || names(runs) != "a" {
			t.Errorf("%d lookups: %q, %v", MaxQueryLookups, names(runs), err)
		}
		q = mixed(5_000)
		_, err := s.SearchRuns(Search{Filter: q})
		// Every term makes two lookups: the 1,001st is the first of term 500.
		col := strings.Index(q, `tags.x500 =`) + 1
		wantQueryError(t, "5,000 lookups", err, col, fmt.Sprintf("too many lookups of metrics, params and tags: at most %d", MaxQueryLookups))
	})
}

// Issue #10 item 5: more terms than the database can bind is our own positioned error.
func TestQueryTermLimits(t *testing.T) {
	q := chain(query.MaxTerms+1, "or", "metrics.a = 0", func(i int) string { return fmt.Sprintf("metrics.a = %d", i) })
	col := strings.LastIndex(q, "metrics.a") + 1
	_, _, err := query.ParseFilter(q)
	wantQueryError(t, "terms", err, col, fmt.Sprintf("too many comparisons and values: at most %d", query.MaxTerms))

	values := make([]string, query.MaxTerms)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	q = "params.x in (" + strings.Join(values, ",") + ")"
	_, _, err = query.ParseFilter(q)
	wantQueryError(t, "in list", err, strings.LastIndex(q, ",")+2, "too many comparisons and values")

	keys := make([]string, 5_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("params.k%d desc", i)
	}
	order := strings.Join(keys, ", ")
	_, err = query.ParseOrderBy(order)
	wantQueryError(t, "order by", err, strings.Index(order, fmt.Sprintf("params.k%d ", query.MaxOrderTerms))+1,
		fmt.Sprintf("too many keys to order by: at most %d", query.MaxOrderTerms))
	_, _, err = query.ParseFilter("metrics.a < 1 order by " + order)
	wantQueryError(t, "filter's order by", err, len("metrics.a < 1 order by ")+strings.Index(order, fmt.Sprintf("params.k%d ", query.MaxOrderTerms))+1, "too many keys")

	s, _ := searchStore(t, sqliteBackend)
	if runs, err := s.SearchRuns(Search{OrderBy: strings.Join(keys[:query.MaxOrderTerms-1], ", ") + ", params.epochs asc"}); err != nil || names(runs) != "b,a,c,d" {
		t.Errorf("%d order keys: %q, %v", query.MaxOrderTerms, names(runs), err)
	}
}

// Issue #10 item 5: numbers out of range keep their meaning (start_time > 1e300
// and > 1e19 returned every run: int64 overflow).
func TestQueryNumbersOutOfRange(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s, _ := searchStore(t, b)
		for q, want := range map[string]string{
			`attributes.start_time > 1e300`:                            "",
			`attributes.start_time > 1e19`:                             "",
			`attributes.start_time >= 9.3e18`:                          "",
			`attributes.start_time < 1e300`:                            "d,c,b,a",
			`attributes.start_time < -1e19`:                            "",
			`attributes.start_time > -1e300`:                           "d,c,b,a",
			`attributes.start_time = 0.5`:                              "",
			`attributes.start_time in (1e300, -1e300)`:                 "",
			`attributes.end_time > 1e19 or attributes.end_time < 1e19`: "d,c,b,a",
			`metrics.val_mse < 1e300`:                                  "d,b,a",
			`metrics.val_mse > -1e308`:                                 "d,b,a",
			`params.epochs < 1e300`:                                    "b,a",
			`params.epochs > 1e-300`:                                   "b,a",
		} {
			runs, err := s.SearchRuns(Search{Filter: q})
			if err != nil || names(runs) != want {
				t.Errorf("%s: %q, %v; want %q", q, names(runs), err, want)
			}
		}
		_, _, err := query.ParseFilter("attributes.start_time > 1e400")
		wantQueryError(t, "1e400", err, 25, "number 1e400 is out of range")
	})
}
