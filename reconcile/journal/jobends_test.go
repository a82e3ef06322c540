package journal_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestJobEnds (issue 18): JOB_END deliveries are kept once per instance,
// with their counts, and wait for their file until a result is set.
func TestJobEnds(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		t0 := time.Date(2026, 9, 15, 18, 0, 0, 0, time.UTC)
		e1 := journal.JobEnd{InstanceID: "I1", EventID: "E1", Job: "charges", JobID: "S1", Name: "Export to Bursar",
			Status: "COMPLETED_SUCCESS", StatusDesc: "Completed", Users: 14, Records: 20,
			Counters: map[string]int64{"u": 14, "f": 20}, Started: t0, Ended: t0.Add(2 * time.Minute),
			Received: t0.Add(3 * time.Minute), FileUsers: -1, FileRecords: -1}
		e2 := e1
		e2.InstanceID, e2.EventID, e2.Status, e2.Records, e2.Users = "I2", "E2", "COMPLETED_FAILED", -1, -1
		e2.Received = e1.Received.Add(time.Hour)
		for _, e := range []journal.JobEnd{e1, e2} {
			if added, err := j.AddJobEnd(ctx, e); err != nil || !added {
				t.Fatalf("add %s: %v, %v", e.InstanceID, added, err)
			}
		}
		again := e1
		again.Records = 99
		if added, err := j.AddJobEnd(ctx, again); err != nil || added {
			t.Fatalf("a delivery again: added %v, %v; want false", added, err)
		}
		got, ok, err := j.GetJobEnd(ctx, "I1")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if diff := cmp.Diff(e1, got); diff != "" {
			t.Errorf("job end (-want +got):\n%s", diff)
		}
		waiting, err := j.WaitingJobEnds(ctx, "charges")
		if err != nil || len(waiting) != 1 || waiting[0].InstanceID != "I1" {
			t.Fatalf("waiting: %+v, %v; want I1 only (I2 has no count)", waiting, err)
		}
		if err := j.SetJobEndResult(ctx, "I1", "B-I1-1.xml", -1, -1, journal.JobEndWaiting); err != nil {
			t.Fatal(err)
		}
		if w, _ := j.WaitingJobEnds(ctx, "charges"); len(w) != 0 {
			t.Errorf("a job end tied to its file still waits for one: %+v", w)
		}
		if err := j.SetJobEndResult(ctx, "I1", "B-I1-1.xml", 14, 19, journal.JobEndDisagreed); err != nil {
			t.Fatal(err)
		}
		if err := j.SetJobEndResult(ctx, "nope", "x", 0, 0, journal.JobEndAgreed); err == nil {
			t.Error("a result set on an instance never received")
		}
		if w, _ := j.WaitingJobEnds(ctx, "charges"); len(w) != 0 {
			t.Errorf("still waiting: %+v", w)
		}
		of, ok, err := j.JobEndOfFile(ctx, "charges", "B-I1-1.xml")
		if err != nil || !ok || of.InstanceID != "I1" || of.FileRecords != 19 || of.Result != journal.JobEndDisagreed {
			t.Errorf("job end of the file: %+v, %v, %v", of, ok, err)
		}
		if es, err := j.JobEnds(ctx, t0, t0.Add(30*time.Minute)); err != nil || len(es) != 1 {
			t.Errorf("job ends in the first half hour: %d, %v", len(es), err)
		}
		counts, err := j.JobEndCounts(ctx)
		want := []journal.JobEndCount{{"Export to Bursar", "COMPLETED_FAILED", 1}, {"Export to Bursar", "COMPLETED_SUCCESS", 1}}
		if err != nil || !cmp.Equal(counts, want) {
			t.Errorf("counts %+v, %v; want %+v", counts, err, want)
		}
	})
}
