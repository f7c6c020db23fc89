package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// The server takes connections with its password only, over 127.0.0.1, and is
// gone, folder and all, after Stop.
func TestServer(t *testing.T) {
	s := New(t)
	url := s.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Errorf("query: %d %v", n, err)
	}
	conn.Close(ctx)
	if _, err := pgx.Connect(ctx, strings.Replace(url, s.Password(), "wrong", 1)); err == nil {
		t.Error("a wrong password connected")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if conn, err = pgx.Connect(ctx, url); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	conn.Close(ctx)
	dir := s.Dir
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
}

func TestSharedServerDatabases(t *testing.T) {
	s := Shared(t)
	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b || Shared(t) != s {
		t.Errorf("databases %s %s", a, b)
	}
}
