package almaport_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
)

// The routes of the fake Alma the quota tests count.
const (
	routeReport = "GET analytics/reports"
	routeFees   = "GET users/{user_id}/fees"
)

// newReportDistrict is newDistrict with the fake Alma serving the open
// fees Analytics report (refreshed at 02:00) and the jobs reading it for
// the reconciliation and the daily report (no lost items report), a quota
// gate keeping reserve, and the gate's log in log.
func newReportDistrict(t *testing.T, reserve reconcile.Reserve, log *strings.Builder) *district {
	t.Helper()
	ctx := t.Context()
	d := &district{t: t}
	w, err := sim.Open(ctx, &sim.Options{
		Dir: t.TempDir(), Seed: 7, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Webhook:   func(ctx context.Context, ev alma.Event) error { return almaport.WebhookCallback(d.jobs)(ctx, ev) },
		Analytics: &almatest.AnalyticsOptions{FeesReportPath: openFeesReport},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	d.District = w
	w.Clock().Set(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	client, err := alma.NewClient(w.Alma().URL(), w.Secrets().APIKey, &alma.ClientOptions{HTTPClient: w.Alma().Client(), RatePerSecond: 20, Burst: 5,
		Now: w.Clock().Now, Location: time.UTC})
	d.must(err)
	d.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: w.Clock().Now})
	d.must(err)
	t.Cleanup(func() { d.journal.Close() })
	mapping := peoplesoft.DefaultMapping()
	d.deps = reconcile.Deps{
		Journal: d.journal, Library: w.Library(), Bursar: w.Bursar(),
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: client, FeesReport: openFeesReport},
	}
	d.quota = reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reserve, Location: time.UTC,
		Now: w.Clock().Now, Memory: d.journal, Source: client, Logger: slog.New(slog.NewTextHandler(log, nil))})
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: w.Clock().Now, TempDir: t.TempDir(), WaiveReason: sim.WaiveReason,
		Quota: d.quota})
	d.must(err)
	return d
}

// lostBooks gives each student an overdue fine and a book declared lost
// (BS1, BS2...), charged to the bursar that evening.
func (d *district) lostBooks(ctx context.Context, students ...string) {
	d.t.Helper()
	a := d.Alma()
	for _, u := range students {
		d.must(a.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
		d.must(a.AddItem(almatest.Item{Barcode: "B" + u, Title: "Book", ReplacementCost: usd("80.00")}))
		_, err := a.AddFee(u, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
		d.must(err)
		loan, err := a.CheckOut(u, "B"+u, d.Clock().Now().AddDate(0, 0, 14))
		d.must(err)
		_, err = a.DeclareLost(loan)
		d.must(err)
	}
	d.evening(ctx)
}

// calls returns the calls each route received since before.
func calls(a *almatest.Server, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range a.APICalls() {
		if n != before[k] {
			out[k] = n - before[k]
		}
	}
	return out
}

// TestBelowTheReserveTheReportIsReadButNoDetailCall: the reconciliation
// that reads the open fees report spends the report's calls below the
// reserve, then asks Alma nothing in detail (a student whose journal
// changed after the report's refresh waits for the next day), and is
// recorded partial with the quota's words in the log and the daily
// report; a lost return is still handled.
func TestBelowTheReserveTheReportIsReadButNoDetailCall(t *testing.T) {
	ctx := t.Context()
	var log strings.Builder
	d := newReportDistrict(t, reconcile.Reserve{Calls: 95}, &log)
	a := d.Alma()
	d.lostBooks(ctx, "S1", "S2")
	d.NextMorning() // Tuesday 09:00, after the report's 02:00 refresh
	a.SetFaults(almatest.Faults{DailyQuota: 100, PerSecond: -1})

	// S1's book comes back: handled, and S1's journal changes after the
	// report's refresh, so the reconciliation would ask Alma about S1.
	_, err := a.Return("BS1")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("first return: %+v, %v", res, err)
	}
	if st := d.quota.Status(ctx); !st.Low || st.Reserve != 95 {
		t.Fatalf("quota status after the first return: %+v", st)
	}
	before := a.APICalls()
	_, err = d.jobs.Reconcile(ctx, nil)
	var deferred *reconcile.DeferredError
	if !errors.As(err, &deferred) || deferred.Reserve != 95 {
		t.Fatalf("reconciliation below the reserve: err = %v, want it deferred", err)
	}
	got := calls(a, before)
	if got[routeReport] == 0 || got[routeFees] != 0 || got[""] != got[routeReport] {
		t.Fatalf("the deferred reconciliation's calls: %v, want the report's only", got)
	}
	run := reconcile.RunRecord{Job: reconcile.JobReconcile, Started: d.Clock().Now(), Ended: d.Clock().Now(), Err: err}.Run()
	if run.Outcome != reconcile.RunPartial {
		t.Errorf("a deferred reconciliation is recorded %q, want partial", run.Outcome)
	}
	if n := strings.Count(log.String(), "defers the calls that can wait"); n != 1 {
		t.Errorf("%d log lines for the deferral, want 1:\n%s", n, log.String())
	}

	// S2's book comes back: lost returns are not deferred.
	before = a.APICalls()
	_, err = a.Return("BS2")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("return below the reserve: %+v, %v", res, err)
	}
	if len(calls(a, before)) == 0 {
		t.Error("the return below the reserve made no call")
	}
	for _, f := range a.Fees("S2") {
		if f.Type.IsLostItem() && f.Status != fees.StatusClosed {
			t.Errorf("S2's %s: %s %s", f.Type, f.Status, f.Balance)
		}
	}

	// The daily report, the same Alma day: its check of returned lost
	// items from the open fees report is deferred too (no call at all),
	// and it says so.
	d.Clock().Set(time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC))
	before = a.APICalls()
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if got := calls(a, before); len(got) != 0 {
		t.Errorf("the report below the reserve called Alma: %v", got)
	}
	words := map[string]string{}
	for _, n := range rep.Quota {
		words[n.Job] = reconcile.QuotaWords(n, time.UTC)
	}
	want := fmt.Sprintf("Alma's daily quota was low at Tue 3 Mar 09:00 (%d calls left, reserve 95): the reconciliation checked nothing in detail; it runs again tomorrow",
		deferred.Remaining)
	if words[reconcile.JobReconcile] != want {
		t.Errorf("report says %q\nwant        %q", words[reconcile.JobReconcile], want)
	}
	if !strings.Contains(words[reconcile.JobReport], "the report did not ask Alma about returned lost items") {
		t.Errorf("report's own note: %q (all: %v)", words[reconcile.JobReport], words)
	}
}

// TestReturnedLostItemsByReportAboveTheReserve: with calls to spare, the
// daily report finds a returned lost item whose fee is still open in the
// open fees report (no per-student call), which the gate let through.
func TestReturnedLostItemsByReportAboveTheReserve(t *testing.T) {
	ctx := t.Context()
	var log strings.Builder
	d := newReportDistrict(t, reconcile.Reserve{Calls: 95}, &log)
	a := d.Alma()
	d.lostBooks(ctx, "S1", "S2")
	// S1's book came back without the lost-returns handler (no webhook
	// delivered): the fee is still open when the report is refreshed.
	_, err := a.Return("BS1")
	d.must(err)
	d.NextMorning()
	a.SetFaults(almatest.Faults{DailyQuota: 1000, PerSecond: -1})
	before := a.APICalls()
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	got := calls(a, before)
	if got[routeReport] == 0 || got[routeFees] != 0 {
		t.Errorf("the report's calls: %v, want the open fees report's only", got)
	}
	if rep.Partial || len(rep.Quota) != 0 {
		t.Errorf("report partial %v (%s), quota notes %+v", rep.Partial, rep.PartialReason, rep.Quota)
	}
	if len(rep.ReturnedWithFees) == 0 {
		t.Error("no returned lost item found in the open fees report")
	}
	for _, f := range rep.ReturnedWithFees {
		if f.UserID != "S1" || !f.Type.IsLostItem() {
			t.Errorf("returned with fees: %s %s, want S1's lost item fees only", f.UserID, f.Type)
		}
	}
}

// TestDailyQuotaMetWhileReadingTheReport: a 429 DAILY_THRESHOLD answered
// to the open fees report's read stops the reconciliation as the quota's
// (recorded partial, not failed) and the daily report is partial with
// the quota's words; nothing calls Alma until its midnight, and after it
// the reconciliation agrees.
func TestDailyQuotaMetWhileReadingTheReport(t *testing.T) {
	ctx := t.Context()
	var log strings.Builder
	d := newReportDistrict(t, reconcile.Reserve{}, &log)
	a := d.Alma()
	d.lostBooks(ctx, "S1", "S2", "S3")
	d.NextMorning()
	// S1's book comes back and is handled; then the day's quota is spent.
	_, err := a.Return("BS1")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("return: %+v, %v", res, err)
	}
	d.hourly(ctx) // the credit of the waived fees reaches the bursar
	// A quota of 1: the day's calls are past it.
	a.SetFaults(almatest.Faults{DailyQuota: 1, PerSecond: -1})
	before := a.APICalls()
	_, err = d.jobs.Reconcile(ctx, nil)
	var q *reconcile.DailyQuotaError
	if !errors.As(err, &q) {
		t.Fatalf("reconciliation at the daily threshold: err = %v, want the quota's", err)
	}
	if got := calls(a, before); got[routeReport] != 1 || got[""] != 1 {
		t.Fatalf("calls at the daily threshold: %v, want the report's one", got)
	}
	run := reconcile.RunRecord{Job: reconcile.JobReconcile, Started: d.Clock().Now(), Ended: d.Clock().Now(), Err: err}.Run()
	if run.Outcome != reconcile.RunPartial {
		t.Errorf("the reconciliation stopped by the quota is recorded %q (%s), want partial", run.Outcome, run.Error)
	}
	midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	if until, paused := d.quota.PausedUntil(ctx); !paused || !until.Equal(midnight) {
		t.Fatalf("paused %v until %v, want until %v", paused, until, midnight)
	}

	// The rest of the day: nothing reaches Alma.
	before = a.APICalls()
	if _, err := d.jobs.Reconcile(ctx, nil); !reconcile.IsQuota(err) {
		t.Errorf("reconciliation while paused: err = %v, want the quota's", err)
	}
	d.Clock().Set(midnight.Add(-time.Minute))
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if !rep.Partial || !strings.Contains(rep.PartialReason, "429 DAILY_THRESHOLD") {
		t.Errorf("report while paused: partial %v, %q", rep.Partial, rep.PartialReason)
	}
	if got := calls(a, before); len(got) != 0 {
		t.Fatalf("calls after the daily threshold, before Alma's midnight: %v", got)
	}
	words := map[string]string{}
	for _, n := range rep.Quota {
		words[n.Job] = reconcile.QuotaWords(n, time.UTC)
	}
	if !strings.Contains(words[reconcile.JobReconcile], "the reconciliation stopped before it had checked every student") {
		t.Errorf("report's words for the reconciliation: %q", words[reconcile.JobReconcile])
	}

	// After Alma's midnight the reconciliation reads the report and agrees.
	a.SetFaults(almatest.Faults{DailyQuota: 1000, PerSecond: -1})
	d.Clock().Set(midnight.Add(time.Minute))
	rec, err := d.jobs.Reconcile(ctx, nil)
	d.must(err)
	if !rec.Agree() || rec.Students == 0 {
		t.Errorf("after the pause: %d students, disagreements %+v", rec.Students, rec.Disagreements)
	}
	if !strings.Contains(log.String(), "429 DAILY_THRESHOLD") {
		t.Errorf("the log does not say the quota is spent:\n%s", log.String())
	}

	// Wednesday's quota is met while the daily report reads the open fees
	// report for returned lost items: the report is partial, in the
	// quota's words, not Alma's being unreachable.
	a.SetFaults(almatest.Faults{DailyQuota: 1, PerSecond: -1})
	d.Clock().Set(midnight.Add(time.Hour))
	rep, err = d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if !rep.Partial || !strings.HasPrefix(rep.PartialReason, "Alma's daily API quota is spent (429 DAILY_THRESHOLD)") {
		t.Errorf("report at the daily threshold: partial %v, %q", rep.Partial, rep.PartialReason)
	}
}

// TestDailyQuotaMetWhileReadingTheReportWithoutAGate: with no quota gate
// (Options.Quota nil), a 429 DAILY_THRESHOLD answered to the open fees
// report's read is still Alma's quota, as it is on a detail call: the
// reconciliation is partial, not failed.
func TestDailyQuotaMetWhileReadingTheReportWithoutAGate(t *testing.T) {
	ctx := t.Context()
	var log strings.Builder
	d := newReportDistrict(t, reconcile.Reserve{}, &log)
	var err error
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: d.Clock().Now, TempDir: t.TempDir(), WaiveReason: sim.WaiveReason})
	d.must(err)
	a := d.Alma()
	d.lostBooks(ctx, "S1", "S2")
	d.NextMorning()
	_, err = a.Return("BS1")
	d.must(err)
	a.RunDue(ctx)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("return: %+v, %v", res, err)
	}
	a.SetFaults(almatest.Faults{DailyQuota: 1, PerSecond: -1})
	_, err = d.jobs.Reconcile(ctx, nil)
	if !reconcile.IsQuota(err) {
		t.Fatalf("reconciliation at the daily threshold: err = %v, want the quota's", err)
	}
	run := reconcile.RunRecord{Job: reconcile.JobReconcile, Started: d.Clock().Now(), Ended: d.Clock().Now(), Err: err}.Run()
	if run.Outcome != reconcile.RunPartial {
		t.Errorf("recorded %q (%s), want partial", run.Outcome, run.Error)
	}
}
