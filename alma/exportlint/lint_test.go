package exportlint_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

const casesFile = "testdata/BURSAR-7210493750006761-1772474400000.xml"

// dukePolicy is a district's policy like Duke's: at least $5.00 and 7
// days old, with staff left out and two libraries and three fee types
// billed.
func dukePolicy() exportlint.Policy {
	return exportlint.Policy{
		MinimumAmount:      fees.MustParseMoney("5.00", fees.USD),
		MinimumAgeDays:     7,
		ExcludedUserGroups: []string{"STAFF"},
		Libraries:          []string{"MAIN", "law"},
		FeeTypes:           []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee},
	}
}

// lintFile lints path with p and returns the warnings and the summary.
func lintFile(t *testing.T, path string, p exportlint.Policy, opts *exportlint.Options) ([]exportlint.Warning, exportlint.Summary) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if opts == nil {
		opts = &exportlint.Options{}
	}
	opts.File = path
	var ws []exportlint.Warning
	s, err := exportlint.Lint(f, p, opts, func(w exportlint.Warning) { ws = append(ws, w) })
	if err != nil {
		t.Fatalf("Lint: %v", err)
	}
	return ws, s
}

func readUsers(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	groups, err := exportlint.ReadUserGroups(f, "testdata/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	return groups
}

// brief is a warning as "TXID TYPE user: reason, reason".
func brief(w exportlint.Warning) string {
	var rs []string
	for _, f := range w.Findings {
		rs = append(rs, string(f.Reason))
	}
	return w.TransactionID + " " + string(w.Type) + " " + w.User + ": " + strings.Join(rs, ", ")
}

// TestLintEachReason: every reason on the made-up export, each fee with
// its own reasons, the credit and the fees within the policy left alone,
// ages counted from the time stamp in Alma's file name.
func TestLintEachReason(t *testing.T) {
	ws, s := lintFile(t, casesFile, dukePolicy(), &exportlint.Options{UserGroups: readUsers(t)})
	var got []string
	for _, w := range ws {
		got = append(got, brief(w))
	}
	want := []string{
		"900002 OVERDUEFINE 10012345: below-minimum",
		"900003 LOSTITEMREPLACEMENTFEE 10012345: too-recent",
		"900011 OVERDUEFINE 20067890: excluded-user-group",
		"900012 LOSTITEMPROCESSFEE 20067890: excluded-user-group, library-not-billed",
		"900021 DAMAGEDITEMFINE 30011111: fee-type-not-billed",
		"900022 OVERDUEFINE 30011111: library-not-billed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	wantSum := map[exportlint.Reason]int{exportlint.BelowMinimum: 1, exportlint.TooRecent: 1, exportlint.ExcludedGroup: 2,
		exportlint.LibraryNotBilled: 2, exportlint.TypeNotBilled: 1}
	if diff := cmp.Diff(wantSum, s.ByReason); diff != "" {
		t.Errorf("ByReason (-want +got):\n%s", diff)
	}
	if s.Fees != 7 || s.Credits != 1 || s.Warned != 6 || len(s.Errors) != 0 {
		t.Errorf("summary: %d fees, %d credits, %d warned, %d errors; want 7, 1, 6, 0", s.Fees, s.Credits, s.Warned, len(s.Errors))
	}
	if s.Unchecked[exportlint.NoUserGroup] != 2 {
		t.Errorf("user group unknown for %d fees, want 2 (user 30011111 is not in users.csv)", s.Unchecked[exportlint.NoUserGroup])
	}
	if want := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC); !s.ExportedAt.Equal(want) {
		t.Errorf("ExportedAt = %v, want the file name's %v", s.ExportedAt, want)
	}
	w := ws[0]
	if w.File != casesFile || w.Line == 0 || w.Amount.String() != "2.50 USD" ||
		w.Findings[0].Detail != "2.50 USD is below the minimum 5.00 USD" {
		t.Errorf("first warning = %+v", w)
	}
	if d := ws[1].Findings[0].Detail; !strings.Contains(d, "2026-03-01, 1 day before the export; the minimum is 7") {
		t.Errorf("too-recent detail = %q", d)
	}
	if d := ws[5].Findings[0].Detail; !strings.Contains(d, "owned by the institution") {
		t.Errorf("institution detail = %q", d)
	}
}

// TestLintNoUsersFile: without a users file the group check is counted
// as not done for every fee, and no fee is warned about its group.
func TestLintNoUsersFile(t *testing.T) {
	ws, s := lintFile(t, casesFile, dukePolicy(), nil)
	for _, w := range ws {
		for _, f := range w.Findings {
			if f.Reason == exportlint.ExcludedGroup {
				t.Errorf("%s: warned about a group no file gave", brief(w))
			}
		}
	}
	if s.Unchecked[exportlint.NoUserGroup] != s.Fees {
		t.Errorf("user group not checked for %d of %d fees", s.Unchecked[exportlint.NoUserGroup], s.Fees)
	}
}

// TestLintEmptyPolicy: a policy that states nothing warns about nothing.
func TestLintEmptyPolicy(t *testing.T) {
	if !(exportlint.Policy{}).IsZero() || dukePolicy().IsZero() {
		t.Fatal("IsZero is wrong")
	}
	ws, s := lintFile(t, casesFile, exportlint.Policy{}, nil)
	if len(ws) != 0 || s.Warned != 0 || s.Fees != 7 {
		t.Errorf("empty policy: %d warnings, summary %+v", len(ws), s)
	}
}

// TestLintMITExport: MIT's real export (2 users, 10 fees, one
// bursarTransactionId shared by five fees of different types) under
// Duke's minimum and age, a week after its last transaction: the two fees
// under $5 are named, nothing else.
func TestLintMITExport(t *testing.T) {
	for _, path := range []string{"../testdata/bursar/mit-bursar-export.xml", "/work/shared/fixtures/alma/mit-bursar-export.xml"} {
		if _, err := os.Stat(path); err != nil {
			if path[0] == '/' {
				continue // the shared fixture is outside the module; alma/testdata holds the same file
			}
			t.Fatal(err)
		}
		p := exportlint.Policy{MinimumAmount: fees.MustParseMoney("5.00", fees.USD), MinimumAgeDays: 7}
		ws, s := lintFile(t, path, p, &exportlint.Options{ExportedAt: time.Date(2023, 9, 19, 18, 0, 0, 0, time.UTC)})
		var got []string
		for _, w := range ws {
			got = append(got, w.Amount.String())
		}
		if diff := cmp.Diff([]string{"0.82 USD", "1.45 USD"}, got); diff != "" || s.Fees != 10 || len(s.Errors) != 0 {
			t.Errorf("%s: below the minimum (-want +got):\n%s\nsummary %+v", path, diff, s)
		}
		// A day after the export, every fee is too recent.
		_, s = lintFile(t, path, p, &exportlint.Options{ExportedAt: time.Date(2023, 9, 13, 18, 0, 0, 0, time.UTC)})
		if s.ByReason[exportlint.TooRecent] != 10 {
			t.Errorf("%s: %d too recent, want 10", path, s.ByReason[exportlint.TooRecent])
		}
	}
}

// TestLintTestExports: every export of alma/testdata is read to its end;
// the bad records are errors that name the file and line, the good ones
// are judged.
func TestLintTestExports(t *testing.T) {
	paths, err := filepath.Glob("../testdata/bursar/*.xml")
	if err != nil || len(paths) < 3 {
		t.Fatalf("test exports: %v %v", paths, err)
	}
	for _, path := range paths {
		_, s := lintFile(t, path, dukePolicy(), &exportlint.Options{ExportedAt: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
		if s.Fees+s.Credits == 0 {
			t.Errorf("%s: no record judged", path)
		}
		for _, e := range s.Errors {
			var pe *alma.ParseError
			if !errors.As(e, &pe) || pe.Line == 0 || !strings.Contains(e.Error(), filepath.Base(path)) {
				t.Errorf("%s: error %v names no file and line", path, e)
			}
		}
		if filepath.Base(path) == "bad-records.xml" && len(s.Errors) == 0 {
			t.Errorf("%s: no record refused", path)
		}
	}
}

// TestLintMalformedExport: an export that is not XML stops with an error
// that names the file and the line.
func TestLintMalformedExport(t *testing.T) {
	const export = `<?xml version="1.0"?>
<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
  <xb:userExportedFineFees>
    <xb:exportNumber>1</xb:exportNumber
  </xb:userExportedFineFees>
</xb:xml-fragment>
`
	_, err := exportlint.Lint(strings.NewReader(export), dukePolicy(), &exportlint.Options{File: "broken.xml"}, func(exportlint.Warning) {
		t.Error("a warning from a broken file")
	})
	var pe *alma.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, alma.ErrSyntax) || pe.File != "broken.xml" || pe.Line != 5 {
		t.Fatalf("err = %v, want a syntax error at broken.xml:5 (the line where the tag ends)", err)
	}
	if !strings.Contains(err.Error(), "broken.xml") || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("message %q names no file or line", err)
	}
}
