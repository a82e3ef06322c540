package main

import (
	"testing"
)

// TestReconcileCallCount measures both paths of the nightly
// reconciliation at a small size and checks the calls, counted (never
// timed): the report path makes one report call per 1,000 open fees plus
// exactly two detail calls per disagreeing student (on average over the
// four kinds injected) and one per student changed after the refresh; the
// per-student path four per student. Both find exactly the disagreements
// injected.
func TestReconcileCallCount(t *testing.T) {
	cfg := config{path: PathReconcile, dir: t.TempDir(), disagree: 0.02, changed: 0.01}
	const n = 1200
	cfg.phase = phaseReconcileReport
	rep, err := runReconcile(t.Context(), cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.problem(); err != nil {
		t.Fatal(err)
	}
	if rep.Disagreeing != 24 || rep.Changed != 12 || rep.Found != 24 {
		t.Fatalf("disagreeing %d, changed %d, found %d; want 24, 12, 24", rep.Disagreeing, rep.Changed, rep.Found)
	}
	pages := (rep.OpenFees + 999) / 1000
	if got := rep.CallsByOp["GET analytics/reports"]; got != pages || pages != 3 {
		t.Errorf("%d report calls for %d open fees, want %d (3)", got, rep.OpenFees, pages)
	}
	if got, want := rep.CallsByOp["GET users/{user_id}/fees"], 2*rep.Disagreeing+rep.Changed; got != want {
		t.Errorf("%d detail calls, want 2 × %d disagreeing + %d changed = %d", got, rep.Disagreeing, rep.Changed, want)
	}
	if rep.Calls != reconcileBudget(rep) {
		t.Errorf("%d calls, want the budget %d", rep.Calls, reconcileBudget(rep))
	}

	cfg.phase = phaseReconcileEach
	each, err := runReconcile(t.Context(), cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := each.problem(); err != nil {
		t.Fatal(err)
	}
	if each.Found != 24 || each.Calls != 4*n || each.CallsByOp["GET analytics/reports"] != 0 {
		t.Errorf("per-student path: found %d, %d calls (%v); want 24 and %d", each.Found, each.Calls, each.CallsByOp, 4*n)
	}
}
