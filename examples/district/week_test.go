package district_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// world is a district with feesync's jobs plugged in, as the end-to-end
// tests drive it step by step: the jobs over the district's FTP folder
// and PeopleSoft's folders, the journal on disk, and the webhook listener
// handing Alma's events to the lost-returns handler.
type world struct {
	*district.District
	t       *testing.T
	journal *reconcile.Journal
	jobs    *reconcile.Jobs
	feesync district.Feesync
	client  *alma.Client
}

// newWorld opens a district whose clock stands at 08:00 on Monday 2 March
// 2026, with the jobs of feesync wired to the reference adapters.
func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{t: t}
	d, err := district.Open(ctx, &district.Options{
		Dir: t.TempDir(), Seed: 7, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Webhook: func(ctx context.Context, ev alma.Event) error { return almaport.WebhookCallback(w.jobs)(ctx, ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w.District = d
	d.Clock().Set(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	client, err := alma.NewClient(d.Alma().URL(), d.Secrets().APIKey, &alma.ClientOptions{
		HTTPClient: d.Alma().Client(), RatePerSecond: 20, Burst: 5})
	if err != nil {
		t.Fatal(err)
	}
	if w.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: d.Clock().Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.journal.Close() })
	w.client = client
	w.openJobs(district.Mapping())
	return w
}

// openJobs builds feesync's jobs with mapping, as a feesync process does
// when it starts with its configuration.
func (w *world) openJobs(mapping peoplesoft.Mapping) {
	w.t.Helper()
	d := w.District
	var err error
	w.jobs, err = reconcile.New(reconcile.Deps{
		Journal: w.journal, Library: d.Library(), Bursar: d.Bursar(),
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: w.client, LostItemsReport: "/shared/Library/Reports/Lost items returned with fees"},
	}, &reconcile.Options{Now: d.Clock().Now, TempDir: w.t.TempDir(), WaiveReason: district.WaiveReason})
	w.must(err)
	w.feesync = district.Jobs(w.jobs, w.journal)
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) evening() { w.t.Helper(); w.must(w.Evening(w.t.Context(), w.feesync)) }
func (w *world) hourly()  { w.t.Helper(); w.must(w.Hour(w.t.Context(), w.feesync)) }

func (w *world) pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method) {
	w.t.Helper()
	_, err := w.PeopleSoft().Pay(ref, amount, ch, m)
	w.must(err)
}

func (w *world) fee(user string, typ fees.Type, barcode string) fees.Fee {
	w.t.Helper()
	for _, f := range w.Alma().Fees(user) {
		if f.Type == typ && f.Item.Barcode == barcode {
			return f
		}
	}
	w.t.Fatalf("no %s fee for %s on %q", typ, user, barcode)
	return fees.Fee{}
}

// almaOwed is what Alma says each student owes the bursar: the balance
// of every transferred fee.
func (w *world) almaOwed(users ...string) map[string]string {
	out := map[string]string{}
	for _, u := range users {
		sum := fees.Zero(fees.USD)
		for _, f := range w.Alma().Fees(u) {
			if f.Status == fees.StatusTransferred || f.Status == fees.StatusClosed {
				sum, _ = sum.Add(f.Balance)
			}
		}
		out[u] = sum.String()
	}
	return out
}

// psOwed is what PeopleSoft's ledger says each student owes.
func (w *world) psOwed() map[string]string {
	bal, err := w.PeopleSoft().Balances(w.t.Context())
	w.must(err)
	out := map[string]string{}
	for s, m := range bal {
		out[s] = m.String()
	}
	return out
}

// TestWeekEndsWithAlmaAndPeopleSoftAgreeing plays a week at a district,
// step by step: lost items, exports, eServices and cashier payments in full
// and in part, waivers, a refused partial waiver and a returned lost item.
// At the end Alma and PeopleSoft agree to the cent for every student, the
// report lists nothing, and running every job again changes nothing.
func TestWeekEndsWithAlmaAndPeopleSoftAgreeing(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	a := w.Alma()
	students := []string{"S1", "S2", "S3", "S4"}
	for i, u := range students {
		w.must(a.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: string(rune('A' + i))}))
	}
	w.must(a.AddItem(almatest.Item{Barcode: "B1", Title: "Organic Chemistry", ReplacementCost: usd("80.00")}))
	w.must(a.AddItem(almatest.Item{Barcode: "B4", Title: "Calculus"}))

	// Monday: S1 and S4 lose their books; S2 has an overdue fine, S3 a
	// damaged book. The evening export sends everything to PeopleSoft.
	now := w.Clock().Now()
	loan1, err := a.CheckOut("S1", "B1", now.AddDate(0, 0, 14))
	w.must(err)
	loan4, err := a.CheckOut("S4", "B4", now.AddDate(0, 0, 14))
	w.must(err)
	_, err = a.DeclareLost(loan1)
	w.must(err)
	_, err = a.DeclareLost(loan4)
	w.must(err)
	_, err = a.AddFee("S2", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	w.must(err)
	_, err = a.AddFee("S3", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00"), Barcode: "B4"})
	w.must(err)
	w.evening()
	if got := len(w.PeopleSoft().Items()); got != 6 {
		t.Fatalf("PeopleSoft holds %d charges after Monday, want 6", got)
	}

	// Tuesday: S2 pays online in full, S3 pays 15.00 at the cashier.
	w.NextMorning()
	w.pay(w.fee("S2", fees.TypeOverdueFine, "").TransactionID, usd("5.00"), fees.ChannelEServices, fees.MethodCreditCard)
	w.pay(w.fee("S3", fees.TypeDamagedItemFine, "B4").TransactionID, usd("15.00"), fees.ChannelCashier, fees.MethodCash)
	w.hourly()
	if f := w.fee("S3", fees.TypeDamagedItemFine, "B4"); !f.Balance.Equal(usd("25.00")) || f.Status != fees.StatusTransferred {
		t.Errorf("S3's fine after a partial payment: %s %s", f.Status, f.Balance)
	}
	if f := w.fee("S2", fees.TypeOverdueFine, ""); f.Status != fees.StatusClosed {
		t.Errorf("S2's fine after the full payment: %s", f.Status)
	}

	// Wednesday: S3 pays the rest by check. S4 and the library agree on
	// 50.00 for the lost book: a partial waiver is refused (R5), so S4
	// pays 50.00 at the cashier, Alma shows it, then staff waive the rest.
	w.NextMorning()
	w.pay(w.fee("S3", fees.TypeDamagedItemFine, "B4").TransactionID, usd("25.00"), fees.ChannelCashier, fees.MethodCheck)
	repl := w.fee("S4", fees.TypeLostItemReplacementFee, "B4")
	if _, err := a.Waive("S4", repl.ID, usd("10.00"), "OTHER", "agreed"); fees.ErrorCode(err) != fees.EPARTIALWAIVE {
		t.Fatalf("partial waiver of a transferred fee: err = %v, want %s", err, fees.EPARTIALWAIVE)
	}
	w.pay(repl.TransactionID, usd("50.00"), fees.ChannelCashier, fees.MethodCash)
	w.hourly()
	repl = w.fee("S4", fees.TypeLostItemReplacementFee, "B4")
	_, err = a.Waive("S4", repl.ID, repl.Balance, "OTHER", "agreed settlement")
	w.must(err)
	w.hourly()

	// Thursday: S1 finds the lost book and returns it. The webhook waives
	// both lost-item fees and lifts the block; the waivers flow to
	// PeopleSoft within the hour.
	w.NextMorning()
	_, err = a.Return("B1")
	w.must(err)
	if n, err := w.DeliverWebhooks(ctx, w.feesync); err != nil || n == 0 {
		t.Fatal("no webhook delivered")
	}
	for _, typ := range []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee} {
		if f := w.fee("S1", typ, "B1"); f.Status != fees.StatusClosed {
			t.Errorf("S1's %s after the return: %s %s", typ, f.Status, f.Balance)
		}
	}
	for _, b := range a.Blocks("S1") {
		if b.Status == "ACTIVE" {
			t.Errorf("S1 still blocked: %+v", b)
		}
	}
	w.hourly()

	// Friday: S4 pays the processing fee online.
	w.NextMorning()
	proc := w.fee("S4", fees.TypeLostItemProcessFee, "B4")
	w.pay(proc.TransactionID, proc.Balance, fees.ChannelEServices, fees.MethodCreditCard)
	w.hourly()
	w.evening()
	w.hourly()

	// Alma and PeopleSoft agree to the cent for every student.
	if diff := cmp.Diff(w.almaOwed(students...), w.psOwed()); diff != "" {
		t.Errorf("Alma and PeopleSoft disagree (-alma +peoplesoft):\n%s", diff)
	}
	// Every payment PeopleSoft wrote was forwarded to Alma, to the cent.
	fwd, err := w.journal.Records(ctx, reconcile.KindPayment, reconcile.OutcomeForwarded)
	w.must(err)
	sum := fees.Zero(fees.USD)
	for _, r := range fwd {
		sum, _ = sum.Add(r.Amount)
	}
	if tot := w.PeopleSoft().Ledger().Totals(); !tot.PaidWritten.Equal(sum) || tot.Exceptions != 0 {
		t.Errorf("PeopleSoft wrote %s in payments (exceptions %d); feebridge forwarded %s", tot.PaidWritten, tot.Exceptions, sum)
	}
	rec, err := w.jobs.Reconcile(ctx, w.PeopleSoft())
	w.must(err)
	if !rec.Agree() || rec.Students != 4 || rec.Fees != 6 {
		t.Errorf("reconciliation: %+v", rec)
	}
	// Saturday morning's report covers Friday.
	w.NextMorning()
	rep, err := w.jobs.Report(ctx)
	w.must(err)
	if n := rep.Report.Exceptions(); n != 0 {
		t.Errorf("report lists %d exceptions: %+v", n, rep.Report)
	}
	// Friday's totals hold only Friday's payment: S4's processing fee.
	if got, want := rep.Report.Totals.Paid["ESERVICES"], proc.Original; !got.Equal(want) {
		t.Errorf("Friday's eServices total = %s, want %s", got, want)
	}
	if p := w.Problems(); len(p) != 0 {
		t.Errorf("problems on Alma's or PeopleSoft's side: %q", p)
	}

	// Every job run again changes nothing.
	before := w.psOwed()
	files, _ := w.journal.Files(ctx, "")
	for name, run := range map[string]func(context.Context) (reconcile.RunResult, error){
		"charges": w.jobs.Charges, "payments": w.jobs.Payments, "credits": w.jobs.Credits,
	} {
		res, err := run(ctx)
		if err != nil || res.Files != 0 || res.Records != 0 {
			t.Errorf("%s run again: %+v, %v", name, res, err)
		}
	}
	if res, err := w.PeopleSoft().Load(ctx); err != nil || res.Files != 0 {
		t.Errorf("PeopleSoft's load run again: %+v, %v", res, err)
	}
	after, _ := w.journal.Files(ctx, "")
	if len(after) != len(files) || cmp.Diff(before, w.psOwed()) != "" {
		t.Errorf("a second run changed something")
	}
}
