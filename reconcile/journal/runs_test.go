package journal_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestRunHistory: runs are kept, returned newest first, and summed up by
// job with the end of the last run that did not fail.
func TestRunHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		t0 := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		runs := []journal.Run{
			{Job: "charges", Started: t0, Ended: t0.Add(time.Second), Outcome: journal.RunHeld, Files: 1, Records: 2, Held: 1, Amount: "45.00", Who: "cli"},
			{Job: "credits", Started: t0, Ended: t0.Add(time.Second), Outcome: journal.RunOK, Who: "serve"},
			{Job: "charges", Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Second), Outcome: journal.RunFailed, Error: "exports: no such folder", Who: "serve"},
		}
		for i, r := range runs {
			id, err := j.AddRun(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			runs[i].ID = id
		}
		got, err := j.Runs(ctx, "charges", 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]journal.Run{runs[2], runs[0]}, got); diff != "" {
			t.Errorf("Runs (-want +got):\n%s", diff)
		}
		sum, err := j.RunSummary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []journal.JobRuns{
			{Job: "charges", Last: runs[2], LastSuccess: runs[0].Ended, Outcomes: map[string]int{"held": 1, "failed": 1}, Records: 2, Held: 1, Amount: 45},
			{Job: "credits", Last: runs[1], LastSuccess: runs[1].Ended, Outcomes: map[string]int{"ok": 1}},
		}
		if diff := cmp.Diff(want, sum); diff != "" {
			t.Errorf("RunSummary (-want +got):\n%s", diff)
		}
		if n, err := j.Size(ctx); err != nil || n <= 0 {
			t.Errorf("Size: %d, %v", n, err)
		}
		if err := j.Writable(ctx); err != nil {
			t.Errorf("Writable: %v", err)
		}
	})
}

// TestRunAlmaUse: a run keeps the Alma calls it made and the quota Alma
// said was left; AlmaRemaining is the newest run's that heard from Alma.
func TestRunAlmaUse(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if _, _, ok, err := j.AlmaRemaining(ctx); ok || err != nil {
			t.Errorf("AlmaRemaining of an empty history: ok %v, err %v; want false, nil", ok, err)
		}
		t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
		for _, r := range []journal.Run{
			{Job: "report", Started: t0, Ended: t0.Add(time.Minute), Outcome: journal.RunOK, AlmaCalls: 12, AlmaRemaining: 4200},
			{Job: "charges", Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour), Outcome: journal.RunOK, AlmaRemaining: -1},
		} {
			if _, err := j.AddRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		n, at, ok, err := j.AlmaRemaining(ctx)
		if err != nil || !ok || n != 4200 || !at.Equal(t0.Add(time.Minute)) {
			t.Errorf("AlmaRemaining = %d, %v, %v, %v; want 4200 at the report's end", n, at, ok, err)
		}
		runs, err := j.Runs(ctx, "report", 1)
		if err != nil || len(runs) != 1 || runs[0].AlmaCalls != 12 || runs[0].AlmaRemaining != 4200 {
			t.Errorf("Runs(report) = %+v, %v; want 12 calls and 4200 left", runs, err)
		}
	})
}

// TestRunSummaryAmountUnsigned: a credits run's total is negative; the
// summary adds the totals without their sign, so that the amount of a
// flow only grows (a Prometheus counter).
func TestRunSummaryAmountUnsigned(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
		for _, a := range []string{"-181.25", "-148.50"} {
			if _, err := j.AddRun(ctx, journal.Run{Job: "credits", Started: t0, Ended: t0, Outcome: journal.RunOK, Amount: a}); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := j.RunSummary(ctx)
		if err != nil || len(sum) != 1 || sum[0].Amount != 329.75 {
			t.Errorf("RunSummary = %+v, %v; want the credits' amount 329.75", sum, err)
		}
	})
}
