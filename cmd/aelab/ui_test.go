package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUIRefusesBadStarts: beyond loopback without a token, a weak token, two token sources,
// an empty token file, a missing store and another program's database are usage errors
// (exit 2, one line); no store is created and the other database is left byte for byte.
func TestUIRefusesBadStarts(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-token")
	os.WriteFile(empty, []byte("\n"), 0o600)
	_, db := newTestStore(t)
	t.Setenv(uiTokenEnv, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ui", "--db", db, "--addr", "0.0.0.0:0"}, "needs a token"},
		{[]string{"ui", "--db", db, "--addr", ":0"}, "needs a token"},
		{[]string{"ui", "--db", db, "--addr", "127.0.0.1:0", "--token", "short"}, "at least 16"},
		{[]string{"ui", "--db", db, "--token", "0123456789abcdef", "--token-file", empty}, "not both"},
		{[]string{"ui", "--db", db, "--token-file", empty}, "empty"},
		{[]string{"ui", "--db", db, "--token-file", filepath.Join(dir, "nope")}, "--token-file"},
		{[]string{"ui", "--db", db, "--addr", "127.0.0.1:99999"}, "--addr"},
	} {
		code, _, stderr := runAelab(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("aelab %v: exit %d, stderr %q; want 2 and one line with %q", c.args[1:], code, stderr, c.want)
		}
		if strings.Contains(stderr, "0123456789abcdef") {
			t.Errorf("aelab %v: the token is in the message", c.args[1:])
		}
	}
	missing := filepath.Join(dir, "no-store", "aelab.db")
	shop := filepath.Join(dir, "shop.db")
	sdb, err := sql.Open("sqlite3", shop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	shopBytes, _ := os.ReadFile(shop)
	for _, readOnly := range []string{"--read-only=false", "--read-only"} {
		for db, want := range map[string]string{missing: "no experiment store", shop: "is not an aelab store: it has tables customers"} {
			code, _, stderr := runAelab(t, "ui", "--db", db, "--addr", "127.0.0.1:0", readOnly)
			if code != 2 || !strings.Contains(stderr, want) {
				t.Errorf("ui %s --db %s: exit %d, %q; want 2 and %q", readOnly, filepath.Base(db), code, stderr, want)
			}
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("aelab ui created a store folder")
	}
	if b, _ := os.ReadFile(shop); !bytes.Equal(b, shopBytes) {
		t.Error("aelab ui changed another program's database")
	}
}
