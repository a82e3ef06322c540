package reconcile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestRecordRun: a run's result becomes one row of the run history, its
// outcome from its error and what it held, with the Alma calls that its
// context's tally counted.
func TestRecordRun(t *testing.T) {
	ctx := t.Context()
	j, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	held := reconcile.RunResult{Files: 2, Records: 5, Total: fees.MustParseMoney("45.5", fees.USD),
		Rejected: []reconcile.Rejection{{}}}
	runCtx, tally := reconcile.WithAlmaTally(ctx)
	reconcile.CountAlmaCall(runCtx, 900)
	reconcile.CountAlmaCall(runCtx, -1) // an answer without the header
	reconcile.CountAlmaCall(ctx, 1)     // another run's: not counted
	for _, r := range []reconcile.RunRecord{
		{Job: "charges", Who: "sandbox", Started: t0, Ended: t0.Add(time.Second), Result: held},
		{Job: "credits", Who: "cli", Started: t0, Ended: t0, Err: errors.New("outbound: no such folder")},
	} {
		c := ctx
		if r.Job == "charges" {
			c = runCtx
		}
		if _, err := reconcile.RecordRun(c, j, r); err != nil {
			t.Fatal(err)
		}
	}
	if tally.Calls() != 2 || tally.Remaining() != 900 {
		t.Errorf("tally: %d calls, %d left; want 2 and 900", tally.Calls(), tally.Remaining())
	}
	runs, err := j.Runs(ctx, "", 0)
	if err != nil || len(runs) != 2 {
		t.Fatalf("Runs: %v, %v", runs, err)
	}
	c, f := runs[1], runs[0]
	if c.Outcome != reconcile.RunHeld || c.Files != 2 || c.Records != 5 || c.Held != 1 || c.Amount != "45.50" ||
		c.Who != "sandbox" || c.AlmaCalls != 2 || c.AlmaRemaining != 900 || !c.Ended.Equal(t0.Add(time.Second)) {
		t.Errorf("charges run %+v", c)
	}
	if f.Outcome != reconcile.RunFailed || f.Error != "outbound: no such folder" || f.AlmaCalls != 0 || f.AlmaRemaining != -1 {
		t.Errorf("credits run %+v", f)
	}
}
