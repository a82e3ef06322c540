package institutions

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/feebridge/feebridge/reconcile/config"
)

// An Institution is one config file of the folder: one Alma institution.
type Institution struct {
	// Name is the file's base name without .toml: the webhook path
	// segment (/webhooks/alma/NAME) and the metrics' college label.
	Name string
	// Path is the config file.
	Path string
	// Config is the file, loaded and validated (config.Load).
	Config *config.Config

	sum [sha256.Size]byte // the file's bytes, to tell a changed file
}

// Same reports whether i and o were read from the same bytes of the same
// file: a reload restarts an institution only when its file changed.
func (i Institution) Same(o Institution) bool { return i.Path == o.Path && i.sum == o.sum }

// A FileError is a config file of the folder that was refused: a bad name
// or a config that does not load.
type FileError struct {
	Name, Path string
	Err        error
}

func (e *FileError) Error() string {
	msg := e.Err.Error()
	if strings.HasPrefix(msg, e.Path) { // config errors name the file
		return msg
	}
	return e.Path + ": " + msg
}
func (e *FileError) Unwrap() error { return e.Err }

// Dir is one reading of the folder: the institutions whose file loaded,
// and the files refused.
type Dir struct {
	Institutions []Institution
	Refused      []*FileError
}

// Err is every refused file's error, joined, or nil.
func (d *Dir) Err() error {
	errs := make([]error, len(d.Refused))
	for i, e := range d.Refused {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// namePattern is the rule for an institution's name: it becomes a path
// segment and a metric label.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// CheckName says why name cannot name an institution, or nil.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("institution name %q: use lower-case letters, digits and '-', starting with a letter or digit", name)
	}
	return nil
}

// ReadDir reads every *.toml in dir, in name order, as one institution's
// config. Files whose name starts with '_' are the deployment's own, not
// institutions. A file with a bad name or a config that does not load is
// refused, naming the file; the others are read all the same. ReadDir
// fails only when the folder cannot be read or holds no config file.
func ReadDir(dir string) (*Dir, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("config dir %s: %w", dir, err)
	}
	sort.Strings(paths)
	d := &Dir{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".toml")
		if strings.HasPrefix(name, "_") {
			continue
		}
		inst, err := readFile(name, p)
		if err != nil {
			d.Refused = append(d.Refused, &FileError{Name: name, Path: p, Err: err})
			continue
		}
		d.Institutions = append(d.Institutions, inst)
	}
	if len(d.Institutions) == 0 && len(d.Refused) == 0 {
		return nil, fmt.Errorf("config dir %s: no institution config (*.toml)", dir)
	}
	return d, nil
}

func readFile(name, path string) (Institution, error) {
	if err := CheckName(name); err != nil {
		return Institution{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Institution{}, err
	}
	c, err := config.Parse(bytes.NewReader(b), path)
	if err != nil {
		return Institution{}, err
	}
	return Institution{Name: name, Path: path, Config: c, sum: sha256.Sum256(b)}, nil
}
