package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// refusingAlma is an Alma whose loan calls fail with err while it is set.
type refusingAlma struct {
	reconcile.AlmaAPI
	err   atomic.Pointer[error]
	calls atomic.Int64
}

func (a *refusingAlma) refuse(err error) { a.err.Store(&err) }

func (a *refusingAlma) GetLoan(ctx context.Context, user, loan string) (reconcile.Loan, error) {
	a.calls.Add(1)
	if p := a.err.Load(); p != nil && *p != nil {
		return reconcile.Loan{}, *p
	}
	return a.AlmaAPI.GetLoan(ctx, user, loan)
}

func event(t *testing.T, e *env, id string) reconcile.Event {
	t.Helper()
	ev, ok, err := e.journal.GetEvent(t.Context(), id)
	if err != nil || !ok {
		t.Fatalf("event %s: %v, %v", id, ok, err)
	}
	return ev
}

// TestEventSurvivesRefusalsAndRestart (issue 15, case 7): the listener
// journals the return and answers; Alma refuses every attempt for hours,
// the process restarts in between; the event stays pending with its
// attempts and next attempt in the journal, and feesync's own retries
// handle it once Alma answers again, with no delivery from Alma.
func TestEventSurvivesRefusalsAndRestart(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	ra := &refusingAlma{AlmaAPI: a}
	ra.refuse(errors.New("alma: GET users/****/loans/L1: 503 Service Unavailable"))
	e.alma = ra
	jobs := e.jobs(nil)
	if added, err := jobs.ReceiveEvent(t.Context(), returned); err != nil || !added {
		t.Fatalf("receive: %v, %v", added, err)
	}
	if ra.calls.Load() != 0 {
		t.Fatal("the listener called Alma")
	}
	var waits []time.Duration
	for range 8 {
		res, err := jobs.HandleEvents(t.Context())
		if err != nil || res.Attempts != 1 || res.Retrying != 1 {
			t.Fatalf("attempt: %+v, %v", res, err)
		}
		ev := event(t, e, "E1")
		waits = append(waits, ev.Next.Sub(e.now))
		e.now = ev.Next
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour}
	if !slicesEqual(waits, want) {
		t.Errorf("backoff = %v, want %v", waits, want)
	}
	// A restart: the journal closed and opened again, new jobs.
	if err := e.journal.Close(); err != nil {
		t.Fatal(err)
	}
	e.openJournal()
	ev := event(t, e, "E1")
	if ev.Outcome != reconcile.OutcomePending || ev.Attempts != 8 || !ev.Next.Equal(e.now) {
		t.Fatalf("after the restart: %+v", ev)
	}
	ra.refuse(nil)
	res, err := e.jobs(nil).HandleEvents(t.Context())
	if err != nil || res.Done != 1 {
		t.Fatalf("after Alma is back: %+v, %v", res, err)
	}
	if a.waives != 2 || a.blocks["S001"] != 1 {
		t.Errorf("waives %d, block removals %d; want 2 and 1", a.waives, a.blocks["S001"])
	}
	if ev := event(t, e, "E1"); ev.Outcome != reconcile.OutcomeDone || ev.Attempts != 9 {
		t.Errorf("event at the end: %+v", ev)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRedeliveryOfAJournaledEventIsANoop: Alma delivering an event again,
// pending or done, changes nothing and calls nothing.
func TestRedeliveryOfAJournaledEventIsANoop(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	ra := &refusingAlma{AlmaAPI: a}
	e.alma = ra
	jobs := e.jobs(nil)
	for i := range 2 {
		if added, err := jobs.ReceiveEvent(t.Context(), returned); err != nil || added != (i == 0) {
			t.Fatalf("delivery %d: added %v, %v", i+1, added, err)
		}
	}
	if res, err := jobs.HandleEvents(t.Context()); err != nil || res.Done != 1 {
		t.Fatalf("handle: %+v, %v", res, err)
	}
	calls := ra.calls.Load()
	if added, err := jobs.ReceiveEvent(t.Context(), returned); err != nil || added {
		t.Fatalf("delivery after done: added %v, %v", added, err)
	}
	if res, err := jobs.HandleEvents(t.Context()); err != nil || res.Attempts != 0 {
		t.Fatalf("handle after done: %+v, %v", res, err)
	}
	if ra.calls.Load() != calls || a.waives != 2 {
		t.Errorf("redelivery called Alma: %d calls after %d, %d waivers", ra.calls.Load(), calls, a.waives)
	}
}

// TestPermanentErrorFailsAtOnce (issue 15, case 11): Alma says the loan
// does not exist (400 401651, marked permanent by the adapter): the event
// fails for good after one attempt, is not retried, and the report lists
// it with what staff should do. Redrive makes it pending again.
func TestPermanentErrorFailsAtOnce(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	ra := &refusingAlma{AlmaAPI: a}
	ra.refuse(reconcile.Permanent(errors.New("alma: GET users/****/loans/L1: 400 401651: Identifier not found.")))
	e.alma = ra
	jobs := e.jobs(nil)
	if _, err := jobs.ReceiveEvent(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	res, err := jobs.HandleEvents(t.Context())
	if err != nil || res.Failed != 1 {
		t.Fatalf("handle: %+v, %v", res, err)
	}
	e.now = e.now.Add(24 * time.Hour)
	if res, err := jobs.HandleEvents(t.Context()); err != nil || res.Attempts != 0 || ra.calls.Load() != 1 {
		t.Fatalf("a day later: %+v, %v, %d calls", res, err, ra.calls.Load())
	}
	ev := event(t, e, "E1")
	if ev.Outcome != reconcile.OutcomeFailed || ev.Code != reconcile.EventPermanent || !strings.Contains(ev.Reason, "401651") {
		t.Errorf("event: %+v", ev)
	}
	rep, err := jobs.BuildReport(t.Context(), e.now)
	if err != nil || len(rep.FailedEvents) != 1 {
		t.Fatalf("report: %+v, %v", rep.FailedEvents, err)
	}
	var csv bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Failed lost item return", "401651", "waive the student's lost-item fees", "feesync redrive event E1"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, csv.String())
		}
	}
	// Fixed in Alma; staff re-run it.
	ra.refuse(nil)
	if n, err := jobs.RedriveEvents(t.Context(), "E1"); err != nil || n != 1 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	if res, err := jobs.HandleEvents(t.Context()); err != nil || res.Done != 1 || a.waives != 2 {
		t.Fatalf("after the redrive: %+v, %v, %d waivers", res, err, a.waives)
	}
}

// TestEventGivesUpAfterEventGiveUp: a transient failure is retried until
// the event is EventGiveUp old, then it fails for good, code gave_up.
func TestEventGivesUpAfterEventGiveUp(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	ra := &refusingAlma{AlmaAPI: a}
	ra.refuse(errors.New("alma: 502 Bad Gateway"))
	e.alma = ra
	e.opts.EventGiveUp = 6 * time.Hour
	jobs := e.jobs(nil)
	if _, err := jobs.ReceiveEvent(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	start := e.now
	for i := 0; ; i++ {
		res, err := jobs.HandleEvents(t.Context())
		if err != nil || res.Attempts != 1 || i > 20 {
			t.Fatalf("attempt %d: %+v, %v", i+1, res, err)
		}
		if res.Failed == 1 {
			break
		}
		e.now = event(t, e, "E1").Next
	}
	ev := event(t, e, "E1")
	if ev.Code != reconcile.EventGaveUp || e.now.Sub(start) < 6*time.Hour || !strings.Contains(ev.Reason, "gave up after") {
		t.Errorf("event: %+v after %v", ev, e.now.Sub(start))
	}
	if n, err := jobs.RedriveEvents(t.Context(), ""); err != nil || n != 1 {
		t.Errorf("redrive all: %d, %v", n, err)
	}
}

// TestDisputedLostFeeLeftForStaff (issue 15, case 10): the returned item's
// replacement fee is in dispute (40.00). It is not waived, it counts as
// still owed (the block stays), the journal keeps it, and the report lists
// it as a returned item still carrying a fee in dispute. The fee was
// disputed before any export; the journal has seen the export profile
// carry both lost-item types (another student's fees), so the handler
// looks for the replacement fee missing from the item's active ones.
func TestDisputedLostFeeLeftForStaff(t *testing.T) {
	e := newEnv(t)
	for i, typ := range []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee} {
		id := fmt.Sprintf("F9%d", i)
		if err := e.journal.Put(t.Context(), reconcile.Record{Kind: reconcile.KindCharge, Key: "T9|" + string(typ),
			Outcome: reconcile.OutcomeCharged, UserID: "S009", FeeID: id, FeeType: typ, Barcode: "B900",
			Amount: usd("10.00"), Updated: day(-1)}); err != nil {
			t.Fatal(err)
		}
	}
	a := newFakeAlma()
	d := a.add("S001", "F3", "T3", fees.TypeLostItemReplacementFee, "B100", "40.00")
	if err := d.Dispute(day(0)); err != nil {
		t.Fatal(err)
	}
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.loans["L1"] = reconcile.Loan{ID: "L1", UserID: "S001", ItemBarcode: "B100", Returned: true}
	e.alma = a
	jobs := e.jobs(nil)
	if err := jobs.LoanReturned(t.Context(), returned); err != nil {
		t.Fatal(err)
	}
	if f, _ := a.GetFee(t.Context(), "S001", "F3"); f.Status != fees.StatusInDispute || !f.Balance.Equal(usd("40.00")) {
		t.Errorf("the disputed fee: %s %s", f.Status, f.Balance)
	}
	if f, _ := a.GetFee(t.Context(), "S001", "F2"); f.Status != fees.StatusClosed {
		t.Errorf("the processing fee: %s", f.Status)
	}
	if a.blocks["S001"] != 0 {
		t.Errorf("the block was lifted (%d removals) while a lost-item fee is in dispute", a.blocks["S001"])
	}
	rep, err := jobs.BuildReport(t.Context(), day(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ReturnedWithFees) != 1 || rep.ReturnedWithFees[0].ID != "F3" {
		t.Fatalf("report: returned with fees %+v", rep.ReturnedWithFees)
	}
	var csv bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "in dispute") || !strings.Contains(csv.String(), "40.00") {
		t.Errorf("the report does not say the fee is in dispute:\n%s", csv.String())
	}
	if w, ok, _ := e.journal.Get(t.Context(), reconcile.KindWaiver, "E1/F3"); !ok || w.Outcome != reconcile.OutcomeDisputed {
		t.Errorf("journal: %+v, %v", w, ok)
	}
}
