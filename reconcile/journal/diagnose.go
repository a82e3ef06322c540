package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrCannotOpen is wrapped by Open's error when the journal file cannot be
// opened, with what is wrong with its path.
var ErrCannotOpen = errors.New("journal cannot be opened")

// diagnose says what is wrong with a journal path that SQLite could not
// open ("unable to open database file"), or "" if it finds nothing.
func diagnose(path string) string {
	if path == Memory || path == "" {
		return ""
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "it is a folder, not a file: name a file in it, such as " + filepath.Join(path, "feesync.journal")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("its folder %s does not exist: create it, or fix the path", dir)
	case err != nil:
		return fmt.Sprintf("its folder %s cannot be read: %v", dir, err)
	case !fi.IsDir():
		return fmt.Sprintf("%s is not a folder", dir)
	}
	if err := Writable(dir); err != nil {
		return fmt.Sprintf("its folder %s cannot be written (SQLite needs to make its -wal and -shm files there): %v", dir, err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("the file cannot be opened for writing: %v", err)
	} else if err == nil {
		f.Close()
	}
	return ""
}

// Writable checks that files can be made in dir, by making and removing
// one with a feesync-owned name.
func Writable(dir string) error {
	f, err := os.CreateTemp(dir, ".feesync-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// openErr is the error of Open when the database fails: it names the path
// and, when it can tell, what is wrong with it.
func openErr(path string, err error) error {
	if why := diagnose(path); why != "" {
		return fmt.Errorf("journal %s: %s: %w: %w", path, why, ErrCannotOpen, err)
	}
	return fmt.Errorf("journal: %s: %w", path, err)
}
