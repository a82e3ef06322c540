package exportlint_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/exportlint"
)

// FuzzReadUserGroups: any input gives users, or an error that names the
// file, never a panic; every user read has an identifier and a group.
func FuzzReadUserGroups(f *testing.F) {
	seed, err := os.ReadFile("testdata/users.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("id,user_group\n1,A\n1,B\n,C\n\"x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		groups, err := exportlint.ReadUserGroups(bytes.NewReader(data), "users.csv")
		if err != nil && !strings.HasPrefix(err.Error(), "users.csv") {
			t.Fatalf("error %q does not name the file", err)
		}
		for id, g := range groups {
			if strings.TrimSpace(id) == "" || strings.TrimSpace(g) == "" {
				t.Fatalf("user %q group %q read", id, g)
			}
		}
	})
}

// FuzzLint: any export gives warnings and a summary, or a file error,
// never a panic; every warning has a line and at least one finding.
func FuzzLint(f *testing.F) {
	for _, p := range []string{casesFile, "../testdata/bursar/quirks.xml", "../testdata/bursar/bad-records.xml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := exportlint.Lint(bytes.NewReader(data), dukePolicy(), &exportlint.Options{File: "x.xml"}, func(w exportlint.Warning) {
			if w.Line <= 0 || len(w.Findings) == 0 {
				t.Fatalf("warning %+v", w)
			}
		})
		if s.Warned > s.Fees {
			t.Fatalf("%d warned of %d fees", s.Warned, s.Fees)
		}
	})
}
