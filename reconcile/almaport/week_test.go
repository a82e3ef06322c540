package almaport_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/memdrop"
	"github.com/google/go-cmp/cmp"
)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// district is a whole district in one process: the fake Alma, the library's
// FTP server, the bursar's folders in memory, a simulated PeopleSoft
// ledger (package pstest), the journal on disk, the jobs and the webhook listener.
type district struct {
	t       *testing.T
	clock   *almatest.ManualClock
	alma    *almatest.Server
	library *transport.Drop
	bursar  *transport.Drop
	ps      *ledger
	journal *reconcile.Journal
	deps    reconcile.Deps
	jobs    *reconcile.Jobs
}

func newDistrict(t *testing.T) *district {
	t.Helper()
	ctx := t.Context()
	d := &district{t: t, clock: almatest.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))}
	secret := []byte("webhook-secret")
	d.alma = almatest.NewServer(&almatest.Options{Clock: d.clock, Seed: 7, WebhookSecret: secret})
	t.Cleanup(d.alma.Close)
	client, err := alma.NewClient(d.alma.URL(), d.alma.APIKey(), &alma.ClientOptions{HTTPClient: d.alma.Client(), RatePerSecond: 20, Burst: 5})
	if err != nil {
		t.Fatal(err)
	}
	ftp := ftptest.NewServer(t, nil)
	if d.library, err = ftpdrop.Open(ctx, ftp.Config()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.library.Close() })
	d.bursar = memdrop.New()
	for _, dir := range []string{"exports", "credits", "imports"} {
		if err := d.library.MkdirAll(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"inbound", "outbound"} {
		if err := d.bursar.MkdirAll(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	d.ps = newLedger(d.bursar, d.clock.Now)
	if d.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: d.clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.journal.Close() })
	d.deps = reconcile.Deps{
		Journal: d.journal, Library: d.library, Bursar: d.bursar,
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: peoplesoft.DefaultMapping()},
		Payments: psport.PaymentFormat{Mapping: defaultMapping()}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: client, LostItemsReport: "/shared/Library/Reports/Lost items returned with fees"},
	}
	d.jobs, err = reconcile.New(d.deps, &reconcile.Options{Now: d.clock.Now, TempDir: t.TempDir(), WaiveReason: "LOST_ITEM_FOUND"})
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(alma.NewWebhookHandler(secret, almaport.WebhookCallback(d.jobs), nil))
	t.Cleanup(hook.Close)
	d.alma.SetWebhook(hook.URL, secret)
	return d
}

func (d *district) must(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

// clean fails the test if a job held anything back.
func (d *district) clean(job string, res reconcile.RunResult, err error) reconcile.RunResult {
	d.t.Helper()
	if err != nil {
		d.t.Fatalf("%s: %v", job, err)
	}
	if !res.Clean() {
		d.t.Fatalf("%s held records or failed files: %+v", job, res)
	}
	return res
}

// evening is Alma's 18:00 export and the charges job after it.
func (d *district) evening(ctx context.Context) {
	d.t.Helper()
	d.clock.Set(time.Date(d.clock.Now().Year(), d.clock.Now().Month(), d.clock.Now().Day(), 18, 0, 0, 0, time.UTC))
	_, err := d.alma.RunExport(ctx, d.library, "exports", "BURSAR")
	d.must(err)
	d.clock.Advance(10 * time.Minute)
	res, err := d.jobs.Charges(ctx)
	d.clean("charges", res, err)
	d.must(d.ps.load(ctx))
}

// hourly is the payments path (PeopleSoft → feebridge → Alma's import)
// and the credits path (Alma's credit export → feebridge → PeopleSoft).
func (d *district) hourly(ctx context.Context) {
	d.t.Helper()
	d.clock.Advance(time.Hour)
	_, err := d.ps.flush(ctx)
	d.must(err)
	res, err := d.jobs.Payments(ctx)
	d.clean("payments", res, err)
	imp, err := d.alma.RunImport(ctx, d.library, "imports")
	d.must(err)
	if r := imp.Rejected(); len(r) > 0 {
		d.t.Fatalf("Alma's import rejected %+v", r)
	}
	_, err = d.alma.RunCreditExport(ctx, d.library, "credits", "BURSAR")
	d.must(err)
	res, err = d.jobs.Credits(ctx)
	d.clean("credits", res, err)
	d.must(d.ps.load(ctx))
}

func (d *district) nextMorning() {
	n := d.clock.Now().AddDate(0, 0, 1)
	d.clock.Set(time.Date(n.Year(), n.Month(), n.Day(), 9, 0, 0, 0, time.UTC))
}

func (d *district) fee(user string, typ fees.Type, barcode string) fees.Fee {
	d.t.Helper()
	for _, f := range d.alma.Fees(user) {
		if f.Type == typ && f.Item.Barcode == barcode {
			return f
		}
	}
	d.t.Fatalf("no %s fee for %s on %q", typ, user, barcode)
	return fees.Fee{}
}

// almaOwed is what Alma says each student owes the bursar: the balance
// of every transferred fee.
func (d *district) almaOwed(users ...string) map[string]string {
	out := map[string]string{}
	for _, u := range users {
		sum := fees.Zero(fees.USD)
		for _, f := range d.alma.Fees(u) {
			if f.Status == fees.StatusTransferred || f.Status == fees.StatusClosed {
				sum, _ = sum.Add(f.Balance)
			}
		}
		out[u] = sum.String()
	}
	return out
}

// TestWeekEndsWithAlmaAndPeopleSoftAgreeing plays a week at a district:
// lost items, exports, eServices and cashier payments in full and in part,
// waivers, a refused partial waiver and a returned lost item. At the end
// Alma and PeopleSoft agree to the cent for every student, the report lists
// nothing, and running every job again changes nothing.
func TestWeekEndsWithAlmaAndPeopleSoftAgreeing(t *testing.T) {
	ctx := t.Context()
	d := newDistrict(t)
	a := d.alma
	students := []string{"S1", "S2", "S3", "S4"}
	for i, u := range students {
		d.must(a.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: string(rune('A' + i))}))
	}
	d.must(a.AddItem(almatest.Item{Barcode: "B1", Title: "Organic Chemistry", ReplacementCost: usd("80.00")}))
	d.must(a.AddItem(almatest.Item{Barcode: "B4", Title: "Calculus"}))

	// Monday: S1 and S4 lose their books; S2 has an overdue fine, S3 a
	// damaged book. The evening export sends everything to PeopleSoft.
	loan1, err := a.CheckOut("S1", "B1", d.clock.Now().AddDate(0, 0, 14))
	d.must(err)
	loan4, err := a.CheckOut("S4", "B4", d.clock.Now().AddDate(0, 0, 14))
	d.must(err)
	_, err = a.DeclareLost(loan1)
	d.must(err)
	_, err = a.DeclareLost(loan4)
	d.must(err)
	_, err = a.AddFee("S2", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	d.must(err)
	_, err = a.AddFee("S3", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00"), Barcode: "B4"})
	d.must(err)
	d.evening(ctx)
	if got := d.ps.items(); got != 6 {
		t.Fatalf("PeopleSoft holds %d charges after Monday, want 6", got)
	}

	// Tuesday: S2 pays online in full, S3 pays 15.00 at the cashier.
	d.nextMorning()
	d.must(d.ps.pay(d.fee("S2", fees.TypeOverdueFine, "").TransactionID, usd("5.00"), fees.ChannelEServices, fees.MethodCreditCard))
	d.must(d.ps.pay(d.fee("S3", fees.TypeDamagedItemFine, "B4").TransactionID, usd("15.00"), fees.ChannelCashier, fees.MethodCash))
	d.hourly(ctx)
	if f := d.fee("S3", fees.TypeDamagedItemFine, "B4"); !f.Balance.Equal(usd("25.00")) || f.Status != fees.StatusTransferred {
		t.Errorf("S3's fine after a partial payment: %s %s", f.Status, f.Balance)
	}
	if f := d.fee("S2", fees.TypeOverdueFine, ""); f.Status != fees.StatusClosed {
		t.Errorf("S2's fine after the full payment: %s", f.Status)
	}

	// Wednesday: S3 pays the rest by check. S4 and the library agree on
	// 50.00 for the lost book: a partial waiver is refused (R5), so S4
	// pays 50.00 at the cashier, Alma shows it, then staff waive the rest.
	d.nextMorning()
	d.must(d.ps.pay(d.fee("S3", fees.TypeDamagedItemFine, "B4").TransactionID, usd("25.00"), fees.ChannelCashier, fees.MethodCheck))
	repl := d.fee("S4", fees.TypeLostItemReplacementFee, "B4")
	if _, err := a.Waive("S4", repl.ID, usd("10.00"), "OTHER", "agreed"); fees.ErrorCode(err) != fees.EPARTIALWAIVE {
		t.Fatalf("partial waiver of a transferred fee: err = %v, want %s", err, fees.EPARTIALWAIVE)
	}
	d.must(d.ps.pay(repl.TransactionID, usd("50.00"), fees.ChannelCashier, fees.MethodCash))
	d.hourly(ctx)
	repl = d.fee("S4", fees.TypeLostItemReplacementFee, "B4")
	_, err = a.Waive("S4", repl.ID, repl.Balance, "OTHER", "agreed settlement")
	d.must(err)
	d.hourly(ctx)

	// Thursday: S1 finds the lost book and returns it. The webhook waives
	// both lost-item fees and lifts the block; the waivers flow to
	// PeopleSoft within the hour.
	d.nextMorning()
	_, err = a.Return("B1")
	d.must(err)
	if n := a.RunDue(ctx); n == 0 {
		t.Fatal("no webhook delivered")
	}
	for _, typ := range []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee} {
		if f := d.fee("S1", typ, "B1"); f.Status != fees.StatusClosed {
			t.Errorf("S1's %s after the return: %s %s", typ, f.Status, f.Balance)
		}
	}
	for _, b := range a.Blocks("S1") {
		if b.Status == "ACTIVE" {
			t.Errorf("S1 still blocked: %+v", b)
		}
	}
	d.hourly(ctx)

	// Friday: S4 pays the processing fee online.
	d.nextMorning()
	d.must(d.ps.pay(d.fee("S4", fees.TypeLostItemProcessFee, "B4").TransactionID, d.fee("S4", fees.TypeLostItemProcessFee, "B4").Balance,
		fees.ChannelEServices, fees.MethodCreditCard))
	d.hourly(ctx)
	d.evening(ctx)
	d.hourly(ctx)

	// Alma and PeopleSoft agree to the cent for every student.
	if diff := cmp.Diff(d.almaOwed(students...), d.ps.owed()); diff != "" {
		t.Errorf("Alma and PeopleSoft disagree (-alma +peoplesoft):\n%s", diff)
	}
	// Every payment PeopleSoft wrote was forwarded to Alma, to the cent.
	fwd, err := d.journal.Records(ctx, reconcile.KindPayment, reconcile.OutcomeForwarded)
	d.must(err)
	sum := fees.Zero(fees.USD)
	for _, r := range fwd {
		sum, _ = sum.Add(r.Amount)
	}
	if tot := d.ps.l.Totals(); !tot.PaidWritten.Equal(sum) || tot.Exceptions != 0 {
		t.Errorf("PeopleSoft wrote %s in payments (exceptions %d); feebridge forwarded %s", tot.PaidWritten, tot.Exceptions, sum)
	}
	rec, err := d.jobs.Reconcile(ctx, d.ps)
	d.must(err)
	if !rec.Agree() || rec.Students != 4 || rec.Fees != 6 {
		t.Errorf("reconciliation: %+v", rec)
	}
	rep, err := d.jobs.Report(ctx)
	d.must(err)
	if n := rep.Report.Exceptions(); n != 0 {
		t.Errorf("report lists %d exceptions: %+v", n, rep.Report)
	}
	// Friday's totals hold only Friday's payment: S4's processing fee.
	if got, want := rep.Report.Totals.Paid["ESERVICES"], d.fee("S4", fees.TypeLostItemProcessFee, "B4").Original; !got.Equal(want) {
		t.Errorf("Friday's eServices total = %s, want %s", got, want)
	}

	// Every job run again changes nothing.
	before := d.ps.owed()
	files, _ := d.journal.Files(ctx, "")
	for name, run := range map[string]func(context.Context) (reconcile.RunResult, error){
		"charges": d.jobs.Charges, "payments": d.jobs.Payments, "credits": d.jobs.Credits,
	} {
		res, err := run(ctx)
		if err != nil || res.Files != 0 || res.Records != 0 {
			t.Errorf("%s run again: %+v, %v", name, res, err)
		}
	}
	d.must(d.ps.load(ctx))
	after, _ := d.journal.Files(ctx, "")
	if len(after) != len(files) || cmp.Diff(before, d.ps.owed()) != "" {
		t.Errorf("a second run changed something")
	}
}

// defaultMapping is the reference mapping, for the payment reader to map
// item types back to fee types.
func defaultMapping() *peoplesoft.Mapping {
	m := peoplesoft.DefaultMapping()
	return &m
}
