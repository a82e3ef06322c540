package almaport_test

import (
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	"github.com/feebridge/feebridge/transport/memdrop"
	"github.com/google/go-cmp/cmp"
)

const openFeesReport = "/shared/Feebridge College/Reports/feebridge open fees"

// month is a fake Alma serving the open fees report (refreshed at 02:00),
// a journal, and two sets of jobs on them: bulk reads the report, each
// asks about every student.
type month struct {
	t       *testing.T
	clock   *almatest.ManualClock
	alma    *almatest.Server
	lib     *transport.Drop
	journal *reconcile.Journal
	bulk    *reconcile.Jobs
	each    *reconcile.Jobs
	start   time.Time // day 0, midnight
	fees    map[string]fees.Fee
	calls   *callLog
}

// callLog counts the client's requests by path (the fake counts them by
// route, without the user).
type callLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.Method+" "+strings.TrimPrefix(r.URL.Path, almatest.BasePath+"/")]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// take returns the counts so far and starts again.
func (c *callLog) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	return n
}

func newMonth(t *testing.T, students int) *month {
	t.Helper()
	ctx := t.Context()
	m := &month{t: t, start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), fees: map[string]fees.Fee{}}
	m.clock = almatest.NewManualClock(m.start.Add(8 * time.Hour))
	m.alma = almatest.NewServer(&almatest.Options{Clock: m.clock, Faults: almatest.Faults{PerSecond: -1},
		Analytics: &almatest.AnalyticsOptions{FeesReportPath: openFeesReport}})
	t.Cleanup(m.alma.Close)
	m.calls = &callLog{next: m.alma.Client().Transport}
	client, err := alma.NewClient(m.alma.URL(), m.alma.APIKey(), &alma.ClientOptions{HTTPClient: &http.Client{Transport: m.calls},
		RatePerSecond: math.Inf(1)})
	m.must(err)
	m.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: m.clock.Now})
	m.must(err)
	t.Cleanup(func() { m.journal.Close() })
	m.lib = memdrop.New()
	bursar := memdrop.New()
	for _, dir := range []string{"exports", "credits", "imports", "reports"} {
		m.must(m.lib.MkdirAll(ctx, dir))
	}
	for _, dir := range []string{"inbound", "outbound"} {
		m.must(bursar.MkdirAll(ctx, dir))
	}
	mapping := peoplesoft.DefaultMapping()
	deps := reconcile.Deps{Journal: m.journal, Library: m.lib, Bursar: bursar,
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: client, FeesReport: openFeesReport}}
	opts := &reconcile.Options{Now: m.clock.Now, TempDir: t.TempDir(), AlmaWorkers: 1}
	m.bulk, err = reconcile.New(deps, opts)
	m.must(err)
	deps.Alma = almaport.AlmaAPI{Client: client}
	m.each, err = reconcile.New(deps, opts)
	m.must(err)
	for i := 1; i <= students; i++ {
		u := fmt.Sprintf("S%02d", i)
		m.must(m.alma.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}))
		m.add(u, fees.TypeOverdueFine, "5.00")
		if i%2 == 0 {
			m.add(u, fees.TypeDamagedItemFine, "40.00")
		}
	}
	m.at(0, 18, 0)
	_, err = m.alma.RunExport(ctx, m.lib, "exports", "BURSAR")
	m.must(err)
	m.at(0, 18, 30)
	_, err = m.bulk.Charges(ctx)
	m.must(err)
	return m
}

func (m *month) must(err error) {
	m.t.Helper()
	if err != nil {
		m.t.Fatal(err)
	}
}

func (m *month) add(u string, typ fees.Type, amount string) fees.Fee {
	f, err := m.alma.AddFee(u, almatest.FeeSpec{Type: typ, Amount: usd(amount)})
	m.must(err)
	m.fees[u+"/"+string(typ)] = f
	return f
}

// at sets the clock to day d at hh:mm.
func (m *month) at(d, hh, mm int) {
	m.clock.Set(m.start.AddDate(0, 0, d).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute))
}

// reconcile runs the reconciliation with jobs and returns its
// disagreements as "user: problem" lines, and the calls it made: to the
// report, and the students whose fees were listed.
func (m *month) reconcile(jobs *reconcile.Jobs) (ds []reconcile.Disagreement, reportCalls int, asked map[string]int) {
	m.t.Helper()
	m.calls.take()
	res, err := jobs.Reconcile(m.t.Context(), nil)
	m.must(err)
	asked = map[string]int{}
	for route, n := range m.calls.take() {
		switch {
		case n == 0 || route == "":
		case route == "GET analytics/reports":
			reportCalls = n
		case strings.HasPrefix(route, "GET users/") && strings.HasSuffix(route, "/fees"):
			asked[strings.TrimSuffix(strings.TrimPrefix(route, "GET users/"), "/fees")] = n
		default:
			m.t.Errorf("unexpected call %s ×%d", route, n)
		}
	}
	return res.Disagreements, reportCalls, asked
}

func problems(ds []reconcile.Disagreement) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.UserID+": "+d.Problem)
	}
	return out
}

// TestMonthWithTheOpenFeesReport runs a month of nightly reconciliations
// with the open fees report, injecting a disagreement of every kind. The
// bulk path finds each one, and nothing else, with one report call a
// night plus the detail calls of exactly the disagreeing students and
// those whose journal records changed after the report's refresh; and it
// finds what the per-student path finds, except a change Alma made after
// the refresh, which it finds the next night.
func TestMonthWithTheOpenFeesReport(t *testing.T) {
	ctx := t.Context()
	m := newMonth(t, 40)
	s03 := m.fees["S03/"+string(fees.TypeOverdueFine)]
	type want struct {
		problems []string
		asked    []string // students asked about in detail
	}
	var expect []string // the disagreements found so far, for the next nights
	for day := 1; day <= 30; day++ {
		w := want{}
		switch day {
		case 9:
			// 04:00, after the 02:00 refresh: S09 pays 5.00 at the desk in
			// Alma on a transferred fee. Tonight's report cannot know it.
			m.at(day, 4, 0)
			_, err := m.alma.PayAtDesk("S09", m.fees["S09/"+string(fees.TypeOverdueFine)].ID, usd("5.00"), "CASH", "")
			m.must(err)
		case 11:
			// 04:00: staff waive S11's fee in Alma; the credit export and
			// the credits job journal it at 04:35: changed after the
			// refresh, confirmed in detail, and it agrees.
			m.at(day, 4, 0)
			_, err := m.alma.Waive("S11", m.fees["S11/"+string(fees.TypeOverdueFine)].ID, usd("5.00"), "LIBRARY_ERROR", "")
			m.must(err)
			_, err = m.alma.RunCreditExport(ctx, m.lib, "credits", "BURSAR")
			m.must(err)
			m.at(day, 4, 35)
			_, err = m.bulk.Credits(ctx)
			m.must(err)
			w.asked = append(w.asked, "S11")
		case 13:
			// 01:00, before the refresh: S13 pays in full at the desk; S13
			// is no longer in the report, the journal still expects 5.00.
			m.at(day, 1, 0)
			_, err := m.alma.PayAtDesk("S13", m.fees["S13/"+string(fees.TypeOverdueFine)].ID, usd("5.00"), "CASH", "")
			m.must(err)
			expect = append(expect, "S13: Alma shows 0.00 USD left, the bursar holds 5.00 USD")
		case 15:
			// 01:00: S15 pays 2.00 at the desk in Alma (the 02:00 report
			// shows 3.00 left); 04:00: a cashier payment of 2.00 reaches
			// the journal (3.00 left): the report and the journal agree by
			// chance, but the journal changed after the refresh, so S15 is
			// asked about in detail (and Alma, which has not imported the
			// payment, shows 3.00 too: no disagreement).
			s15 := m.fees["S15/"+string(fees.TypeOverdueFine)]
			m.at(day, 1, 0)
			_, err := m.alma.PayAtDesk("S15", s15.ID, usd("2.00"), "CASH", "")
			m.must(err)
			m.at(day, 4, 0)
			m.must(m.journal.Put(ctx, reconcile.Record{Kind: reconcile.KindPayment, Key: "R15/T15/OVERDUEFINE", Outcome: reconcile.OutcomeForwarded,
				UserID: "S15", FeeID: s15.ID, FeeType: s15.Type, Amount: usd("2.00"), Ref: fees.ChargeKey(s15.TransactionID, s15.Type),
				Channel: "cashier", Updated: m.clock.Now(), Created: m.clock.Now()}))
			w.asked = append(w.asked, "S15")
		}
		switch day { // found from this night on
		case 4:
			expect = append(expect, "S03: Alma shows 5.00 USD left, the bursar holds 3.00 USD")
		case 6:
			expect = append(expect, "S05: charged to the bursar, unknown to Alma")
		case 8:
			expect = append(expect, "S07: transferred in Alma, never sent to the bursar")
		case 10:
			expect = append(expect, "S09: Alma shows 0.00 USD left, the bursar holds 5.00 USD")
		}
		slices.Sort(expect)
		w.problems = slices.Clone(expect)
		for _, p := range expect {
			w.asked = append(w.asked, p[:3])
		}
		slices.Sort(w.asked)
		w.asked = slices.Compact(w.asked)

		m.at(day, 6, 30)
		got, reportCalls, asked := m.reconcile(m.bulk)
		if d := cmp.Diff(w.problems, problems(got)); d != "" {
			t.Errorf("day %d: disagreements (-want +got):\n%s", day, d)
		}
		if names := slices.Sorted(mapsKeys(asked)); reportCalls != 1 || !slices.Equal(names, w.asked) {
			t.Errorf("day %d: %d report calls and detail calls for %v (%v); want 1 and %v", day, reportCalls, names, asked, w.asked)
		}
		perStudent, _, _ := m.reconcile(m.each)
		if day == 9 {
			if d := cmp.Diff(append(slices.Clone(w.problems), "S09: Alma shows 0.00 USD left, the bursar holds 5.00 USD"),
				problems(perStudent), cmpSorted); d != "" {
				t.Errorf("day 9: per-student disagreements (-want +got):\n%s", d)
			}
		} else if d := cmp.Diff(perStudent, got); d != "" {
			t.Errorf("day %d: per-student and bulk paths differ (-per-student +bulk):\n%s", day, d)
		}

		// Injected at 10:00, after tonight's run; the bulk path sees them
		// the next night, by the report's figures alone.
		m.at(day, 10, 0)
		switch day {
		case 3: // a payment forwarded to Alma that Alma never applied
			m.must(m.journal.Put(ctx, reconcile.Record{Kind: reconcile.KindPayment, Key: "R9/T9/OVERDUEFINE", Outcome: reconcile.OutcomeForwarded,
				UserID: "S03", FeeID: s03.ID, FeeType: s03.Type, Amount: usd("2.00"), Ref: fees.ChargeKey(s03.TransactionID, s03.Type),
				Channel: "cashier", Updated: m.clock.Now(), Created: m.clock.Now()}))
		case 5: // a charge Alma does not know
			m.must(m.journal.Put(ctx, reconcile.Record{Kind: reconcile.KindCharge, Key: fees.ChargeKey("77777", fees.TypeOverdueFine),
				Outcome: reconcile.OutcomeCharged, UserID: "S05", FeeID: "77777", FeeType: fees.TypeOverdueFine, Amount: usd("7.00"),
				Updated: m.clock.Now(), Created: m.clock.Now()}))
		case 7: // a fee transferred in Alma, never sent to the bursar
			m.add("S07", fees.TypeDamagedItemFine, "12.00")
			_, err := m.alma.RunExport(ctx, memdrop.New(), "exports", "BURSAR")
			m.must(err)
		}
	}
}

var cmpSorted = cmp.Transformer("sorted", func(in []string) []string { return slices.Sorted(slices.Values(in)) })

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestReturnedLostItemsFromTheOpenFeesReport: the daily report finds the
// returned lost items with fees in the open fees report, in one call.
func TestReturnedLostItemsFromTheOpenFeesReport(t *testing.T) {
	ctx := t.Context()
	m := newMonth(t, 2)
	m.must(m.alma.AddItem(almatest.Item{Barcode: "B1", Title: "Lost and found"}))
	m.must(m.alma.AddItem(almatest.Item{Barcode: "B2", Title: "Still lost"}))
	var lostFees []fees.Fee
	for _, bc := range []string{"B1", "B2"} {
		loan, err := m.alma.CheckOut("S01", bc, m.clock.Now().Add(24*time.Hour))
		m.must(err)
		fs, err := m.alma.DeclareLost(loan)
		m.must(err)
		lostFees = append(lostFees, fs...)
	}
	_, err := m.alma.Return("B1") // the webhook was never heard: the fees stay
	m.must(err)
	m.at(1, 7, 0)
	before := m.alma.APICalls()
	rep, err := m.bulk.BuildReport(ctx, m.clock.Now())
	m.must(err)
	var got []string
	for _, f := range rep.ReturnedWithFees {
		got = append(got, f.Item.Barcode+" "+string(f.Type))
	}
	slices.Sort(got)
	if want := []string{"B1 LOSTITEMPROCESSFEE", "B1 LOSTITEMREPLACEMENTFEE"}; !slices.Equal(got, want) {
		t.Errorf("returned lost items %v, want %v (fees %d)", got, want, len(lostFees))
	}
	calls := m.alma.APICalls()
	if n := calls["GET analytics/reports"] - before["GET analytics/reports"]; n != 1 {
		t.Errorf("%d report calls, want 1", n)
	}
	for route, n := range calls {
		if strings.Contains(route, "items") && n != before[route] {
			t.Errorf("%s called %d times: the report has the items' process type", route, n-before[route])
		}
	}

	// 07:30: the lost-returns handler waives the replacement fee (its
	// journal record); the report, refreshed at 02:00, still shows the fee
	// open, but the daily report no longer lists it.
	m.at(1, 7, 30)
	for _, f := range lostFees {
		if f.Item.Barcode == "B1" && f.Type == fees.TypeLostItemReplacementFee {
			m.must(m.journal.Put(ctx, reconcile.Record{Kind: reconcile.KindWaiver, Key: "ev1/" + f.ID, Outcome: reconcile.OutcomeWaived,
				UserID: "S01", FeeID: f.ID, FeeType: f.Type, Barcode: "B1", Amount: f.Balance, Updated: m.clock.Now()}))
		}
	}
	rep, err = m.bulk.BuildReport(ctx, m.clock.Now())
	m.must(err)
	if len(rep.ReturnedWithFees) != 1 || rep.ReturnedWithFees[0].Type != fees.TypeLostItemProcessFee {
		t.Errorf("after the waiver: %+v, want the process fee alone", rep.ReturnedWithFees)
	}
}
