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

// IsUnreachable reports whether err, from opening or using a store, says that the
// store could not be reached for now (a connection refused, lost or timed out, a
// server starting or shutting down, a SQLite file locked too long), so that trying
// again later may work. An answer from the server (a wrong password, no such
// database) or from the store (not an aelab store, a newer schema) is not.
func IsUnreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return unreachableCode(pe.Code)
	}
	return isTransient(err)
}

// unreachableCode says whether a PostgreSQL error code means that the server
// could not serve the connection: class 08 (connection exception), 57P01–03
// (admin or crash shutdown, cannot connect now), 53300 (too many connections).
func unreachableCode(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P") || code == "53300"
}

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
		// Besides the unreachable server, 40001 and 40P01 say: retry the transaction.
		return unreachableCode(pe.Code) || pe.Code == "40001" || pe.Code == "40P01"
	}
	// pgx reports a connection it closed after a failure by these words.
	return strings.Contains(err.Error(), "conn closed")
}
