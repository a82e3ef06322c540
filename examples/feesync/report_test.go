package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestReportInPlainWordsAndPartial: `feesync run report` the next morning
// words a payment held for its date for staff (student, fee, file, line,
// what to do, the key apart); with Alma down the report is still written
// from the journal, marked partial, and the run logs it as such.
func TestReportInPlainWordsAndPartial(t *testing.T) {
	s, t1, _ := heldSite(t)
	r := s.pay("ps_payments_20260302.csv", "10012345,"+t1+",300000000001,40.00,12.50,2026/03/02,CASHIER,CASH,R9")
	wantRun(t, r, ExitRejected, "rejected=1")
	s.clock.Set(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC))
	csv := s.report()
	for _, want := range []string{
		"report,period,,,,,,,,,Monday 2 March 2026 00:00 – Tuesday 3 March 2026 00:00 (UTC)",
		"Payment of 12.50 for fee ", " (OVERDUEFINE, student 10012345) in ps_payments_20260302.csv line 2",
		"ps_payments_20260302.csv line 2 was held: its date 2026/03/02 is not a date (YYYY-MM-DD expected).",
		"Have the file fixed at the bursar office, then run `feesync redrive ",
		"what flowed,F2,,,,,,,2,80.00,Charges sent to the bursar",
		"what flowed,F3,,,CASHIER,,,,0,0.00,",
		`schedule,charges,,,,,,,2,80.00,"last run Mon 2 Mar 2026 18:30, ok"`,
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("report lacks %q:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, "\nreport,partial,") {
		t.Errorf("a whole report is marked partial:\n%s", csv)
	}

	s.alma.Close()
	s.clock.Set(time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC))
	r = s.run("run", "report")
	wantRun(t, r, ExitOK, "job done: partial report", "partial=")
	b, err := os.ReadFile(filepath.Join(s.libDir, "reports", "feebridge-report-2026-03-04.csv"))
	s.must(err)
	if !strings.Contains(string(b), "\nreport,partial,,,,,,,,,\"Alma could not be reached (") || !strings.Contains(string(b), "its date 2026/03/02 is not a date") {
		t.Errorf("partial report:\n%s", b)
	}
	// The run history says the report was partial, and why.
	j, err := journal.Open(t.Context(), s.journalPath(), nil)
	s.must(err)
	defer j.Close()
	runs, err := j.Runs(t.Context(), jobReport, 1)
	s.must(err)
	if len(runs) != 1 || runs[0].Outcome != journal.RunPartial || !strings.Contains(runs[0].Error, "Alma could not be reached") {
		t.Errorf("the partial report's run = %+v", runs)
	}
}
