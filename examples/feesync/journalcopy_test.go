package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/journal/journaltest"
)

// TestJournalCopy copies a journal the jobs filled (files, charges,
// payments, a held record, runs, job ends, the report) into a new SQLite
// file and compares every row of every table of both; the site then goes
// on over the copy.
func TestJournalCopy(t *testing.T) {
	s := filledSite(t)
	cp := filepath.Join(t.TempDir(), "copy.db")
	copyAndCompare(t, s, cp)
	// The site goes on over the copy, in its journal's place.
	s.loseJournal(false)
	data, err := os.ReadFile(cp)
	s.must(err)
	s.must(os.WriteFile(s.journalPath(), data, 0o600))
	goOn(t, s)
}

// TestJournalCopyToPostgres copies the same journal into PostgreSQL,
// compares every row, and the site goes on with its config's journal the
// PostgreSQL one: the new rows take ids after the copied ones.
func TestJournalCopyToPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := filledSite(t)
	// A password in the DSN (the test server trusts its logins and does
	// not ask for it) is never printed.
	withPassword := strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:"+copyPassword+"@", 1)
	if withPassword == dsn {
		t.Fatalf("no user in %s", dsn)
	}
	copyAndCompare(t, s, withPassword)
	cfg, err := os.ReadFile(s.config)
	s.must(err)
	old := fmt.Sprintf("journal = %q", s.journalPath())
	if !strings.Contains(string(cfg), old) {
		t.Fatalf("the site's config has no %s", old)
	}
	s.must(os.WriteFile(s.config, []byte(strings.Replace(string(cfg), old, fmt.Sprintf("journal = %q", dsn), 1)), 0o600))
	s.loseJournal(false) // what goes on below cannot be the SQLite file's doing
	goOn(t, s)
}

// filledSite is a site whose journal the jobs filled: charges, payments
// (one held), the report.
func filledSite(t *testing.T) *site {
	s, t1, t2 := heldSite(t)
	wantRun(t, s.pay("pay-1.csv", "10012345,"+t1+",300000000001,40.00,33.33,2026-03-03,CASHIER,CASH,R1"), ExitOK, "records=1")
	// A payment of more than the charge: held.
	s.pay("pay-2.csv", "10067890,"+t2+",300000000004,40.00,99.00,2026-03-03,CASHIER,CASH,R2")
	s.report()
	return s
}

// copyAndCompare copies the site's journal to the new journal to with
// feesync journal copy, compares every row, and checks that a second copy
// into it is refused.
func copyAndCompare(t *testing.T, s *site, to string) {
	t.Helper()
	r := s.run("journal", "copy", "-from", s.journalPath(), "-to", to)
	wantRun(t, r, ExitOK)
	noPassword(t, r)
	if !strings.Contains(r.stdout, "copy of journal") {
		t.Errorf("journal copy said %q", r.stdout)
	}
	if a, b := journaltest.Dump(t, s.journalPath()), journaltest.Dump(t, to); !slices.Equal(a, b) {
		t.Fatalf("the copy differs:\n%s", journaltest.Diff(a, b))
	} else if len(a) < 20 {
		t.Fatalf("the journal copied holds only %d rows:\n%s", len(a), strings.Join(a, "\n"))
	}
	// Into a journal with content: refused, naming what it found.
	r = s.run("journal", "copy", "-from", s.journalPath(), "-to", to)
	wantRun(t, r, ExitFailure, "already holds data", "rows in table")
	noPassword(t, r)
}

// copyPassword is the password TestJournalCopyToPostgres puts in the DSN.
const copyPassword = "s3cret-pg-ops"

func noPassword(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, copyPassword) {
		t.Errorf("journal copy printed the DSN's password:\n%s%s", r.stdout, r.stderr)
	}
}

// goOn runs the site on over its (copied) journal: a new run appends
// without an id taken twice, and a file applied again changes nothing.
func goOn(t *testing.T, s *site) {
	t.Helper()
	s.clock.Advance(24 * time.Hour)
	export := s.chargeAndExport(t.Context(), "10099999", "12.00")
	wantRun(t, s.run("run", "charges"), ExitOK, "records=1")
	s.redeliver(export, "again.xml")
	wantRun(t, s.run("run", "charges"), ExitOK, "files=1", "records=0")
}

// TestJournalCopyRefusesOlderSchema: a source not at this program's schema
// version is refused with the advice to migrate it first.
func TestJournalCopyRefusesOlderSchema(t *testing.T) {
	s := newSite(t)
	journaltest.Exec(t, s.journalPath(), `PRAGMA user_version = 1`)
	cp := filepath.Join(t.TempDir(), "copy.db")
	wantRun(t, s.run("journal", "copy", "-from", s.journalPath(), "-to", cp), ExitFailure, "schema version 1", "open the source once")
}

// TestJournalCopyFailsWhole: a copy that fails half-way (the source's
// records table has a column the target lacks; meta and files come
// before it) leaves the target as it was.
func TestJournalCopyFailsWhole(t *testing.T) {
	s, _, _ := heldSite(t)
	journaltest.Exec(t, s.journalPath(), `ALTER TABLE records ADD COLUMN zz_extra INTEGER`)
	cp := filepath.Join(t.TempDir(), "copy.db")
	j, err := journal.Open(t.Context(), cp, nil)
	s.must(err)
	s.must(j.Close())
	before := journaltest.Dump(t, cp)
	wantRun(t, s.run("journal", "copy", "-from", s.journalPath(), "-to", cp), ExitFailure, "table records", "zz_extra")
	if after := journaltest.Dump(t, cp); !slices.Equal(before, after) {
		t.Fatalf("a failed copy changed the target:\n%s", journaltest.Diff(before, after))
	}
}
