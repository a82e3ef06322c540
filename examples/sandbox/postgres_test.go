package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/internal/pgtest"
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
