package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/journal/journaltest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestWeekOnPostgres runs a short week with feesync's journal on
// PostgreSQL, without and with faults (killed jobs reopen the PostgreSQL
// journal): it ends reconciled, and prints what the same week prints on
// SQLite, line for line, faults and restarts included, but for the lines
// that name the journal and the work folder and what varies with the
// machine (ports, the wall time, the peak of calls per second).
func TestWeekOnPostgres(t *testing.T) {
	for _, faults := range []float64{0, 0.2} {
		t.Run(fmt.Sprint("faults ", faults), func(t *testing.T) {
			dsn := pgtest.DSN(t)
			pg := small(1, faults)
			pg.Students = 20
			pg.Journal = dsn
			onPG := runSandbox(t, pg)
			if !strings.Contains(onPG, "journal postgres://") {
				t.Errorf("the description does not name the PostgreSQL journal:\n%s", onPG)
			}
			lite := small(1, faults)
			lite.Students = 20
			onSQLite := runSandbox(t, lite)
			if diff := cmp.Diff(comparable(onSQLite), comparable(onPG)); diff != "" {
				t.Errorf("the week on PostgreSQL differs from the week on SQLite (-SQLite +PostgreSQL):\n%s", diff)
			}
			if faults > 0 && !strings.Contains(onPG, "were restarted with the journal reopened") {
				t.Errorf("no fault summary:\n%s", onPG)
			}
		})
	}
}

// comparable is a sandbox's output cleaned of what varies with the
// machine (clean), without the lines that name its journal or its work
// folder.
func comparable(out string) []string {
	var lines []string
	for l := range strings.SplitSeq(clean(out), "\n") {
		if strings.Contains(l, "feesync          its jobs") || strings.Contains(l, "files            in ") ||
			strings.Contains(l, "Files, journal, reports and log are in") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// TestCollegesOnPostgres plays a consortium with its journals in one
// PostgreSQL database: each college ends reconciled, in a schema of its
// own, and no schema holds another college's students.
func TestCollegesOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	var out bytes.Buffer
	s := New(&out)
	s.Students, s.Days, s.Colleges, s.Journal = 20, 2, 2, dsn
	s.OutDir = t.TempDir()
	err := s.Run(t.Context())
	s.Close()
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 of 2 reconciled") {
		t.Fatalf("not every college reconciled:\n%s", out.String())
	}
	ids := map[string]string{}
	for _, schema := range []string{"college_01", "college_02"} {
		at, err := collegeSchema(dsn, strings.ReplaceAll(schema, "_", "-"))
		if err != nil {
			t.Fatal(err)
		}
		id, records := "", 0
		for _, line := range journaltest.Dump(t, at) {
			if strings.HasPrefix(line, "meta: ") && strings.Contains(line, `key="journal_id"`) {
				id = line
			}
			if strings.HasPrefix(line, "records: ") {
				records++
			}
		}
		if id == "" || records == 0 {
			t.Errorf("schema %s: journal id %q, %d records; want a journal with records", schema, id, records)
		}
		if other, seen := ids[id]; seen {
			t.Errorf("schemas %s and %s hold one journal (%s)", other, schema, id)
		}
		ids[id] = schema
	}
	// Nothing went to the database's default schema.
	if j, err := journal.Open(t.Context(), dsn, &journal.Options{MustExist: true}); err == nil {
		j.Close()
		t.Error("a journal in the public schema: a college's journal is not in its own schema")
	}
}
