package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// SQLite's "unable to open database file (14)" becomes an error that
// names the path and what is wrong with it.
func TestOpenNamesWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "afolder"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"missing folder", filepath.Join(dir, "nope", "j.db"), "folder " + filepath.Join(dir, "nope") + " does not exist"},
		{"is a folder", filepath.Join(dir, "afolder"), "it is a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := journal.Open(t.Context(), tc.path, nil)
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want the path and %q", err, tc.want)
			}
			if !errors.Is(err, journal.ErrCannotOpen) {
				t.Errorf("error does not wrap ErrCannotOpen: %v", err)
			}
		})
	}
}
