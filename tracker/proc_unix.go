//go:build unix

package tracker

import (
	"errors"
	"syscall"
)

// processAlive reports whether process pid exists on this host.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || !errors.Is(err, syscall.ESRCH)
}
