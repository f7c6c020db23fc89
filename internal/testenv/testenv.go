package testenv

import (
	"os"
	"testing"
)

// OnCI reports whether the tests run under CI (CI=true): there every part a test needs must be
// present, and its absence is a failure.
func OnCI() bool { return os.Getenv("CI") == "true" }

// Missing ends tb because something it needs is not here: it fails on CI and skips elsewhere,
// with why (what is missing and how to install it) in both cases.
func Missing(tb testing.TB, why string) {
	tb.Helper()
	if OnCI() {
		tb.Fatalf("CI=true and this test cannot run: %s", why)
	}
	tb.Skipf("skipped: %s", why)
}

// Need calls Missing with why when err is not nil, and does nothing otherwise.
func Need(tb testing.TB, err error, why string) {
	tb.Helper()
	if err != nil {
		Missing(tb, why+": "+err.Error())
	}
}

// Slow skips tb under go test -short (make test-short), saying what kind of test it is. make test
// runs it.
func Slow(tb testing.TB, what string) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("%s: skipped by -short (make test runs it)", what)
	}
}
