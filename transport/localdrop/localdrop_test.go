package localdrop_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/localdrop"
	"github.com/feebridge/feebridge/transport/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.RunConformanceTests(t, transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			d, err := localdrop.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	})
}

func TestOpenMissing(t *testing.T) {
	_, err := localdrop.Open(filepath.Join(t.TempDir(), "none"), nil)
	if got := transport.ErrorCode(err); got != transport.NotFound {
		t.Errorf("Open of a missing folder: code %v (%v), want NotFound", got, err)
	}
	dir := filepath.Join(t.TempDir(), "made", "here")
	d, err := localdrop.Open(dir, &localdrop.Options{Create: true})
	if err != nil {
		t.Fatalf("Open with Create: %v", err)
	}
	d.Close()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("folder not made: %v", err)
	}
}

// A symbolic link that leads out of the drop's folder is refused.
func TestSymlinkEscape(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	d, err := localdrop.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ReadFile(t.Context(), "link/secret"); err == nil {
		t.Errorf("read a file outside the drop through a symbolic link")
	}
	if err := d.WriteFile(t.Context(), "link/new", []byte("x")); err == nil {
		t.Errorf("wrote a file outside the drop through a symbolic link")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Errorf("file written outside the drop")
	}
}
