package almaport_test

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/google/go-cmp/cmp"
)

// listAll returns every file under dir in drop with its size.
func listAll(t *testing.T, drop *transport.Drop, dir string) []string {
	t.Helper()
	var out []string
	list, err := drop.List(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range list {
		p := path.Join(dir, fi.Name)
		if fi.IsDir {
			out = append(out, listAll(t, drop, p)...)
			continue
		}
		data, err := drop.ReadFile(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d", p, len(data)))
	}
	sort.Strings(out)
	return out
}

// monday sets up two students with fees and runs Alma's export.
func monday(t *testing.T, d *district) {
	t.Helper()
	for _, u := range []string{"S1", "S2"} {
		d.must(d.alma.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
	}
	_, err := d.alma.AddFee("S1", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	d.must(err)
	_, err = d.alma.AddFee("S2", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00")})
	d.must(err)
	_, err = d.alma.RunExport(t.Context(), d.library, "exports", "BURSAR")
	d.must(err)
}

func TestMalformedExportGoesToFailedOverFTP(t *testing.T) {
	d := newDistrict(t)
	monday(t, d)
	d.must(d.library.WriteFile(t.Context(), "exports/BURSAR-0-0.xml", []byte("<xb:xml-fragment><broken")))
	res, err := d.jobs.Charges(t.Context())
	d.must(err)
	if res.Records != 2 || len(res.Failed) != 1 || res.Failed[0].File != "BURSAR-0-0.xml" {
		t.Fatalf("result = %+v", res)
	}
	reason, err := d.library.ReadFile(t.Context(), "exports/failed/BURSAR-0-0.xml.reason.txt")
	if err != nil || !strings.Contains(string(reason), "malformed XML") {
		t.Errorf("reason file: %q, %v", reason, err)
	}
	rep, err := d.jobs.BuildReport(t.Context(), d.clock.Now())
	d.must(err)
	if len(rep.FailedFiles) != 1 {
		t.Errorf("report lists %d failed files", len(rep.FailedFiles))
	}
}

// TestCrashAtEachStepOverFTP injects a fault at each step of the charges
// and payments jobs, on the real formats and the FTP drop, and expects a
// rerun to end where a run without the fault ends.
func TestCrashAtEachStepOverFTP(t *testing.T) {
	run := func(t *testing.T, fault func(string) error) (state []string) {
		d := newDistrict(t)
		monday(t, d)
		jobs := d.jobs
		if fault != nil {
			var err error
			jobs, err = reconcile.New(reconcile.Deps{Journal: d.journal, Library: d.library, Bursar: d.bursar,
				Export: d.deps.Export, Charges: d.deps.Charges, Payments: d.deps.Payments, Import: d.deps.Import},
				ptr(reconcile.WithFaultHook(reconcile.Options{Now: d.clock.Now, TempDir: t.TempDir()}, fault)))
			d.must(err)
		}
		_, err := jobs.Charges(t.Context())
		crashed := err != nil
		if _, err := d.jobs.Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		d.must(d.ps.load(t.Context()))
		d.clock.Advance(time.Hour)
		for _, u := range []string{"S1", "S2"} {
			f := d.alma.Fees(u)[0]
			d.must(d.ps.pay(f.TransactionID, f.Balance, fees.ChannelEServices, fees.MethodCreditCard))
		}
		_, err = d.ps.flush(t.Context())
		d.must(err)
		_, err = jobs.Payments(t.Context())
		crashed = crashed || err != nil
		if fault != nil && !crashed {
			t.Fatal("the fault did not stop a job")
		}
		res, err := d.jobs.Payments(t.Context())
		d.must(err)
		_ = res
		imp, err := d.alma.RunImport(t.Context(), d.library, "imports")
		d.must(err)
		if len(imp.Rejected()) != 0 {
			t.Fatalf("import rejected %+v", imp.Rejected())
		}
		state = append(state, listAll(t, d.library, "")...)
		state = append(state, listAll(t, d.bursar, "")...)
		recs, err := d.journal.Records(t.Context(), "", "")
		d.must(err)
		for _, r := range recs {
			state = append(state, fmt.Sprintf("%s %s %s %s", r.Kind, r.Outcome, r.Output, r.Amount))
		}
		for _, u := range []string{"S1", "S2"} {
			f := d.alma.Fees(u)[0]
			state = append(state, fmt.Sprintf("%s %s %s", u, f.Status, f.Balance))
		}
		return state
	}
	want := run(t, nil)
	for _, step := range []string{reconcile.StepDecide, reconcile.StepPublish, reconcile.StepCommit, reconcile.StepDone} {
		t.Run(step, func(t *testing.T) {
			got := run(t, func(s string) error {
				if s == step {
					return errors.New("crash")
				}
				return nil
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("after a crash at %s (-clean +got):\n%s", step, diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestWebhookFailureIsRedelivered: Alma refuses every call (its daily
// quota is spent) when the return is delivered, so the handler answers
// 503; Alma delivers the event again an hour later and the fees are waived
// once.
func TestWebhookFailureIsRedelivered(t *testing.T) {
	ctx := t.Context()
	d := newDistrict(t)
	a := d.alma
	d.must(a.AddUser(almatest.User{ID: "S1", FirstName: "Student", LastName: "One"}))
	d.must(a.AddItem(almatest.Item{Barcode: "B1", Title: "Organic Chemistry", ReplacementCost: usd("80.00")}))
	loan, err := a.CheckOut("S1", "B1", d.clock.Now().AddDate(0, 0, 14))
	d.must(err)
	_, err = a.DeclareLost(loan)
	d.must(err)
	d.evening(ctx)

	d.nextMorning()
	a.SetFaults(almatest.Faults{DailyQuota: 1})
	_, err = a.Return("B1")
	d.must(err)
	a.RunDue(ctx)
	hooks := a.Webhooks()
	if len(hooks) != 1 || hooks[0].State == "delivered" || len(hooks[0].Attempts) != 1 || hooks[0].Attempts[0].Status != 503 {
		t.Fatalf("first delivery: %+v", hooks)
	}
	rep, err := d.jobs.BuildReport(ctx, d.clock.Now())
	if err != nil {
		// The report needs Alma too; with the quota spent it cannot run.
		t.Logf("report while Alma refuses calls: %v", err)
	}
	a.SetFaults(almatest.Faults{})
	rep, err = d.jobs.BuildReport(ctx, d.clock.Now())
	d.must(err)
	if len(rep.FailedEvents) != 1 || len(rep.ReturnedWithFees) != 2 {
		t.Errorf("report after the failure: %d failed events, %d returned items with fees", len(rep.FailedEvents), len(rep.ReturnedWithFees))
	}
	analytics := 0
	for route, n := range a.APICalls() {
		if strings.Contains(route, "analytics") {
			analytics += n
		}
	}
	if analytics == 0 {
		t.Errorf("the report did not use Alma's lost items report: %v", a.APICalls())
	}

	d.clock.Advance(61 * time.Minute)
	if n := a.RunDue(ctx); n != 1 {
		t.Fatalf("RunDue delivered %d events", n)
	}
	for _, f := range a.Fees("S1") {
		if f.Type.IsLostItem() && f.Status != fees.StatusClosed {
			t.Errorf("%s after the redelivery: %s %s", f.Type, f.Status, f.Balance)
		}
	}
	d.hourly(ctx)
	rec, err := d.jobs.Reconcile(ctx, nil)
	d.must(err)
	if !rec.Agree() {
		t.Errorf("disagreements: %+v", rec.Disagreements)
	}
	rep, err = d.jobs.BuildReport(ctx, d.clock.Now())
	d.must(err)
	if rep.Exceptions() != 0 {
		t.Errorf("report after the redelivery: %+v", rep)
	}
}
