package reconcile_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

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
