package reconcile_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// An inbound folder without a new file for longer than its job's
// ExpectFilesWithin makes the run log a warning and the daily report
// list it (issue 15, "no silent no-op"): counted from the newest file the
// journal saw, or from the job's first run when it saw none.
func TestExpectFilesWithin(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	e.opts.ExpectFilesWithin = map[string]time.Duration{reconcile.JobCharges: 26 * time.Hour, reconcile.JobCredits: 2 * time.Hour}
	const warning = "no new file in the inbound folder for longer than expected"
	run := func(what string, wantCharges, wantCredits bool) {
		t.Helper()
		logs.Reset()
		if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
			t.Fatal(err)
		}
		for job, want := range map[string]bool{"charges": wantCharges, "credits": wantCredits} {
			got := false
			for line := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(line, warning) && strings.Contains(line, "job="+job) {
					got = true
				}
			}
			if got != want {
				t.Errorf("%s: %s warned %v, want %v:\n%s", what, job, got, want, logs.String())
			}
		}
		rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, q := range rep.Quiet {
			got[q.Job] = true
		}
		if got["charges"] != wantCharges || got["credits"] != wantCredits || len(got) != len(rep.Quiet) {
			t.Errorf("%s: report lists %+v, want charges %v, credits %v", what, rep.Quiet, wantCharges, wantCredits)
		}
		var csv strings.Builder
		if err := rep.WriteCSV(&csv); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(csv.String(), "\nneeds staff,No new file,"); n != len(rep.Quiet) || (n > 0 && rep.Exceptions() < n) {
			t.Errorf("%s: the CSV has %d rows of quiet folders, want %d:\n%s", what, n, len(rep.Quiet), csv.String())
		}
	}
	exportA(e)
	run("first day", false, false)
	e.now = e.now.Add(25 * time.Hour)
	run("25 hours later", false, true) // credits never saw a file: 25h since its first run
	e.now = e.now.Add(2 * time.Hour)
	run("27 hours after the export", true, true)
	if rep, _ := e.jobs(nil).BuildReport(t.Context(), e.now); len(rep.Quiet) > 0 && rep.Quiet[0].Folder != "exports" {
		t.Errorf("quiet folder %+v, want exports", rep.Quiet[0])
	}
	e.put(e.library, "exports/alma-0304.xml", "fee|T7|S007|F7|OVERDUEFINE|B7|1.00", "end|1")
	e.put(e.library, "credits/alma-credits-0304.xml", "end|0")
	run("new files", false, false)
	// Not watched: no warning however long.
	e.opts.ExpectFilesWithin = nil
	e.now = e.now.Add(90 * 24 * time.Hour)
	run("unwatched", false, false)
}
