package feebridge_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/feebridge/feebridge"

// pkg is what `go list -json` says of one package of the module.
type pkg struct {
	ImportPath string
	Name       string
	Imports    []string // direct imports of its non-test files
	Deps       []string // every package it depends on, transitively
	// The direct imports of its tests, in the package and outside it.
	TestImports, XTestImports []string
}

// listPackages runs `go list -json ./...` from the module's root.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on the PATH")
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")] = p
	}
	return pkgs
}

// own returns the module's packages among paths, relative to the module.
func own(paths []string) []string {
	var out []string
	for _, p := range paths {
		if p == module || strings.HasPrefix(p, module+"/") {
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
		}
	}
	return out
}

// under reports whether package p is dir or inside it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// fake reports whether p is a test-support package: a fake, a simulator or
// a conformance suite, never to be imported by production code.
func fake(p string) bool {
	last := p[strings.LastIndex(p, "/")+1:]
	return strings.HasSuffix(last, "test") || p == "examples/district"
}

// production reports whether p is library code a district runs: not an
// example, not a test-support package.
func production(p string) bool { return !under(p, "examples") && !fake(p) }

// TestLayout holds the module to the layout of its design: the domain
// imports nothing of the module, the vendor packages do not import each
// other, only the journal speaks SQL, and no production package depends
// on a fake.
func TestLayout(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for name, p := range pkgs {
		imports := own(p.Imports)
		if name == "fees" && len(imports) > 0 {
			t.Errorf("fees imports %v; the domain imports no package of the module", imports)
		}
		for _, side := range []string{"alma", "peoplesoft", "transport"} {
			if !under(name, side) {
				continue
			}
			for _, imp := range imports {
				for _, other := range []string{"alma", "peoplesoft", "transport", "reconcile"} {
					// The fake Alma writes and reads files through a small
					// interface of its own that a transport.Drop satisfies;
					// it names transport's FileInfo and nothing more.
					if name == "alma/almatest" && imp == "transport" {
						continue
					}
					if other != side && under(imp, other) {
						t.Errorf("%s imports %s: the vendor packages and their fakes stand alone", name, imp)
					}
				}
			}
		}
		// internal/pgtest makes the tests' PostgreSQL databases (CREATE
		// DATABASE on a server): test support, not a journal.
		if !under(name, "reconcile/journal") && name != "internal/pgtest" {
			for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
				if imp == "database/sql" || strings.HasPrefix(imp, "modernc.org/sqlite") || strings.HasPrefix(imp, "github.com/jackc/pgx") {
					t.Errorf("%s imports %s: only reconcile/journal speaks SQL", name, imp)
				}
			}
		}
		if production(name) {
			for _, dep := range own(p.Deps) {
				if fake(dep) {
					t.Errorf("%s depends on the test-support package %s", name, dep)
				}
			}
		}
	}
}

// TestPackagesListed checks that the README's package table and the
// module's overview (go doc github.com/feebridge/feebridge) name every
// package, so that a newcomer finds each one from either.
func TestPackagesListed(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	overview, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for name := range listPackages(t) {
		if name == "" {
			continue
		}
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("README.md's package table has no row for %s", name)
		}
		if !strings.Contains(string(overview), module+"/"+name+"]") && !strings.Contains(string(overview), module+"/"+name+":") {
			t.Errorf("doc.go does not name %s", name)
		}
	}
}
