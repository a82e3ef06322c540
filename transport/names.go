package transport

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path"
	"strings"
	"unicode/utf8"
)

// ValidName reports whether name is acceptable as a file or folder name
// relative to a drop's root, and why not. It is the one place where names
// are checked; [Drop] calls it before every operation, so drivers never see
// a bad name.
//
// A valid name is slash-separated, not empty, not absolute, valid UTF-8,
// and every element is non-empty and neither "." nor "..". It holds no
// backslash and no control character (bytes below 0x20 and 0x7f: a CR or
// LF could smuggle a command into an FTP session). Its last element may
// not look like one of the temporary names that [Drop.Put] uses.
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	case strings.HasPrefix(name, "/"):
		return errors.New("absolute name; names are relative to the drop's root")
	case strings.Contains(name, `\`):
		return errors.New(`name holds a backslash`)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errors.New("name holds a control character")
		}
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "":
			return errors.New("name has an empty element (leading, trailing or double slash)")
		case ".", "..":
			return errors.New(`name has a "." or ".." element`)
		}
	}
	if IsTempName(path.Base(name)) {
		return errors.New("name looks like a temporary upload name")
	}
	return nil
}

// validDir is ValidName for folders, where "" and "." mean the root.
func validDir(dir string) (string, error) {
	if dir == "" || dir == "." {
		return "", nil
	}
	return dir, ValidName(dir)
}

const tempMarker = ".tmp-"

// TempName returns a new temporary name under which to write name: in the
// same folder, hidden, ".<base>.tmp-<16 hex digits>". [Drop.List] hides
// such names; drivers that write atomically by themselves use it too.
func TempName(name string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	dir, base := path.Split(name)
	return dir + "." + base + tempMarker + hex.EncodeToString(b[:])
}

// OwnedTempName returns the fixed temporary name under which
// [Drop.PutOwned] writes name: ".<base>.tmp-" and the first 16 hex digits
// of the SHA-256 of name. [Drop.List] hides it like any [TempName].
func OwnedTempName(name string) string {
	sum := sha256.Sum256([]byte(name))
	dir, base := path.Split(name)
	return dir + "." + base + tempMarker + hex.EncodeToString(sum[:8])
}

// IsTempName reports whether base (a name without folders) is a temporary
// upload name as written by [Drop.Put]. [Drop.List] hides such names.
func IsTempName(base string) bool {
	if !strings.HasPrefix(base, ".") {
		return false
	}
	i := strings.LastIndex(base, tempMarker)
	if i < 2 {
		return false
	}
	suffix := base[i+len(tempMarker):]
	if len(suffix) != 16 {
		return false
	}
	_, err := hex.DecodeString(suffix)
	return err == nil
}

// join joins a folder and a name with a slash; an empty folder is the root.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
