package journal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/pgtest"
)

// TestLockOfKilledProcessIsTakenOver shows that a lease left by a process
// that no longer runs on this host does not block the next run, while one
// of a live process or of another host does, on SQLite and on PostgreSQL.
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

	stores := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "journal.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) { lockOfKilledProcess(t, store.path, host, dead, live.Process.Pid) })
	}
}

// lockOfKilledProcess checks, on the journals path opens, that a lock
// left by the process dead on host is taken over, and one of the process
// live or of another host is not.
func lockOfKilledProcess(t *testing.T, path func(t *testing.T) string, host string, dead, live int) {
	for _, tc := range []struct {
		name, owner string
		wantLocked  bool
	}{
		{"killed process on this host", fmt.Sprintf("%s/%d/abc", host, dead), false},
		{"live process on this host", fmt.Sprintf("%s/%d/abc", host, live), true},
		{"another host", fmt.Sprintf("%s-elsewhere/%d/abc", host, dead), true},
		{"unreadable owner", "someone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
			j, err := Open(t.Context(), path(t), &Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if _, err := j.db.ExecContext(t.Context(),
				`INSERT INTO locks(name, owner, expires) VALUES ('job:charges', ?, ?)`,
				tc.owner, formatTime(now.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			release, err := j.Lock(t.Context(), "job:charges", time.Hour)
			if got := errors.Is(err, ErrLocked); got != tc.wantLocked {
				t.Fatalf("Lock error = %v, want locked %v", err, tc.wantLocked)
			}
			if err == nil {
				release()
			}
		})
	}
}
