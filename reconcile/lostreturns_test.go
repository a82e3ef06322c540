package reconcile_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// lostSetup gives S001 a lost item B100 with a replacement and a processing
// fee, and an overdue fine on another item; the loan L1 is returned.
func lostSetup(e *env) *fakeAlma {
	a := newFakeAlma()
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.add("S001", "F9", "T9", fees.TypeOverdueFine, "B900", "3.00")
	a.loans["L1"] = reconcile.Loan{ID: "L1", UserID: "S001", ItemBarcode: "B100", Returned: true}
	e.alma = a
	return a
}

var returned = reconcile.LoanEvent{ID: "E1", Type: reconcile.EventLoanReturned, LoanID: "L1", UserID: "S001", ItemBarcode: "B100"}

func TestLoanReturnedWaivesTheLostItemFees(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"F1", "F2"} {
		f, _ := a.GetFee(t.Context(), "S001", id)
		if f.Status != fees.StatusClosed || !f.Balance.IsZero() {
			t.Errorf("%s after the return: %s %s", id, f.Status, f.Balance)
		}
	}
	if f, _ := a.GetFee(t.Context(), "S001", "F9"); f.Status != fees.StatusTransferred {
		t.Errorf("the overdue fine was touched: %s", f.Status)
	}
	if a.blocks["S001"] != 1 {
		t.Errorf("blocks removed %d times", a.blocks["S001"])
	}
	w, ok, _ := e.journal.Get(t.Context(), reconcile.KindWaiver, "E1/F1")
	if !ok || w.Outcome != reconcile.OutcomeWaived || !w.Amount.Equal(usd("120.00")) {
		t.Errorf("waiver record = %+v", w)
	}
	// Delivered again: nothing more happens.
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	if a.waives != 2 || a.blocks["S001"] != 1 {
		t.Errorf("redelivery: waives %d, block removals %d", a.waives, a.blocks["S001"])
	}
}

func TestLoanReturnedIgnoresOtherEventsAndLoansNotReturned(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	if err := e.jobs(nil).LoanReturned(t.Context(), reconcile.LoanEvent{ID: "E0", Type: "LOAN_CREATED", LoanID: "L1", UserID: "S001"}); err != nil {
		t.Fatal(err)
	}
	a.loans["L2"] = reconcile.Loan{ID: "L2", UserID: "S001", ItemBarcode: "B100"}
	err := e.jobs(nil).LoanReturned(t.Context(), reconcile.LoanEvent{ID: "E2", Type: reconcile.EventLoanReturned, LoanID: "L2", UserID: "S001"})
	if err == nil || !strings.Contains(err.Error(), "not returned") {
		t.Errorf("loan not returned: err = %v", err)
	}
	// Not returned yet may be Alma catching up: the event is retried.
	if ev, _, _ := e.journal.GetEvent(t.Context(), "E2"); ev.Outcome != reconcile.OutcomePending || ev.Attempts != 1 {
		t.Errorf("event after the attempt: %+v", ev)
	}
	if a.waives != 0 {
		t.Errorf("%d waivers made", a.waives)
	}
}

// TestLoanReturnedFailureIsRetriedAndConverges: an attempt that fails
// (Alma, or a crash at a step) leaves the event pending, due again after
// the first backoff, and out of the report's failed events; the retry
// then converges.
func TestLoanReturnedFailureIsRetriedAndConverges(t *testing.T) {
	for _, step := range []string{"alma", reconcile.StepWaive, reconcile.StepBlocks} {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			a := lostSetup(e)
			var fault func(string) error
			if step == "alma" {
				a.failNext = errors.New("Alma answered 500")
			} else {
				n := 0
				fault = func(s string) error {
					if s == step {
						if n++; n == 2 || step == reconcile.StepBlocks {
							return errors.New("crash")
						}
					}
					return nil
				}
			}
			err := e.jobs(fault).LoanReturned(t.Context(), returned)
			if err == nil {
				t.Fatal("no error")
			}
			if ev, _, _ := e.journal.GetEvent(t.Context(), "E1"); ev.Outcome != reconcile.OutcomePending ||
				!ev.Next.Equal(day(0).Add(time.Minute)) {
				t.Errorf("event after the failure: %+v", ev)
			}
			rep, err := e.jobs(nil).BuildReport(t.Context(), day(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.FailedEvents) != 0 || len(rep.ReturnedWithFees) == 0 && step != reconcile.StepBlocks {
				t.Errorf("report after the failure: events %+v, returned %+v", rep.FailedEvents, rep.ReturnedWithFees)
			}
			// Not due yet; then due, a minute later.
			if res, err := e.jobs(nil).HandleEvents(t.Context()); err != nil || res.Attempts != 0 {
				t.Fatalf("before the backoff: %+v, %v", res, err)
			}
			e.now = e.now.Add(time.Minute)
			if res, err := e.jobs(nil).HandleEvents(t.Context()); err != nil || res.Done != 1 {
				t.Fatalf("after the backoff: %+v, %v", res, err)
			}
			if a.waives != 2 || a.blocks["S001"] != 1 {
				t.Errorf("after redelivery: waives %d, block removals %d", a.waives, a.blocks["S001"])
			}
			rep, err = e.jobs(nil).BuildReport(t.Context(), day(0))
			if err != nil || len(rep.FailedEvents) != 0 || len(rep.ReturnedWithFees) != 0 {
				t.Errorf("report after redelivery: %+v, %v", rep, err)
			}
		})
	}
}

func TestLoanReturnedKeepsBlocksWhileAnotherLostItemIsOwed(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	a.add("S001", "F5", "T5", fees.TypeLostItemReplacementFee, "B500", "60.00")
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	if a.waives != 2 || a.blocks["S001"] != 0 {
		t.Errorf("waives %d, block removals %d; want 2 and 0", a.waives, a.blocks["S001"])
	}
	if f, _ := a.GetFee(t.Context(), "S001", "F5"); f.Status != fees.StatusTransferred {
		t.Errorf("the other lost item's fee was touched: %s", f.Status)
	}
}

func TestLogsMaskStudentIDs(t *testing.T) {
	e := newEnv(t)
	lostSetup(e)
	var buf bytes.Buffer
	e.opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	charged(t, e)
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	if strings.Contains(logs, "S001") || !strings.Contains(logs, "user="+fees.MaskID("S001")+" ") {
		t.Errorf("logs show a student id, or no masked one:\n%s", logs)
	}
}

// TestLoanReturnedStudentsSideBySide hands in two returns at once: of two
// students, both are handled side by side (one waiting out a 429 leaves
// the call rate to the other); of one student (Alma delivering an event
// again while the first delivery runs), one after the other, and the fees
// are waived once.
func TestLoanReturnedStudentsSideBySide(t *testing.T) {
	for _, tt := range []struct {
		name   string
		second reconcile.LoanEvent
		inside int // the most returns inside GetLoan at once
		waives int
	}{
		{"two students", reconcile.LoanEvent{ID: "E2", Type: reconcile.EventLoanReturned, LoanID: "L2", UserID: "S002", ItemBarcode: "B200"}, 2, 3},
		{"one event twice", returned, 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a := lostSetup(e)
			a.add("S002", "F3", "T3", fees.TypeLostItemReplacementFee, "B200", "60.00")
			a.loans["L2"] = reconcile.Loan{ID: "L2", UserID: "S002", ItemBarcode: "B200", Returned: true}
			hook, most := concurrency(2)
			a.onLoan = hook
			jobs := e.jobs(nil)
			var g errgroup.Group
			for _, ev := range []reconcile.LoanEvent{returned, tt.second} {
				g.Go(func() error { return jobs.LoanReturned(t.Context(), ev) })
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if most() != tt.inside || a.waives != tt.waives {
				t.Errorf("%d returns handled at once, %d waivers; want %d and %d", most(), a.waives, tt.inside, tt.waives)
			}
		})
	}
}

// TestLoanReturnedKeepsBlocksForARestoredFee: the first delivery waived
// the fees and stopped before the blocks; staff then restored one of them
// in Alma. The redelivery waives nothing twice and keeps the blocks, since
// the student owes that fee again.
func TestLoanReturnedKeepsBlocksForARestoredFee(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	crash := func(s string) error {
		if s == reconcile.StepBlocks {
			return errors.New("crash")
		}
		return nil
	}
	if err := e.jobs(crash).LoanReturned(t.Context(), returned); err == nil {
		t.Fatal("no error")
	}
	f1, err := a.find("S001", "F1")
	if err != nil {
		t.Fatal(err)
	}
	restored, err := fees.NewFee("F1", f1.Type, "S001", usd("120.00"), day(0))
	if err != nil {
		t.Fatal(err)
	}
	restored.TransactionID, restored.Item = f1.TransactionID, f1.Item
	*f1 = *restored // Active again, with its whole balance
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	if a.waives != 2 || a.blocks["S001"] != 0 {
		t.Errorf("after redelivery: waives %d, block removals %d; want 2 and 0", a.waives, a.blocks["S001"])
	}
}
