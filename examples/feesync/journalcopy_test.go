package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/journal/journaltest"
)

// TestJournalCopy copies a journal the jobs filled (files, charges,
// payments, a held record, runs, job ends, the report) and compares every
// row of every table of both; the site then goes on over the copy.
func TestJournalCopy(t *testing.T) {
	s, t1, t2 := heldSite(t)
	wantRun(t, s.pay("pay-1.csv", "10012345,"+t1+",300000000001,40.00,33.33,2026-03-03,CASHIER,CASH,R1"), ExitOK, "records=1")
	// A payment of more than the charge: held.
	s.pay("pay-2.csv", "10067890,"+t2+",300000000004,40.00,99.00,2026-03-03,CASHIER,CASH,R2")
	s.report()

	cp := filepath.Join(t.TempDir(), "copy.db")
	r := s.run("journal", "copy", "-from", s.journalPath(), "-to", cp)
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "copy of journal") {
		t.Errorf("journal copy said %q", r.stdout)
	}
	if a, b := journaltest.Dump(t, s.journalPath()), journaltest.Dump(t, cp); !slices.Equal(a, b) {
		t.Fatalf("the copy differs:\n%s", journaltest.Diff(a, b))
	}
	// Into a journal with content: refused, naming what it found.
	wantRun(t, s.run("journal", "copy", "-from", s.journalPath(), "-to", cp), ExitFailure, "already holds data", "rows in table")

	// The site goes on over the copy: a new run appends, a file applied
	// again changes nothing.
	s.loseJournal(false)
	data, err := os.ReadFile(cp)
	s.must(err)
	s.must(os.WriteFile(s.journalPath(), data, 0o600))
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
