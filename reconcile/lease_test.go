package reconcile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestChargesLeaseLostStopsTheRun pauses a charges run after its first
// file (its lease expires meanwhile) while another process takes the
// job's lease over: woken up, the run fails with ErrLeaseLost and decides
// nothing more, and the new holder's run ends as one run without the
// pause would.
func TestChargesLeaseLostStopsTheRun(t *testing.T) {
	setup := func(e *env) {
		exportA(e)
		e.put(e.library, "exports/alma-2-0302.xml", "fee|T4|S003|F4|OVERDUEFINE|B300|2.00", "end|1")
	}
	clean := newEnv(t)
	setup(clean)
	if _, err := clean.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := clean.state()

	e := newEnv(t)
	setup(e)
	other, err := journal.Open(t.Context(), e.dbPath, &journal.Options{Now: e.clock, Instance: "standby"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var takeover journal.Lease
	paused := false
	_, err = e.jobs(func(step string) error {
		if step != reconcile.StepDone || paused {
			return nil
		}
		paused = true
		e.now = e.now.Add(2 * time.Minute) // past the 1-minute lease
		var err error
		takeover, err = other.TakeLease(t.Context(), "job:charges", time.Minute)
		return err
	}).Charges(t.Context())
	if !errors.Is(err, reconcile.ErrLeaseLost) {
		t.Fatalf("run whose lease was taken over: err = %v, want ErrLeaseLost", err)
	}
	files, err := e.journal.Files(t.Context(), "charges")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "alma-1-0301.xml" {
		t.Fatalf("files journaled = %+v, want only the one decided before the takeover", files)
	}
	if r, ok, _ := e.journal.Get(t.Context(), reconcile.KindCharge, "T4/OVERDUEFINE"); ok {
		t.Fatalf("the paused run decided T4 after losing its lease: %+v", r)
	}
	// The new holder's run (here, once it released) finishes the week.
	other.ReleaseLease(t.Context(), takeover)
	e.now = clean.now // the output's header carries the run's time
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, e.state()); diff != "" {
		t.Errorf("after the takeover (-clean +got):\n%s", diff)
	}
}
