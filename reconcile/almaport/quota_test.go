package almaport_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// TestDailyQuotaPausesTheJobsUntilAlmasMidnight: on a day whose quota
// (the fake Alma's DailyQuota) runs out while the lost returns are being
// handled, the jobs stop calling Alma at the first 429 DAILY_THRESHOLD:
// no call reaches Alma until midnight in Alma's zone (Los Angeles, not
// UTC), whatever runs in between (the events again, the reconciliation,
// the report, the payments job). Nothing is lost: after Alma's midnight
// the events resume, and in the end every lost-item fee is waived once
// and every payment reached Alma once.
func TestDailyQuotaPausesTheJobsUntilAlmasMidnight(t *testing.T) {
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	ctx := t.Context()
	d := newDistrictIn(t, zone)
	// One event at a time, so that some are done before the quota runs out.
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: d.Clock().Now, TempDir: t.TempDir(),
		WaiveReason: sim.WaiveReason, Quota: d.quota, EventWorkers: 1})
	d.must(err)
	a := d.Alma()
	const n = 6
	for i := range n {
		u, b := fmt.Sprintf("S%d", i), fmt.Sprintf("B%d", i)
		d.must(a.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
		d.must(a.AddItem(almatest.Item{Barcode: b, Title: "Book " + b, ReplacementCost: usd("80.00")}))
		_, err := a.AddFee(u, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
		d.must(err)
		loan, err := a.CheckOut(u, b, d.Clock().Now().AddDate(0, 0, 14))
		d.must(err)
		_, err = a.DeclareLost(loan)
		d.must(err)
	}
	d.evening(ctx) // every fee charged to the bursar

	// Tuesday: a quota of 25 calls, about two returns' worth.
	d.NextMorning()
	a.SetFaults(almatest.Faults{DailyQuota: 25, PerSecond: -1})
	for i := range n {
		_, err := a.Return(fmt.Sprintf("B%d", i))
		d.must(err)
	}
	a.RunDue(ctx) // Alma delivers the webhooks; the listener journals them
	res, err := d.jobs.HandleEvents(ctx)
	d.must(err)
	if res.Done == 0 || res.Done == n || res.Retrying != n-res.Done {
		t.Fatalf("events on the day the quota runs out: %+v (want some done, the rest waiting)", res)
	}
	t.Logf("Tuesday: %d returns handled, %d waiting; %d calls reached Alma", res.Done, res.Retrying, a.APICalls()[""])
	midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, zone) // 08:00 UTC
	until, paused := d.quota.PausedUntil(ctx)
	if !paused || !until.Equal(midnight) {
		t.Fatalf("paused %v until %v, want until %v (Alma's midnight)", paused, until, midnight)
	}
	spent := a.APICalls()[""]

	// The rest of Tuesday: nothing reaches Alma.
	for i := range n {
		// Each student pays the overdue fine at the bursar.
		f := overdue(t, a, fmt.Sprintf("S%d", i))
		_, err := d.PeopleSoft().Pay(f.TransactionID, f.Balance, fees.ChannelEServices, fees.MethodCreditCard)
		d.must(err)
	}
	d.hourly(ctx) // payments and credits jobs: no call to Alma's API, not held back
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Attempts != 0 {
		t.Fatalf("events while paused: %+v, %v", res, err)
	}
	if _, err := d.jobs.Reconcile(ctx, nil); !reconcile.IsQuota(err) {
		t.Fatalf("reconciliation while paused: err = %v, want the quota", err)
	}
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if !rep.Partial {
		t.Error("the report written while paused is not partial")
	}
	d.Clock().Set(midnight.Add(-time.Minute))
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Attempts != 0 {
		t.Fatalf("events at 23:59: %+v, %v", res, err)
	}
	if got := a.APICalls()[""]; got != spent {
		t.Fatalf("%d calls reached Alma after the daily threshold, before its midnight", got-spent)
	}

	// Wednesday 00:01 in Los Angeles: the events resume.
	a.SetFaults(almatest.Faults{DailyQuota: 1000, PerSecond: -1})
	d.Clock().Set(midnight.Add(time.Minute))
	res, err = d.jobs.HandleEvents(ctx)
	if err != nil || res.Done+res.Retrying == 0 {
		t.Fatalf("after Alma's midnight: %+v, %v", res, err)
	}
	for range 3 { // the retries of an event cut short in the middle, if any
		d.Clock().Advance(time.Hour)
		_, err := d.jobs.HandleEvents(ctx)
		d.must(err)
	}
	if a.APICalls()[""] == spent {
		t.Error("no call after Alma's midnight")
	}
	d.hourly(ctx)
	pending, err := d.journal.Records(ctx, reconcile.KindEvent, "")
	d.must(err)
	for _, ev := range pending {
		if ev.Outcome != reconcile.OutcomeDone {
			t.Errorf("event %s: %s (%s)", ev.Key, ev.Outcome, ev.Reason)
		}
	}
	if len(pending) != n {
		t.Errorf("%d events journaled, want %d", len(pending), n)
	}
	for i := range n {
		u := fmt.Sprintf("S%d", i)
		for _, f := range a.Fees(u) {
			var waived, paid int
			for _, tx := range a.Transactions(f.ID) {
				switch tx.Type {
				case "WAIVE":
					waived++
				case "PAYMENT":
					paid++
				}
			}
			switch {
			case f.Type.IsLostItem() && (waived != 1 || f.Status != fees.StatusClosed):
				t.Errorf("%s %s: waived %d times, %s %s", u, f.Type, waived, f.Status, f.Balance)
			case f.Type == fees.TypeOverdueFine && (paid != 1 || f.Status != fees.StatusClosed):
				t.Errorf("%s %s: paid %d times, %s %s", u, f.Type, paid, f.Status, f.Balance)
			}
		}
	}
	rec, err := d.jobs.Reconcile(ctx, nil)
	d.must(err)
	if !rec.Agree() {
		t.Errorf("disagreements after the pause: %+v", rec.Disagreements)
	}
}

// overdue returns the student's overdue fine in Alma.
func overdue(t *testing.T, a *almatest.Server, user string) fees.Fee {
	t.Helper()
	for _, f := range a.Fees(user) {
		if f.Type == fees.TypeOverdueFine {
			return f
		}
	}
	t.Fatalf("no overdue fine for %s", user)
	return fees.Fee{}
}
