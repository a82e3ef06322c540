package almaport_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
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

// TestBelowTheReserveDetailCallsWait: once what Alma says is left of the
// day's quota is below the reserve, the reconciliation asks Alma nothing
// (its detail calls wait for the next day, and the run says so), while a
// lost return is still handled in full; the daily report says in plain
// words what waited.
func TestBelowTheReserveDetailCallsWait(t *testing.T) {
	ctx := t.Context()
	d := newDistrict(t)
	var err error
	var log strings.Builder
	d.quota = reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reconcile.Reserve{Calls: 95}, Location: time.UTC,
		Now: d.Clock().Now, Memory: d.journal, Source: d.deps.Alma.(almaport.AlmaAPI).Client,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: d.Clock().Now, TempDir: t.TempDir(),
		WaiveReason: sim.WaiveReason, Quota: d.quota})
	d.must(err)
	a := d.Alma()
	for _, u := range []string{"S1", "S2"} {
		d.must(a.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
		d.must(a.AddItem(almatest.Item{Barcode: "B" + u, Title: "Book", ReplacementCost: usd("80.00")}))
		loan, err := a.CheckOut(u, "B"+u, d.Clock().Now().AddDate(0, 0, 14))
		d.must(err)
		_, err = a.DeclareLost(loan)
		d.must(err)
	}
	d.evening(ctx)
	d.NextMorning()
	a.SetFaults(almatest.Faults{DailyQuota: 100, PerSecond: -1})

	// S1's book comes back: the return is handled, and Alma's answers
	// say 100 - its calls are left, below the reserve of 95.
	_, err = a.Return("BS1")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("first return: %+v, %v", res, err)
	}
	if st := d.quota.Status(ctx); !st.Low || st.Remaining >= 95 || st.Reserve != 95 {
		t.Fatalf("quota status after the first return: %+v", st)
	}
	before := a.APICalls()
	_, err = d.jobs.Reconcile(ctx, nil)
	var deferred *reconcile.DeferredError
	if !errors.As(err, &deferred) || deferred.Reserve != 95 {
		t.Fatalf("reconciliation below the reserve: err = %v, want it deferred", err)
	}
	if got := a.APICalls()[""]; got != before[""] {
		t.Fatalf("the deferred reconciliation made %d calls", got-before[""])
	}
	run := reconcile.RunRecord{Job: reconcile.JobReconcile, Started: d.Clock().Now(), Ended: d.Clock().Now(), Err: err}.Run()
	if run.Outcome != reconcile.RunPartial {
		t.Errorf("a deferred reconciliation is recorded %q, want partial", run.Outcome)
	}

	// S2's book comes back: lost returns are not deferred.
	_, err = a.Return("BS2")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("return below the reserve: %+v, %v", res, err)
	}
	if a.APICalls()[""] == before[""] {
		t.Error("the return below the reserve made no call")
	}
	for _, f := range a.Fees("S2") {
		if f.Type.IsLostItem() && f.Status != fees.StatusClosed {
			t.Errorf("S2's %s: %s %s", f.Type, f.Status, f.Balance)
		}
	}
	if n := strings.Count(log.String(), "defers the calls that can wait"); n != 1 {
		t.Errorf("%d log lines for the deferral, want 1:\n%s", n, log.String())
	}

	d.Clock().Set(time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC))
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if len(rep.Quota) != 1 {
		t.Fatalf("report: quota notes %+v", rep.Quota)
	}
	words := reconcile.QuotaWords(rep.Quota[0], time.UTC)
	want := fmt.Sprintf("Alma's daily quota was low at Tue 3 Mar 09:00 (%d calls left, reserve 95): the reconciliation checked nothing in detail; it runs again tomorrow",
		deferred.Remaining)
	if words != want {
		t.Errorf("report says %q\nwant        %q", words, want)
	}
}
