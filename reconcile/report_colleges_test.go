package reconcile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// TestReportPerCollege: with charges routed to colleges, the daily report
// shows each college's charges sent, what the bursar holds of them and the
// disagreements, then the district's total, in CSV, HTML and text; the
// charges decided without a college are "unrouted".
func TestReportPerCollege(t *testing.T) {
	e := newEnv(t)
	e.charges.colleges = map[string]string{"S001": "ARC", "S002": "CRC"}
	e.put(e.library, "exports/alma-1-0301.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T2|S001|F2|LOSTITEMPROCESSFEE|B100|15.00",
		"fee|T3|S002|F3|OVERDUEFINE|B200|0.82",
		"fee|T4|S003|F4|OVERDUEFINE|B300|2.00",
		"end|4")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "outbound/pay-1.csv", "R1|T1|S001|20.00|CASHIER|CASH|LOSTITEMREPLACEMENTFEE", "end|1")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		college         string
		charges         int
		charged, bursar string
	}{
		{"ARC", 2, "135.00", "115.00"},
		{"CRC", 1, "0.82", "0.82"},
		{reconcile.Unrouted, 1, "2.00", "2.00"},
		{"the district", 4, "137.82", "117.82"},
	}
	if len(rep.Colleges) != len(want) {
		t.Fatalf("Colleges = %+v", rep.Colleges)
	}
	for i, w := range want {
		c := rep.Colleges[i]
		if c.College != w.college || c.Charges != w.charges || !c.Charged.Equal(usd(w.charged)) || !c.Held.Equal(usd(w.bursar)) {
			t.Errorf("Colleges[%d] = %+v, want %+v", i, c, w)
		}
	}
	var csv, html strings.Builder
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"by college,ARC,,,charged,,,,2,135.00", "by college,ARC,,,held by the bursar,,,,,115.00",
		"by college,the district,,,charged,,,,4,137.82", "by college,unrouted,,,disagreements,,,,0,"} {
		if !strings.Contains(csv.String(), row) {
			t.Errorf("CSV lacks %q:\n%s", row, csv.String())
		}
	}
	if !strings.Contains(html.String(), `<td data-label="College">the district</td><td class="n" data-label="Charges sent">4</td><td class="n" data-label="Charged">137.82</td><td class="n" data-label="Held by the bursar">117.82</td>`) {
		t.Errorf("HTML lacks the district's line:\n%s", html.String())
	}
	if text := reconcile.ReportText(rep); !strings.Contains(text, "- CRC                 1         0.82         0.82    0\n") {
		t.Errorf("text lacks CRC's line:\n%s", text)
	}
}

// TestReportWithoutColleges: a district that routes nothing gets the
// report it had, with no per-college section.
func TestReportWithoutColleges(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	var html strings.Builder
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if rep.Colleges != nil || strings.Contains(reportCSV(t, e), "by college") || strings.Contains(html.String(), "College by college") ||
		strings.Contains(reconcile.ReportText(rep), "By college") {
		t.Errorf("a report without colleges has a per-college section: %+v", rep.Colleges)
	}
}

// TestReconcilePerCollege: the reconciliation counts each disagreement in
// the college of the charge it names; one about a fee never sent, or
// about a student's total, is unrouted.
func TestReconcilePerCollege(t *testing.T) {
	e := newEnv(t)
	e.charges.colleges = map[string]string{"S001": "ARC", "S002": "CRC"}
	rec := reconcileDisagreeing(t, e)
	var got []string
	for _, c := range rec.Colleges {
		got = append(got, fmt.Sprintf("%s %d %s %s %d", c.College, c.Charges, amountOrNone(c.Charged), amountOrNone(c.Held), c.Disagreements))
	}
	want := []string{"ARC 2 135.00 135.00 1", "CRC 1 0.82 0.82 1", "unrouted 0 - - 2", "the district 3 135.82 135.82 4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("colleges (-want +got):\n%s", diff)
	}
}

func amountOrNone(m fees.Money) string {
	if !m.Valid() {
		return "-"
	}
	return m.Amount()
}

// TestRedrivenChargeKeepsItsCollege: a charge held, then re-driven once
// the configuration maps it, is journaled with the college it goes to.
func TestRedrivenChargeKeepsItsCollege(t *testing.T) {
	e := newEnv(t)
	e.charges.refuse[fees.TypeOverdueFine] = true
	e.charges.colleges = map[string]string{"S001": "ARC", "S002": "CRC"}
	exportA(e) // T3 is S002's overdue fine
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r, ok, err := e.journal.Get(t.Context(), reconcile.KindCharge, "T3/OVERDUEFINE"); err != nil || !ok || r.Outcome != reconcile.OutcomeRejected {
		t.Fatalf("T3 = %+v, %v, %v; want held", r, ok, err)
	}
	e.charges.refuse[fees.TypeOverdueFine] = false
	if _, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge); err != nil {
		t.Fatal(err)
	}
	for key, college := range map[string]string{"T1/LOSTITEMREPLACEMENTFEE": "ARC", "T3/OVERDUEFINE": "CRC"} {
		r, ok, err := e.journal.Get(t.Context(), reconcile.KindCharge, key)
		if err != nil || !ok || r.Outcome != reconcile.OutcomeCharged || r.College != college {
			t.Errorf("%s = %+v, %v, %v; want charged to %s", key, r, ok, err, college)
		}
	}
}
