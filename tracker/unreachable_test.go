package tracker

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// IsUnreachable tells a store that cannot be reached for now (worth trying again) from an
// answer that will not change by waiting: a wrong password, another program's database.
func TestIsUnreachable(t *testing.T) {
	// A loopback port nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if _, err := Open("postgres://aelab:secret-pw@" + closed + "/x?connect_timeout=5"); err == nil || !IsUnreachable(err) {
		t.Errorf("server not listening: IsUnreachable(%v) = false", err)
	}

	loc := postgresBackend.newLocation(t)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "not-the-password")
	if _, err := Open(u.String()); err == nil || IsUnreachable(err) {
		t.Errorf("wrong password: IsUnreachable(%v) = true", err)
	}

	foreign := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(foreign, []byte("not a database, but long enough to be read as one................................................................"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenExisting(foreign); !errors.Is(err, ErrNotStore) || IsUnreachable(err) {
		t.Errorf("not a store: %v, IsUnreachable %v", err, IsUnreachable(err))
	}
	if _, err := OpenExisting(filepath.Join(t.TempDir(), "none.db")); !errors.Is(err, ErrNoStore) || IsUnreachable(err) {
		t.Errorf("no store: %v, IsUnreachable %v", err, IsUnreachable(err))
	}
}
