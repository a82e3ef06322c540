package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/transport"
)

// folderConfig is a config whose two drops are local folders under dir,
// with the PeopleSoft payment folder misspelled.
func folderConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	text := `timezone = "UTC"
journal = "j.db"
[library]
type = "dir"
path = "` + filepath.ToSlash(filepath.Join(dir, "library")) + `"
credit_folder = "credit"
[peoplesoft]
type = "dir"
path = "` + filepath.ToSlash(filepath.Join(dir, "ps")) + `"
outbound_folder = "outbund"
`
	c, err := config.Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFolderErrorNamesKeyAndPath(t *testing.T) {
	dir := t.TempDir()
	c := folderConfig(t, dir)
	cause := &transport.Error{Code: transport.NotFound, Op: "stat", Path: "outbund", Err: fs.ErrNotExist}
	err := c.FolderError(&reconcile.FolderError{Job: reconcile.JobPayments, Folder: "outbund", Err: cause})
	want := `peoplesoft.outbound_folder = "outbund": ` + filepath.Join(dir, "ps", "outbund") + " does not exist"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant it to start with %s", err, want)
	}
	var fe *reconcile.FolderError
	if !errors.As(err, &fe) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.As/Is lost the cause of %v", err)
	}
	err = c.FolderError(&reconcile.FolderError{Job: reconcile.JobCredits, Folder: "inbound", Outbound: true, Err: reconcile.ErrNotFolder})
	want = `peoplesoft.inbound_folder = "inbound": ` + filepath.Join(dir, "ps", "inbound") + " is not a folder"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant it to start with %s", err, want)
	}
	if other := errors.New("other"); c.FolderError(other) != other {
		t.Error("FolderError changed an error that names no folder")
	}
}

func TestCheckFoldersListsEveryBadFolder(t *testing.T) {
	dir := t.TempDir()
	c := folderConfig(t, dir)
	for _, d := range []string{"library/imports", "library/reports", "ps/inbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "library", "exports"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := c.CheckFolders()
	if err == nil {
		t.Fatal("CheckFolders = nil, want three folders named")
	}
	want := []string{
		`library.export_folder = "exports": ` + filepath.Join(dir, "library", "exports") + " is not a folder",
		`library.credit_folder = "credit": ` + filepath.Join(dir, "library", "credit") + " does not exist",
		`peoplesoft.outbound_folder = "outbund": ` + filepath.Join(dir, "ps", "outbund") + " does not exist",
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("CheckFolders =\n%s\nwant\n%s", err, strings.Join(want, "\n"))
	}
}
