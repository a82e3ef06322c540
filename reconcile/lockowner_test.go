package reconcile_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// TestLockOfKilledProcessIsTakenOver shows that a lease left by a process
// that no longer runs on this host does not block the next run, while one
// of a live process or of another host does.
func TestLockOfKilledProcessIsTakenOver(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	// A process that has run and exited: its pid is free.
	child := exec.Command(os.Args[0], "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	dead := child.Process.Pid

	// A process that runs for the whole test.
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	t.Cleanup(func() { _ = live.Process.Kill(); _ = live.Wait() })

	for _, tc := range []struct {
		name, owner string
		wantLocked  bool
	}{
		{"killed process on this host", fmt.Sprintf("%s/%d/abc", host, dead), false},
		{"live process on this host", fmt.Sprintf("%s/%d/abc", host, live.Process.Pid), true},
		{"another host", fmt.Sprintf("%s-elsewhere/%d/abc", host, dead), true},
		{"unreadable owner", "someone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if _, err := e.journal.DB().ExecContext(t.Context(),
				`INSERT INTO locks(name, owner, expires) VALUES ('job:charges', ?, ?)`,
				tc.owner, e.clock().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000000000Z")); err != nil {
				t.Fatal(err)
			}
			release, err := e.journal.Lock(t.Context(), "job:charges", time.Hour)
			if got := errors.Is(err, reconcile.ErrLocked); got != tc.wantLocked {
				t.Fatalf("Lock error = %v, want locked %v", err, tc.wantLocked)
			}
			if err == nil {
				release()
			}
		})
	}
}

// TestTempFilesOfKilledProcessAreRemoved shows that the next run removes
// the temporary files a killed run left in TempDir, and only those: the
// files of a live process and files that are not the jobs' stay.
func TestTempFilesOfKilledProcessAreRemoved(t *testing.T) {
	child := exec.Command(os.Args[0], "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	stale := fmt.Sprintf("feebridge-%d-charges-out-123", child.Process.Pid)
	keep := []string{fmt.Sprintf("feebridge-%d-payments-in-456", os.Getppid()), "feebridge-notes.txt", "other-1"}
	for _, name := range append([]string{stale}, keep...) {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, stale)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s of a process that stopped is still there (%v)", stale, err)
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(e.dir, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
	left, err := filepath.Glob(filepath.Join(e.dir, fmt.Sprintf("feebridge-%d-*", os.Getpid())))
	if err != nil || len(left) != 0 {
		t.Errorf("the run left its own temporary files: %v %v", left, err)
	}
}
