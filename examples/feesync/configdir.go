package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/feebridge/feebridge/reconcile/config"
)

// An institution is one Alma institution served by a `feesync serve -config-dir`
// deployment: its own config file, journal, Alma key and schedules. It is
// not one of the [[colleges]] of a district config, which share one Alma
// and are told apart by business unit.
type institution struct {
	Name   string // the config file's base name, also its webhook path segment
	Path   string
	Config *config.Config
}

// institutionNamePattern is the rule for an institution's name: it becomes a path segment
// (/webhooks/alma/<name>) and a metric label, so lower-case letters, digits
// and '-', starting with a letter or digit.
var institutionNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// checkInstitutionName says why name cannot name an institution, or nil.
func checkInstitutionName(name string) error {
	if !institutionNamePattern.MatchString(name) {
		return fmt.Errorf("institution name %q: use lower-case letters, digits and '-', starting with a letter or digit", name)
	}
	return nil
}

// readConfigDir loads every *.toml in dir as one institution's config, in name
// order. Files whose name starts with '_' (the deployment's own files) are
// not institutions. Every file is read: the error lists each bad file, naming it.
func readConfigDir(dir string) ([]institution, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("config dir %s: %w", dir, err)
	}
	sort.Strings(paths)
	var insts []institution
	var errs []error
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".toml")
		if strings.HasPrefix(name, "_") {
			continue
		}
		if err := checkInstitutionName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		c, err := config.Load(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		insts = append(insts, institution{Name: name, Path: p, Config: c})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("config dir: %w", err)
		}
		return nil, fmt.Errorf("config dir %s: no institution config (*.toml)", dir)
	}
	return insts, nil
}
