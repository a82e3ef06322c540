package almaport_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
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
	"github.com/feebridge/feebridge/transport"
	"github.com/google/go-cmp/cmp"
)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// district is the simulated district of package examples/district, its
// clock at 08:00 on Monday 2 March 2026, with feesync's jobs plugged in
// over the reference adapters of this package: the library over FTP,
// PeopleSoft's folders, the journal on disk and the webhook listener.
type district struct {
	*sim.District
	t       *testing.T
	journal *reconcile.Journal
	deps    reconcile.Deps
	jobs    *reconcile.Jobs
	quota   *reconcile.QuotaGate
}

func newDistrict(t *testing.T) *district { t.Helper(); return newDistrictIn(t, time.UTC) }

// newDistrictIn is newDistrict with the clocks, and Alma's zone, in loc.
func newDistrictIn(t *testing.T, loc *time.Location) *district {
	t.Helper()
	ctx := t.Context()
	d := &district{t: t}
	w, err := sim.Open(ctx, &sim.Options{
		Dir: t.TempDir(), Seed: 7, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, loc),
		Webhook: func(ctx context.Context, ev alma.Event) error { return almaport.WebhookCallback(d.jobs)(ctx, ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	d.District = w
	w.Clock().Set(time.Date(2026, 3, 2, 8, 0, 0, 0, loc))
	client, err := alma.NewClient(w.Alma().URL(), w.Secrets().APIKey, &alma.ClientOptions{HTTPClient: w.Alma().Client(), RatePerSecond: 20, Burst: 5,
		Now: w.Clock().Now, Location: loc})
	d.must(err)
	d.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: w.Clock().Now})
	d.must(err)
	t.Cleanup(func() { d.journal.Close() })
	mapping := peoplesoft.DefaultMapping()
	d.deps = reconcile.Deps{
		Journal: d.journal, Library: w.Library(), Bursar: w.Bursar(),
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: client, LostItemsReport: "/shared/Library/Reports/Lost items returned with fees"},
	}
	d.quota = reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reconcile.DefaultReserve, Location: loc,
		Now: w.Clock().Now, Memory: d.journal, Source: client})
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: w.Clock().Now, TempDir: t.TempDir(), WaiveReason: sim.WaiveReason,
		Quota: d.quota})
	d.must(err)
	return d
}

func (d *district) must(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *district) feesync() sim.Feesync { return sim.Jobs(d.jobs, d.journal) }

// evening is Alma's 18:00 export, the charges job and PeopleSoft's load.
func (d *district) evening(ctx context.Context) { d.t.Helper(); d.must(d.Evening(ctx, d.feesync())) }

// hourly is the payments path and the credits path, an hour later.
func (d *district) hourly(ctx context.Context) { d.t.Helper(); d.must(d.Hour(ctx, d.feesync())) }

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
		d.must(d.Alma().AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
	}
	_, err := d.Alma().AddFee("S1", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	d.must(err)
	_, err = d.Alma().AddFee("S2", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00")})
	d.must(err)
	_, err = d.Alma().RunExport(t.Context(), d.Library(), "exports", "BURSAR")
	d.must(err)
}

func TestMalformedExportGoesToFailedOverFTP(t *testing.T) {
	d := newDistrict(t)
	monday(t, d)
	d.must(d.Library().WriteFile(t.Context(), "exports/BURSAR-0-0.xml", []byte("<xb:xml-fragment><broken")))
	res, err := d.jobs.Charges(t.Context())
	d.must(err)
	if res.Records != 2 || len(res.Failed) != 1 || res.Failed[0].File != "BURSAR-0-0.xml" {
		t.Fatalf("result = %+v", res)
	}
	reason, err := d.Library().ReadFile(t.Context(), "exports/failed/BURSAR-0-0.xml.reason.txt")
	if err != nil || !strings.Contains(string(reason), "malformed XML") {
		t.Errorf("reason file: %q, %v", reason, err)
	}
	rep, err := d.jobs.BuildReport(t.Context(), d.Clock().Now())
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
			jobs, err = reconcile.New(reconcile.Deps{Journal: d.journal, Library: d.Library(), Bursar: d.Bursar(),
				Export: d.deps.Export, Charges: d.deps.Charges, Payments: d.deps.Payments, Import: d.deps.Import},
				ptr(reconcile.WithFaultHook(reconcile.Options{Now: d.Clock().Now, TempDir: t.TempDir()}, fault)))
			d.must(err)
		}
		_, err := jobs.Charges(t.Context())
		crashed := err != nil
		if _, err = d.jobs.Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, err = d.PeopleSoft().Load(t.Context())
		d.must(err)
		d.Clock().Advance(time.Hour)
		for _, u := range []string{"S1", "S2"} {
			f := d.Alma().Fees(u)[0]
			_, err := d.PeopleSoft().Pay(f.TransactionID, f.Balance, fees.ChannelEServices, fees.MethodCreditCard)
			d.must(err)
		}
		_, _, err = d.PeopleSoft().Flush(t.Context())
		d.must(err)
		_, err = jobs.Payments(t.Context())
		crashed = crashed || err != nil
		if fault != nil && !crashed {
			t.Fatal("the fault did not stop a job")
		}
		res, err := d.jobs.Payments(t.Context())
		d.must(err)
		_ = res
		imp, err := d.Alma().RunImport(t.Context(), d.Library(), "imports")
		d.must(err)
		if len(imp.Rejected()) != 0 {
			t.Fatalf("import rejected %+v", imp.Rejected())
		}
		state = append(state, listAll(t, d.Library(), "")...)
		state = append(state, listAll(t, d.Bursar(), "")...)
		recs, err := d.journal.Records(t.Context(), "", "")
		d.must(err)
		for _, r := range recs {
			state = append(state, fmt.Sprintf("%s %s %s %s", r.Kind, r.Outcome, r.Output, r.Amount))
		}
		for _, u := range []string{"S1", "S2"} {
			f := d.Alma().Fees(u)[0]
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

// TestWebhookFailureIsRetriedByFeesync: Alma refuses every call (its
// daily quota is spent) when the return is delivered: the listener
// journals the event and answers 200 at once, the attempt fails and the
// event stays pending, due at Alma's midnight, with no call to Alma
// before then; after that midnight, feesync's own retry waives the fees
// once, with no redelivery from Alma.
func TestWebhookFailureIsRetriedByFeesync(t *testing.T) {
	ctx := t.Context()
	d := newDistrict(t)
	a := d.Alma()
	d.must(a.AddUser(almatest.User{ID: "S1", FirstName: "Student", LastName: "One"}))
	d.must(a.AddItem(almatest.Item{Barcode: "B1", Title: "Organic Chemistry", ReplacementCost: usd("80.00")}))
	loan, err := a.CheckOut("S1", "B1", d.Clock().Now().AddDate(0, 0, 14))
	d.must(err)
	_, err = a.DeclareLost(loan)
	d.must(err)
	d.evening(ctx)

	d.NextMorning()
	a.SetFaults(almatest.Faults{DailyQuota: 1})
	_, err = a.Return("B1")
	d.must(err)
	a.RunDue(ctx)
	hooks := a.Webhooks()
	if len(hooks) != 1 || hooks[0].State != "delivered" || len(hooks[0].Attempts) != 1 || hooks[0].Attempts[0].Status != 200 {
		t.Fatalf("first delivery: %+v", hooks)
	}
	res, err := d.jobs.HandleEvents(ctx)
	if err != nil || res.Retrying != 1 {
		t.Fatalf("attempt while Alma refuses: %+v, %v", res, err)
	}
	midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	if ev, _, err := d.journal.GetEvent(ctx, hooks[0].ID); err != nil || !ev.Next.Equal(midnight) {
		t.Fatalf("event after the daily quota: next %v (want Alma's midnight %v), %v", ev.Next, midnight, err)
	}
	a.SetFaults(almatest.Faults{})
	calls := a.APICalls()[""]
	d.Clock().Advance(2 * time.Hour)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Attempts != 0 {
		t.Fatalf("before Alma's midnight: %+v, %v", res, err)
	}
	if n := a.APICalls()[""]; n != calls {
		t.Fatalf("%d calls reached Alma before its midnight", n-calls)
	}
	d.Clock().Set(midnight.Add(time.Minute))
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	if len(rep.FailedEvents) != 0 || len(rep.ReturnedWithFees) != 2 {
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

	d.Clock().Advance(time.Minute)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Done != 1 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if n := a.RunDue(ctx); n != 0 {
		t.Fatalf("Alma delivered %d events again", n)
	}
	for _, f := range a.Fees("S1") {
		if f.Type.IsLostItem() && f.Status != fees.StatusClosed {
			t.Errorf("%s after the retry: %s %s", f.Type, f.Status, f.Balance)
		}
	}
	d.hourly(ctx)
	rec, err := d.jobs.Reconcile(ctx, nil)
	d.must(err)
	if !rec.Agree() {
		t.Errorf("disagreements: %+v", rec.Disagreements)
	}
	rep, err = d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	// What needs staff is only the day the quota was spent.
	if rep.Exceptions() != 1 || len(rep.Quota) != 1 || rep.Quota[0].Job != reconcile.JobLostReturns {
		t.Errorf("report after the retry: %+v", rep)
	}
}
