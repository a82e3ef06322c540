package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
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
	if a, b := dumpJournal(t, s.journalPath()), dumpJournal(t, cp); !slices.Equal(a, b) {
		t.Fatalf("the copy differs:\n%s", diffLines(a, b))
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
	db, err := sql.Open("sqlite", s.journalPath())
	s.must(err)
	_, err = db.Exec(`PRAGMA user_version = 1`)
	s.must(err)
	s.must(db.Close())
	cp := filepath.Join(t.TempDir(), "copy.db")
	wantRun(t, s.run("journal", "copy", "-from", s.journalPath(), "-to", cp), ExitFailure, "schema version 1", "open the source once")
}

// dumpJournal lists the schema version, then every row of every table of
// the SQLite journal at path, each as table: values, in a stable order.
func dumpJournal(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	out := []string{fmt.Sprint("user_version ", version)}
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	for _, n := range names {
		out = append(out, dumpTable(t, db, n)...)
	}
	return out
}

func dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %q: %#v", table, cols, values))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		out = append(out, table+": empty")
	}
	slices.Sort(out)
	return out
}

func diffLines(a, b []string) string {
	var d strings.Builder
	for _, l := range a {
		if !slices.Contains(b, l) {
			fmt.Fprintf(&d, "- %s\n", l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			fmt.Fprintf(&d, "+ %s\n", l)
		}
	}
	return d.String()
}

// TestJournalCopyFailsWhole: a copy that fails half-way (the source's
// records table has a column the target lacks; meta and files come
// before it) leaves the target as it was.
func TestJournalCopyFailsWhole(t *testing.T) {
	s, _, _ := heldSite(t)
	db, err := sql.Open("sqlite", s.journalPath())
	s.must(err)
	_, err = db.Exec(`ALTER TABLE records ADD COLUMN zz_extra INTEGER`)
	s.must(err)
	s.must(db.Close())
	cp := filepath.Join(t.TempDir(), "copy.db")
	j, err := journal.Open(t.Context(), cp, nil)
	s.must(err)
	s.must(j.Close())
	before := dumpJournal(t, cp)
	wantRun(t, s.run("journal", "copy", "-from", s.journalPath(), "-to", cp), ExitFailure, "table records", "zz_extra")
	if after := dumpJournal(t, cp); !slices.Equal(before, after) {
		t.Fatalf("a failed copy changed the target:\n%s", diffLines(before, after))
	}
}
