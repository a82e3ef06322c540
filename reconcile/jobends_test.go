package reconcile_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// exportEnd is the JOB_END of the export that wrote exportA: 3 fines and
// fees of 2 users.
func exportEnd(instance string, records, users int64) reconcile.JobEndEvent {
	return reconcile.JobEndEvent{EventID: "E" + instance, InstanceID: instance, JobID: "S1", Name: "Export to Bursar - BURSAR",
		Status: "COMPLETED_SUCCESS", Succeeded: true, Records: records, Users: users,
		Ended: day(0), Counters: map[string]int64{}}
}

func jobEndEnv(t *testing.T) *env {
	e := newEnv(t)
	e.opts.ExportJob = "export to bursar - bursar"
	return e
}

// TestJobEndStartsCharges (issue 18): the JOB_END of the export named in
// the config asks for the charges job at once, once per instance; a
// job feesync does not follow, one that failed, and one that exported
// nothing start nothing.
func TestJobEndStartsCharges(t *testing.T) {
	e := jobEndEnv(t)
	jobs := e.jobs(nil)
	ctx := t.Context()
	start, err := jobs.ReceiveJobEnd(ctx, exportEnd("I1", 3, 2))
	if err != nil || start != reconcile.JobCharges {
		t.Fatalf("start %q, %v; want charges", start, err)
	}
	select {
	case got := <-jobs.JobEndStarts():
		if got != reconcile.JobCharges {
			t.Errorf("started %q", got)
		}
	default:
		t.Error("nothing on JobEndStarts")
	}
	if start, err := jobs.ReceiveJobEnd(ctx, exportEnd("I1", 3, 2)); err != nil || start != "" {
		t.Errorf("the same instance again: start %q, %v; want none", start, err)
	}
	other := exportEnd("I2", 3, 2)
	other.Name, other.JobID = "Publishing to Primo", "S9"
	failed := exportEnd("I3", -1, -1)
	failed.Status, failed.Succeeded, failed.Failed = "COMPLETED_FAILED", false, true
	none := exportEnd("I4", 0, 0)
	for _, ev := range []reconcile.JobEndEvent{other, failed, none} {
		if start, err := jobs.ReceiveJobEnd(ctx, ev); err != nil || start != "" {
			t.Errorf("%s (%s): start %q, %v; want none", ev.InstanceID, ev.Status, start, err)
		}
	}
	byID := exportEnd("I5", 3, 2)
	byID.Name = "renamed in Alma"
	e.opts.ExportJob = "S1"
	if start, err := e.jobs(nil).ReceiveJobEnd(ctx, byID); err != nil || start != reconcile.JobCharges {
		t.Errorf("matched by job id: start %q, %v", start, err)
	}
	fails, err := jobs.FailedAlmaJobs(ctx, day(-1), day(1))
	if err != nil || len(fails) != 1 || fails[0].InstanceID != "I3" {
		t.Errorf("failed Alma jobs: %+v, %v", fails, err)
	}
	if _, err := jobs.ReceiveJobEnd(ctx, reconcile.JobEndEvent{Name: "x"}); !errors.Is(err, reconcile.ErrPermanent) {
		t.Errorf("no instance id: %v, want a permanent error", err)
	}
}

// TestJobEndCountsAgree: a file that holds what its job end announced is
// applied, and the journal says so.
func TestJobEndCountsAgree(t *testing.T) {
	e := jobEndEnv(t)
	exportA(e)
	jobs := e.jobs(nil)
	if _, err := jobs.ReceiveJobEnd(t.Context(), exportEnd("I1", 3, 2)); err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Charges(t.Context())
	if err != nil || res.Records != 3 || !res.Clean() {
		t.Fatalf("charges: %+v, %v", res, err)
	}
	end, _, err := e.journal.GetJobEnd(t.Context(), "I1")
	if err != nil || end.Result != reconcile.JobEndAgreed || end.File != "alma-1-0301.xml" || end.FileRecords != 3 || end.FileUsers != 2 {
		t.Errorf("job end after the check: %+v, %v", end, err)
	}
}

// TestJobEndCountsDisagree: a file with fewer records than its job end
// announced goes to failed/ with both numbers, and nothing of it is
// charged; so does one with more users.
func TestJobEndCountsDisagree(t *testing.T) {
	for name, ev := range map[string]reconcile.JobEndEvent{
		"fewer records": exportEnd("I1", 4, 2),
		"more records":  exportEnd("I1", 2, 2),
		"other users":   exportEnd("I1", 3, 3),
	} {
		t.Run(name, func(t *testing.T) {
			e := jobEndEnv(t)
			exportA(e)
			jobs := e.jobs(nil)
			if _, err := jobs.ReceiveJobEnd(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
			res, err := jobs.Charges(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != 0 || len(res.Outputs) != 0 || len(res.Failed) != 1 {
				t.Fatalf("result %+v; want the file failed and nothing charged", res)
			}
			reason := res.Failed[0].Reason
			for _, want := range []string{"3 records of 2 users", "Export to Bursar - BURSAR", "I1", "not applied"} {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			lib := files(t, e.library)
			if _, ok := lib["exports/failed/alma-1-0301.xml"]; !ok {
				t.Errorf("export not in failed/: %v", keys(lib))
			}
			if rs, err := e.journal.Records(t.Context(), reconcile.KindCharge, ""); err != nil || len(rs) != 0 {
				t.Errorf("journal holds %d charges of the file (%v)", len(rs), err)
			}
			if out := files(t, e.bursar); len(out) != 0 {
				t.Errorf("bursar got %v", keys(out))
			}
			end, _, _ := e.journal.GetJobEnd(t.Context(), "I1")
			if end.Result != reconcile.JobEndDisagreed || end.FileRecords != 3 {
				t.Errorf("job end %+v", end)
			}
		})
	}
}

// TestJobEndMatchesFileByInstance: with Alma's file names, the file whose
// name carries the instance id is checked against that instance's counts;
// a job end that ended before a later file was written is set aside, and
// a file no job end stands for is applied as before.
func TestJobEndMatchesFileByInstance(t *testing.T) {
	e := jobEndEnv(t)
	e.opts.FileJobID = func(name string) (string, time.Time) {
		// BURSAR-<id>-<day>.xml, for the test
		parts := strings.Split(strings.TrimSuffix(name, ".xml"), "-")
		if len(parts) != 3 {
			return "", time.Time{}
		}
		d := map[string]int{"d0": 0, "d1": 1, "d2": 2}[parts[2]]
		return parts[1], day(d)
	}
	ctx := t.Context()
	jobs := e.jobs(nil)
	stale := exportEnd("I0", 1, 1) // its file came before the event; ended on day 0
	mine := exportEnd("I7", 1, 1)
	mine.Ended = day(1).Add(time.Minute)
	for _, ev := range []reconcile.JobEndEvent{stale, mine} {
		if _, err := jobs.ReceiveJobEnd(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	e.put(e.library, "exports/BURSAR-I7-d1.xml", "fee|T1|S001|F1|OVERDUEFINE|B1|1.00", "end|1")
	e.put(e.library, "exports/BURSAR-I8-d2.xml", "fee|T2|S002|F2|OVERDUEFINE|B2|2.00", "fee|T3|S002|F3|OVERDUEFINE|B3|3.00", "end|2")
	res, err := jobs.Charges(ctx)
	if err != nil || res.Records != 3 || !res.Clean() {
		t.Fatalf("charges: %+v, %v", res, err)
	}
	for id, want := range map[string]string{"I7": reconcile.JobEndAgreed, "I0": reconcile.JobEndStale} {
		if end, _, _ := e.journal.GetJobEnd(ctx, id); end.Result != want {
			t.Errorf("%s: result %q, want %q (%+v)", id, end.Result, want, end)
		}
	}
}

// TestReportListsFailedAlmaJobAndBadExport (issue 18): the daily report
// lists, under "needs staff", an Alma job that ended with errors and an
// export that the count check refused, in plain words.
func TestReportListsFailedAlmaJobAndBadExport(t *testing.T) {
	e := jobEndEnv(t)
	exportA(e)
	jobs := e.jobs(nil)
	ctx := t.Context()
	failed := exportEnd("I9", -1, -1)
	failed.Status, failed.StatusDesc, failed.Succeeded, failed.Failed = "COMPLETED_FAILED", "Completed with errors", false, true
	for _, ev := range []reconcile.JobEndEvent{exportEnd("I1", 5, 2), failed} {
		if _, err := jobs.ReceiveJobEnd(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := jobs.Charges(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := jobs.BuildReport(ctx, day(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.FailedAlmaJobs) != 1 || rep.FailedAlmaJobs[0].InstanceID != "I9" || rep.Exceptions() != 2 {
		t.Fatalf("failed Alma jobs %+v, exceptions %d; want I9 and the export", rep.FailedAlmaJobs, rep.Exceptions())
	}
	var csv strings.Builder
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Alma job failed", `Alma's job ""Export to Bursar - BURSAR"" ended on`, "completed with errors (COMPLETED_FAILED)", "process I9",
		"Export not applied", "exported 5 fines and fees of 2 users, but the file holds 3 records of 2 users",
	} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, csv.String())
		}
	}
}

// TestJobEndStartsCredits: the JOB_END of the credit export named in
// CreditExportJob starts the credits job, and its counts are checked
// against the credit file.
func TestJobEndStartsCredits(t *testing.T) {
	e := jobEndEnv(t)
	e.opts.CreditExportJob = "Export credits to Bursar - BURSAR"
	jobs := e.jobs(nil)
	ev := exportEnd("C1", 2, 1)
	ev.Name, ev.JobID = "EXPORT CREDITS TO BURSAR - BURSAR", "S2"
	start, err := jobs.ReceiveJobEnd(t.Context(), ev)
	if err != nil || start != reconcile.JobCredits {
		t.Fatalf("start %q, %v; want credits", start, err)
	}
	e.put(e.library, "credits/alma-2-0301.xml", "credit|T1|S001|F1|LOSTITEMREPLACEMENTFEE|120.00", "end|1")
	res, err := jobs.Credits(t.Context())
	if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Reason, "2 fines and fees of 1 users, but the file holds 1 records of 1 users") {
		t.Errorf("credits: %+v, %v; want the file failed on its count", res, err)
	}
}
