package journal

import (
	"github.com/feebridge/feebridge/reconcile/internal/process"

	"os"
	"strconv"
	"strings"
)

// ownerIsGone reports whether the lock owner holder, written by newOwner
// as "host/pid/random", was a process on this host that no longer runs.
// A lock of a live process, of this process, of another host, or of an
// owner that cannot be read is never taken over before it expires: when in
// doubt, wait.
func ownerIsGone(holder string) bool {
	parts := strings.Split(holder, "/")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if err != nil || parts[0] != host || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return !process.Runs(pid)
}
