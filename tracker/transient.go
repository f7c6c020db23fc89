package tracker

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// isTransient reports whether err is a passing trouble with the store, worth
// retrying: a connection lost, refused or timed out, a server shutting down or
// restarting, a SQLite file locked longer than the busy timeout.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	if isBusy(err) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01–03: admin/crash shutdown, cannot
		// connect now; 53300: too many connections; 40001, 40P01: retry the transaction.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") ||
			pe.Code == "53300" || pe.Code == "40001" || pe.Code == "40P01"
	}
	// pgx reports a connection it closed after a failure by these words.
	return strings.Contains(err.Error(), "conn closed")
}
