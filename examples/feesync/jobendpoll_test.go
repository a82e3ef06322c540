package main

import (
	"slices"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestJobEndsToStart: the active instance starts a job once for each
// job end another instance journaled (or that waited when it took over),
// and not again for the same job end, nor for one whose file was checked.
func TestJobEndsToStart(t *testing.T) {
	ctx := t.Context()
	j, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	seen := map[string]time.Time{}
	at := time.Date(2026, 9, 14, 6, 0, 0, 0, time.UTC)
	add := func(instance, job string, received time.Time) {
		t.Helper()
		e := journal.JobEnd{InstanceID: instance, Job: job, Name: "Export fines", Status: "COMPLETED_SUCCESS",
			Records: 3, Users: 2, Counters: map[string]int64{}, Started: received, Ended: received, Received: received,
			FileUsers: -1, FileRecords: -1}
		if _, err := j.AddJobEnd(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	step := func(want ...string) {
		t.Helper()
		got, err := jobEndsToStart(ctx, j, seen)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("jobs to start: got %q, want %q", got, want)
		}
	}
	step() // nothing journaled
	add("1001", reconcile.JobCharges, at)
	step(reconcile.JobCharges) // waiting when this instance took over
	step()                     // started once
	add("1002", reconcile.JobCredits, at.Add(time.Minute))
	add("1003", reconcile.JobCharges, at.Add(2*time.Minute))
	step(reconcile.JobCharges, reconcile.JobCredits) // journaled by a standby
	step()
	if err := j.SetJobEndResult(ctx, "1003", "export-3.xml", 2, 3, journal.JobEndAgreed); err != nil {
		t.Fatal(err)
	}
	add("1004", reconcile.JobCharges, at.Add(time.Hour))
	seen[reconcile.JobCharges] = at.Add(2 * time.Hour) // started from this instance's own JOB_END since
	step()
}
