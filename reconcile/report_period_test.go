package reconcile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// morning is 06:00 on the day after day(n).
func morning(n int) time.Time { return day(n + 1).Add(-6 * time.Hour) }

// TestReportCoversThePreviousDay: the report written at 06:00 counts the
// charges sent the day before (the old report covered the day that
// contains its time, and showed nothing at 06:00).
func TestReportCoversThePreviousDay(t *testing.T) {
	e := newEnv(t)
	charged(t, e) // Monday 12:00: 3 charges
	e.now = morning(0)
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Totals.Charged.Equal(usd("135.82")) {
		t.Errorf("charged = %s, want Monday's 135.82", rep.Totals.Charged)
	}
	if want := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC); !rep.From.Equal(want) || !rep.To.Equal(want.AddDate(0, 0, 1)) {
		t.Errorf("period %s – %s, want Monday", rep.From, rep.To)
	}
	if got, want := rep.Period(), "Monday 2 March 2026 00:00 – Tuesday 3 March 2026 00:00 (UTC)"; got != want {
		t.Errorf("period %q, want %q", got, want)
	}
	if f := rep.Flows[0]; f.Flow != "F2" || f.Count != 3 || !f.Amount.Equal(usd("135.82")) {
		t.Errorf("F2 = %+v, want 3 charges, 135.82", f)
	}
	// The morning after, Monday is no longer in the period.
	e.now = morning(1)
	if rep, _ = e.jobs(nil).BuildReport(t.Context(), e.now); !rep.Totals.Charged.IsZero() || rep.Flows[0].Count != 0 {
		t.Errorf("Wednesday's report counts Monday's charges: %+v", rep.Flows[0])
	}
}

// TestReportSinceTheLastReport: after days without a report (a weekend),
// the report covers everything since the last report that did not fail,
// at most MaxReportDays.
func TestReportSinceTheLastReport(t *testing.T) {
	e := newEnv(t)
	charged(t, e) // Monday 12:00
	add := func(at time.Time, outcome string) {
		t.Helper()
		if _, err := e.journal.AddRun(t.Context(), journal.Run{Job: reconcile.JobReport, Started: at, Ended: at.Add(time.Minute),
			Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	add(morning(-1), journal.RunOK)    // Monday 06:00: covered Sunday
	add(morning(0), journal.RunFailed) // Tuesday's failed: it does not count
	e.now = morning(2)                 // Thursday 06:00
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC); !rep.From.Equal(want) || !rep.To.Equal(want.AddDate(0, 0, 3)) {
		t.Errorf("period %s – %s, want Monday to Thursday", rep.From, rep.To)
	}
	if !rep.Totals.Charged.Equal(usd("135.82")) {
		t.Errorf("charged = %s, want Monday's 135.82", rep.Totals.Charged)
	}
	// A report run of yesterday morning: back to one day.
	add(morning(1), journal.RunHeld)
	if rep, _ = e.jobs(nil).BuildReport(t.Context(), e.now); !rep.From.Equal(rep.To.AddDate(0, 0, -1)) {
		t.Errorf("period %s – %s, want one day", rep.From, rep.To)
	}
	// Months without a report: MaxReportDays at most.
	e2 := newEnv(t)
	e2.now = morning(0)
	if _, err := e2.journal.AddRun(t.Context(), journal.Run{Job: reconcile.JobReport, Started: morning(-90),
		Ended: morning(-90), Outcome: journal.RunOK}); err != nil {
		t.Fatal(err)
	}
	rep, _ = e2.jobs(nil).BuildReport(t.Context(), e2.now)
	if got := rep.To.Sub(rep.From); got != reconcile.MaxReportDays*24*time.Hour {
		t.Errorf("period of %s, want %d days", got, reconcile.MaxReportDays)
	}
	// The schedule shows the last report run; charges were never recorded.
	for _, s := range rep.Schedule {
		if s.Job == reconcile.JobReport && (!s.Recorded() || !s.Last.Started.Equal(morning(-90))) ||
			s.Job == reconcile.JobCharges && s.Recorded() {
			t.Errorf("schedule: %+v", s)
		}
	}
}

// TestReportShowsEveryTotal: on a day when nothing flowed, every flow F2
// to F5 and both payment channels are in the CSV and the HTML, with 0
// and 0.00 (the old report left the totals blank).
func TestReportShowsEveryTotal(t *testing.T) {
	e := newEnv(t)
	e.now = morning(0)
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	var csv, html bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"what flowed,F2,,,,,,,0,0.00,Charges sent to the bursar",
		"what flowed,F3,,,ESERVICES,,,,0,0.00,Payments forwarded to Alma (ESERVICES)",
		"what flowed,F3,,,CASHIER,,,,0,0.00,Payments forwarded to Alma (CASHIER)",
		"what flowed,F4,,,,,,,0,0.00,Credits and waivers sent to the bursar",
		"what flowed,F5,,,,,,,0,0.00,Lost items returned: fees waived in Alma",
		"schedule,charges,,,,,,,,,no run recorded",
	} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv.String())
		}
	}
	if n := strings.Count(html.String(), `data-label="Amount">0.00</td>`); n != 5 {
		t.Errorf("HTML has %d zero amounts in what flowed, want 5", n)
	}
	for _, want := range []string{"1. Needs staff", "2. What flowed", "3. The schedule", "Nothing needs staff."} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestReportWordsForStaff: each exception row says in plain words what
// happened and what to do, and names student, fee, file and line; the
// key stays, in its own column.
func TestReportWordsForStaff(t *testing.T) {
	for _, tt := range []struct{ code, reason, want string }{
		{"", `peoplesoft: ps_payments_20261204.csv:7: PAYMENT_DATE: bad date: "2026/12/04": want the layout "2006-01-02"`,
			"its date 2026/12/04 is not a date (YYYY-MM-DD expected)"},
		{"", `peoplesoft: ps.csv:3: ITEM_AMT: bad amount: "12,50"`, "its amount 12,50 is not an amount (such as 12.50)"},
		{fees.EPARTIALWAIVE, "rule R5: fee F1: waiver of 10.00 USD is not the whole 40.00 USD",
			"a fee sent to the bursar can only be waived in full (rule R5), and this waiver is partial (fee F1: waiver of 10.00 USD is not the whole 40.00 USD)"},
		{fees.ECONFLICT, "payment R1 at a.csv line 2 conflicts with …", "it arrived again with other details than the first time"},
		{"", "something nobody foresaw", "something nobody foresaw"},
	} {
		if got := reconcile.PlainReason(tt.code, tt.reason); got != tt.want {
			t.Errorf("PlainReason(%q, %q) = %q, want %q", tt.code, tt.reason, got, tt.want)
		}
	}
	rep := reconcile.Report{Held: []reconcile.Record{{Kind: reconcile.KindPayment, Key: "R7/T123", UserID: "S345", FeeID: "123",
		Amount: usd("12.50"), File: "ps_payments_20261204.csv", Line: 7,
		Reason: `peoplesoft: ps_payments_20261204.csv:7: PAYMENT_DATE: bad date: "2026/12/04": want the layout "2006-01-02"`}}}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Payment of 12.50 for fee 123 (student S345) in ps_payments_20261204.csv line 7 was held: its date 2026/12/04 is not a date (YYYY-MM-DD expected).",
		"Have the file fixed at the bursar office, then run `feesync redrive R7/T123`.",
		",R7/T123,",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("CSV lacks %q:\n%s", want, b.String())
		}
	}
}

// TestReportPartialWhenAlmaIsDown: when Alma cannot be reached the report
// is still written from the journal (held records, totals), marked
// partial in CSV, HTML and mail text; the old report was not written.
func TestReportPartialWhenAlmaIsDown(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.put(e.library, "exports/alma-1.xml", "fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T5|S005|F5|DAMAGEDITEMFINE|B500|5.00", "end|2")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.listErr = errors.New(`Get "https://alma.example/almaws/v1/users/S001/fees": dial tcp 10.0.0.1:443: connect: connection refused`)
	e.now = morning(0)
	res, err := e.jobs(nil).Report(t.Context())
	if err != nil {
		t.Fatalf("no report when Alma is down: %v", err)
	}
	rep := res.Report
	if !rep.Partial || !strings.Contains(rep.PartialReason, "connection refused") || len(rep.NotSent) != 1 ||
		!rep.Totals.Charged.Equal(usd("120.00")) {
		t.Errorf("report = partial %v (%q), not sent %d, charged %s", rep.Partial, rep.PartialReason, len(rep.NotSent), rep.Totals.Charged)
	}
	lib := files(t, e.library)
	if csv := lib["reports/feebridge-report-2026-03-03.csv"]; !strings.Contains(csv, "\nreport,partial,") {
		t.Errorf("CSV not marked partial:\n%s", csv)
	}
	if html := lib["reports/feebridge-report-2026-03-03.html"]; !strings.Contains(html, "Partial report.") {
		t.Errorf("HTML not marked partial")
	}
	if txt := reconcile.ReportText(rep); !strings.Contains(txt, "PARTIAL REPORT: Alma could not be reached") {
		t.Errorf("text:\n%s", txt)
	}
}

// TestReportGoesOnAfterOneFailingLookup: the item of a lost-item fee that
// Alma does not know is listed with its failure, and the rest of the
// report is written (the old report job failed as a whole).
func TestReportGoesOnAfterOneFailingLookup(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	a.add("S002", "F7", "T7", fees.TypeLostItemReplacementFee, "B700", "80.00")
	a.loans["L7"] = reconcile.Loan{ID: "L7", UserID: "S002", ItemBarcode: "B700", Returned: true}
	e.put(e.library, "exports/alma-1.xml", "fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T7|S002|F7|LOSTITEMREPLACEMENTFEE|B700|80.00", "end|2")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.lost["B100"] = true // still lost: B700 came back
	a.itemErr = map[string]error{"B100": reconcile.Permanent(errors.New("alma: 400 401689 No items found for barcode B100"))}
	e.now = morning(0)
	res, err := e.jobs(nil).Report(t.Context())
	if err != nil {
		t.Fatalf("one failing lookup stopped the report: %v", err)
	}
	rep := res.Report
	// Both lost-item fees of B100 (F1 and F2) are listed.
	if rep.Partial || len(rep.LookupFailures) != 2 || rep.LookupFailures[0].Barcode != "B100" || len(rep.ReturnedWithFees) != 1 ||
		rep.ReturnedWithFees[0].ID != "F7" {
		t.Errorf("report = partial %v, failures %+v, returned %+v", rep.Partial, rep.LookupFailures, rep.ReturnedWithFees)
	}
	csv := files(t, e.library)["reports/feebridge-report-2026-03-03.csv"]
	if !strings.Contains(csv, "needs staff,Alma lookup failed,S001,F2,,B100,") || !strings.Contains(csv, "401689") {
		t.Errorf("CSV lacks the failed lookup:\n%s", csv)
	}
}
