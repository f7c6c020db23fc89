package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/aelab/aelab/internal/pgtest"
)

// aelab_num is one function on both databases: SQLite's (Go) and PostgreSQL's
// (plpgsql) read the same texts as the same numbers.
func TestNumberParity(t *testing.T) {
	s := postgresBackend.store(t)
	texts := []string{"0", "10", "-3.5", "+2", ".5", "5.", " 7 ", "\t8\n", "1e3", "1E-3", "-0", "00012",
		"1e308", "1.7976931348623157e308", "1e309", "1e400", "-1e400", "1e-300", "4e-320", "1e-400", "0e-400",
		"inf", "Infinity", "-inf", "NaN", "nan", "0x10", "1_000", "1,5", "", " ", "e5", "1e", ".", "+", "--1",
		"10 ten", "ten", "١٢", "1e+5", strings.Repeat("9", 320), strings.Repeat("9", 299), "0." + strings.Repeat("0", 400) + "1"}
	for _, text := range texts {
		var pg sql.NullFloat64
		if err := s.reader().queryRow(`SELECT aelab_num(?)`, text).Scan(&pg); err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		goValue, ok := parseNumber(text)
		if ok != pg.Valid || (ok && goValue != pg.Float64 && !(math.IsNaN(goValue) && math.IsNaN(pg.Float64))) {
			t.Errorf("aelab_num(%q): SQLite %v %v, PostgreSQL %v %v", text, goValue, ok, pg.Float64, pg.Valid)
		}
	}
}

// Issue #10 item 3 on PostgreSQL: a database of another program's is refused
// by every open and left as it was; a store with River's tables beside is fine.
func TestForeignPostgresDatabaseRefused(t *testing.T) {
	url := postgresBackend.newLocation(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE customers (id INT PRIMARY KEY); CREATE TABLE orders (id INT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	tables := func() string {
		rows, _ := conn.Query(ctx, `SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'`)
		defer rows.Close()
		var list sql.NullString
		for rows.Next() {
			rows.Scan(&list)
		}
		return list.String
	}
	want := RedactURL(url) + " is not an aelab store: it has tables customers, orders"
	for _, o := range openers {
		s, err := o.open(url)
		if err == nil {
			s.Close()
			t.Fatalf("%s opened another program's database", o.name)
		}
		if !errors.Is(err, ErrNotStore) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: %v\nwant …%s", o.name, err, want)
		}
	}
	if got := tables(); got != "customers,orders" {
		t.Errorf("tables now %s", got)
	}

	// River's tables alone (its queue set up first) or beside a store are fine.
	river := postgresBackend.newLocation(t)
	rc, err := pgx.Connect(ctx, river)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(ctx)
	if _, err := rc.Exec(ctx, `CREATE TABLE river_job (id BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(river)
	if err != nil {
		t.Fatalf("a database holding River's tables: %v", err)
	}
	s.Close()
}

// A PostgreSQL URL is a server, never a file path (it made a folder postgres:/
// in the working directory, password in its name); no error shows the password.
func TestPostgresURLIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	const password = "pa55-w0rd-leak"
	for _, url := range []string{
		"postgres://aelab:" + password + "@127.0.0.1:1/aelab?sslmode=disable",
		"postgresql://aelab:" + password + "@127.0.0.1:1/aelab?connect_timeout=2",
		"POSTGRES://aelab@127.0.0.1:1/aelab?password=" + password,
	} {
		for _, o := range openers {
			_, err := o.open(url)
			if err == nil || strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("%s(%s): %v", o.name, RedactURL(url), err)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("opening URLs left %v in the working directory", entries[0].Name())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=require":       "postgres://u@h:5432/db?sslmode=require",
		"postgresql://u@h/db?password=secret&sslmode=disable": "postgresql://u@h/db?sslmode=disable",
		"postgres://h/db":                                               "postgres://h/db",
		"/home/u/.local/share/aelab/aelab.db":                           "/home/u/.local/share/aelab/aelab.db",
		"aelab train --db postgres://u:s3cr%40t@h/db --epochs 2":        "aelab train --db postgres://u:***@h/db --epochs 2",
		"AELAB_DB=postgresql://u:x@h/db?password=y aelab runs list":     "AELAB_DB=postgresql://u:***@h/db?password=*** aelab runs list",
		"dial postgres://u@h:1/db?sslmode=disable&password=pw: refused": "dial postgres://u@h:1/db?sslmode=disable&password=*** refused", // a colon may be part of it
	} {
		got := RedactURL(in)
		if !IsPostgresURL(in) {
			got = Redact(in)
		}
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
}

// A read-only open of a PostgreSQL store runs in read-only transactions: not a
// byte can be written through it.
func TestPostgresReadOnlySession(t *testing.T) {
	url := postgresBackend.newLocation(t)
	w := openAt(t, url, CurrentSchemaVersion)
	mustStart(t, w, RunSpec{Name: "kept"}).Finish(StatusFinished, "")
	ro, err := OpenReadOnly(url)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if runs, err := ro.SearchRuns(Search{}); err != nil || len(runs) != 1 {
		t.Fatalf("runs %d, %v", len(runs), err)
	}
	if err := ro.WriteTx(context.Background(), func(*sql.Tx) error { return nil }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("WriteTx on a read-only store: %v", err)
	}
	db, err := ro.OpenDB()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`UPDATE runs SET name = 'changed'`)
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("a write through the read-only store's pool: %v", err)
	}
	if empty, err := OpenReadOnly(pgtest.Shared(t).NewDatabase(t)); !errors.Is(err, ErrNoStore) {
		if empty != nil {
			empty.Close()
		}
		t.Errorf("reading an empty database: %v", err)
	}
}

// WriteTx commits the tracker's rows and a caller's own in one transaction, or
// neither; OpenDB reaches the same database.
func TestWriteTx(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		ctx := context.Background()
		if _, err := s.exec(`CREATE TABLE jobs (run_id TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		r := mustStart(t, s, RunSpec{Name: "trial"})
		err := s.WriteTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(s.Rebind(`INSERT INTO jobs(run_id) VALUES (?)`), r.ID()); err != nil {
				return err
			}
			_, err := tx.Exec(s.Rebind(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)`), r.ID(), "sweep", "s1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = s.WriteTx(ctx, func(tx *sql.Tx) error {
			tx.Exec(s.Rebind(`INSERT INTO jobs(run_id) VALUES (?)`), "rolled-back")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("WriteTx returned %v", err)
		}
		db, err := s.OpenDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 1 {
			t.Errorf("jobs %d, %v", n, err)
		}
		if got, _ := s.GetRun(r.ID()); got.Tags["sweep"] != "s1" {
			t.Errorf("tags %v", got.Tags)
		}
		if s.Dialect() != Dialect(b.name) {
			t.Errorf("dialect %s on %s", s.Dialect(), b.name)
		}
	})
}

func TestRebind(t *testing.T) {
	got := postgresDialect.rebind(`SELECT '?', "a?b" FROM t WHERE a = ? AND b IN (?, ?) AND c = 'it''s ?'`)
	want := `SELECT '?', "a?b" FROM t WHERE a = $1 AND b IN ($2, $3) AND c = 'it''s ?'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if q := `a = ?`; sqliteDialect.rebind(q) != q {
		t.Error("SQLite rebound")
	}
}

// parseNumber's hand-written scanner accepts exactly what numberPattern does.
func TestNumberScannerMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(numberPattern)
	alphabet := []string{"0", "7", ".", "e", "E", "+", "-", " ", "\t", "x", "_"}
	var texts []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		texts = append(texts, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, n-1)
		}
	}
	grow("", 5)
	for _, text := range texts {
		if ok, want := isDecimal(strings.Trim(text, " \t\n\r\f\v")), re.MatchString(text); ok != want {
			t.Errorf("%q: scanner %v, pattern %v", text, ok, want)
		}
	}
	t.Logf("%d texts", len(texts))
}

// libpq's environment works as psql users expect: PGHOST, PGPORT, PGUSER and PGPASSWORD fill
// what the URL leaves out, and sslmode=require is honoured (this server has no TLS).
func TestPostgresEnvironment(t *testing.T) {
	srv := pgtest.Shared(t)
	full := srv.NewDatabase(t)
	u, _ := url.Parse(full)
	t.Setenv("PGHOST", "127.0.0.1")
	t.Setenv("PGPORT", u.Port())
	t.Setenv("PGUSER", u.User.Username())
	t.Setenv("PGPASSWORD", srv.Password())
	s, err := Open("postgres://" + u.Path + "?sslmode=disable")
	if err != nil {
		t.Fatalf("URL completed from PG* variables: %v", err)
	}
	if strings.Contains(s.Path(), srv.Password()) {
		t.Errorf("path %s", s.Path())
	}
	s.Close()
	_, err = Open("postgres://" + u.Path + "?sslmode=require")
	if err == nil || !strings.Contains(err.Error(), "server refused TLS connection") || strings.Contains(err.Error(), srv.Password()) {
		t.Errorf("sslmode=require against a server without TLS: %v", err)
	}
}

// A PostgreSQL store written by a newer aelab is refused by every open with the same message
// as on SQLite, and left as it was.
func TestNewerPostgresStoreRefused(t *testing.T) {
	loc := postgresBackend.newLocation(t)
	s := openAt(t, loc, CurrentSchemaVersion)
	if _, err := s.exec(`INSERT INTO schema_version(version, applied) VALUES (?, 0)`, CurrentSchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := fmt.Sprintf("tracker: store %s has schema version %d, this aelab knows up to %d; upgrade aelab", RedactURL(loc), CurrentSchemaVersion+1, CurrentSchemaVersion)
	for _, o := range openers {
		if _, err := o.open(loc); !errors.Is(err, ErrNewerSchema) || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", o.name, err, want)
		}
	}
	raw, err := pgx.Connect(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(context.Background())
	var versions int
	if err := raw.QueryRow(context.Background(), `SELECT count(*) FROM schema_version`).Scan(&versions); err != nil || versions != CurrentSchemaVersion+1 {
		t.Errorf("schema_version rows %d, %v", versions, err)
	}
}
