//go:build unix

package process

import (
	"errors"
	"syscall"
)

// Runs reports whether a process with this id exists. Signal 0
// checks without sending anything; EPERM means it exists under another
// user.
func Runs(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
