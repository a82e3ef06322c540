package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

var _ reconcile.BursarBalances = statedBalances(nil)

type statedBalances map[string]fees.Money

func (s statedBalances) Balances(context.Context) (map[string]fees.Money, error) { return s, nil }

// reconcileDisagreeing charges T1 120.00 and T2 15.00 for S001, T3 0.82
// for S002, then reconciles them with an Alma where S002's fine is
// unknown, S001's T1 was partly paid without the bursar knowing and T8
// was transferred but never sent, and a bursar statement that disagrees
// on S002's total.
func reconcileDisagreeing(t *testing.T, e *env) reconcile.Reconciliation {
	t.Helper()
	a := newFakeAlma()
	e.alma = a
	charged(t, e)
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.add("S001", "F8", "T8", fees.TypeOverdueFine, "B800", "4.00")
	a.pay("S001", "F1", "20.00")
	rec, err := e.jobs(nil).Reconcile(t.Context(), statedBalances{"S001": usd("135.00"), "S002": usd("0.00")})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestReconcileListsEveryDisagreement(t *testing.T) {
	e := newEnv(t)
	rec := reconcileDisagreeing(t, e)
	if rec.Agree() || rec.Students != 2 || rec.Fees != 3 {
		t.Fatalf("reconciliation = %+v", rec)
	}
	var got []string
	for _, d := range rec.Disagreements {
		got = append(got, d.UserID+" "+d.TransactionID+": "+d.Problem)
	}
	want := []string{
		"S001 T1: Alma shows 100.00 USD left, the bursar holds 120.00 USD",
		"S001 T8: transferred in Alma, never sent to the bursar",
		"S002 T3: charged to the bursar, unknown to Alma",
		"S002 : the bursar states 0.00 USD owed, the journal expects 0.82 USD",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := rec.Disagreements[0]; !d.Alma.Equal(usd("100.00")) || !d.Bursar.Equal(usd("120.00")) || d.AlmaStatus != fees.StatusTransferred {
		t.Errorf("first disagreement = %+v", d)
	}
}

func TestReconcileAgreesAfterPaymentsAndCredits(t *testing.T) {
	e := newEnv(t)
	a := newFakeAlma()
	e.alma = a
	charged(t, e)
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.add("S002", "F3", "T3", fees.TypeOverdueFine, "B200", "0.82")
	e.put(e.bursar, "outbound/p.csv", "R1|T1|S001|50.00|CASHIER|CASH", "R2|T3|S002|0.82|ESERVICES|CREDIT_CARD", "end|2")
	if res, err := e.jobs(nil).Payments(t.Context()); err != nil || !res.Clean() {
		t.Fatal(res, err)
	}
	a.pay("S001", "F1", "50.00")
	a.pay("S002", "F3", "0.82")
	f2, _ := a.GetFee(t.Context(), "S001", "F2")
	if _, err := a.Waive(t.Context(), "S001", "F2", f2.Balance, "FOUND", ""); err != nil {
		t.Fatal(err)
	}
	e.put(e.library, "credits/c.xml", "credit|T2|S001|F2|LOSTITEMPROCESSFEE|15.00", "end|1")
	if res, err := e.jobs(nil).Credits(t.Context()); err != nil || !res.Clean() {
		t.Fatal(res, err)
	}
	rec, err := e.jobs(nil).Reconcile(t.Context(), statedBalances{"S001": usd("70.00"), "S002": usd("0.00")})
	if err != nil || !rec.Agree() {
		t.Errorf("reconciliation = %+v, %v", rec, err)
	}
}

// TestReconcileAsksAboutStudentsSideBySide: the reconciliation asks Alma
// about Options.AlmaWorkers students at once, and its result does not
// depend on how many.
func TestReconcileAsksAboutStudentsSideBySide(t *testing.T) {
	var want []reconcile.Disagreement
	for _, workers := range []int{1, 3} {
		e := newEnv(t)
		a := newFakeAlma()
		e.alma = a
		e.put(e.library, "exports/alma-1-0301.xml",
			"fee|T1|S001|F1|OVERDUEFINE|B1|1.00", "fee|T2|S002|F2|OVERDUEFINE|B2|2.00",
			"fee|T3|S003|F3|OVERDUEFINE|B3|3.00", "fee|T4|S004|F4|OVERDUEFINE|B4|4.00", "end|4")
		if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		a.add("S002", "F2", "T2", fees.TypeOverdueFine, "B2", "2.50") // disagrees
		a.add("S004", "F4", "T4", fees.TypeOverdueFine, "B4", "4.00")
		hook, most := concurrency(workers)
		a.onList = func([]fees.Status) { hook() }
		e.opts.AlmaWorkers = workers
		rec, err := e.jobs(nil).Reconcile(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if most() != workers || rec.Students != 4 || rec.Fees != 4 {
			t.Errorf("%d workers: %d students asked about at once; %+v", workers, most(), rec)
		}
		if want == nil {
			want = rec.Disagreements
			if len(want) != 3 { // S001 and S003 unknown to Alma, S002 differs
				t.Fatalf("disagreements %+v", want)
			}
			continue
		}
		if diff := cmp.Diff(fmt.Sprint(want), fmt.Sprint(rec.Disagreements)); diff != "" {
			t.Errorf("%d workers: disagreements differ from 1 (-want +got):\n%s", workers, diff)
		}
	}
}

// TestReconcileLeavesQuietStudentsOut: a student the bursar holds nothing
// of any more, with no change for QuietAfter, is not asked about (and is
// counted as quiet), unless the bursar's statement names the student or
// QuietAfter is negative.
func TestReconcileLeavesQuietStudentsOut(t *testing.T) {
	e := newEnv(t)
	a := newFakeAlma()
	e.alma = a
	charged(t, e) // day 0: T1 120.00 and T2 15.00 for S001, T3 0.82 for S002
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.add("S002", "F3", "T3", fees.TypeOverdueFine, "B200", "0.82")
	e.now = day(1)
	e.put(e.bursar, "outbound/p.csv", "R2|T3|S002|0.82|ESERVICES|CREDIT_CARD", "end|1")
	if res, err := e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 1 {
		t.Fatal(res, err)
	}
	a.pay("S002", "F3", "0.82")
	for _, tt := range []struct {
		name          string
		at            int // day
		quietAfter    time.Duration
		stated        reconcile.BursarBalances
		students, fee int
		quiet         int
	}{
		{"S002 paid 9 days ago", 10, 0, nil, 2, 3, 0},
		{"S002 quiet for 39 days", 40, 0, nil, 1, 2, 1},
		{"the bursar states S002", 40, 0, statedBalances{"S002": usd("0.00")}, 2, 3, 0},
		{"everyone", 40, -1, nil, 2, 3, 0},
		{"students known to the bursar alone", 40, 0, statedBalances{"S000": usd("0.00"), "S001": usd("135.00"),
			"S003": usd("0.00"), "S004": usd("0.00"), "S005": usd("0.00"), "S009": usd("0.00")}, 6, 2, 1},
	} {
		e.now, e.opts.QuietAfter = day(tt.at), tt.quietAfter
		rec, err := e.jobs(nil).Reconcile(t.Context(), tt.stated)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Students != tt.students || rec.Fees != tt.fee || rec.Quiet != tt.quiet || !rec.Agree() {
			t.Errorf("%s: %+v; want %d students, %d fees, %d quiet, agreeing", tt.name, rec, tt.students, tt.fee, tt.quiet)
		}
	}
}

// TestReportListsTheLastDisagreements (issue 16, the report's "needs
// staff"): the morning report lists what the last reconciliation found,
// each row naming the student, the fee and what to do; a later
// reconciliation that agrees clears them from the next report.
func TestReportListsTheLastDisagreements(t *testing.T) {
	e := newEnv(t)
	a := newFakeAlma()
	e.alma = a
	charged(t, e) // T1 120.00 and T2 15.00 for S001, T3 0.82 for S002
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.pay("S001", "F1", "20.00")
	if _, err := e.jobs(nil).Reconcile(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	e.now = morning(0)
	res, err := e.jobs(nil).Report(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := res.Report.Disagreements
	if len(got) != 2 || got[0].TransactionID != "T1" || !got[0].Alma.Equal(usd("100.00")) || !got[0].Bursar.Equal(usd("120.00")) ||
		got[1].UserID != "S002" {
		t.Fatalf("report's disagreements = %+v", got)
	}
	csv := files(t, e.library)["reports/feebridge-report-2026-03-03.csv"]
	for _, want := range []string{
		"needs staff,Alma and the bursar disagree,S001,F1,LOSTITEMREPLACEMENTFEE,",
		"fee F1 (LOSTITEMREPLACEMENTFEE, student S001) was Transferred in Alma with 100.00 left, but the bursar holds 120.00",
		"feesync show fee T1",
		"needs staff,Alma and the bursar disagree,S002,",
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("report CSV lacks %q:\n%s", want, csv)
		}
	}

	// Alma's side is put right: the next reconciliation agrees.
	right := newFakeAlma()
	right.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	right.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	right.add("S002", "F3", "T3", fees.TypeOverdueFine, "B200", "0.82")
	e.alma = right
	if rec, err := e.jobs(nil).Reconcile(t.Context(), nil); err != nil || !rec.Agree() {
		t.Fatalf("second reconciliation = %+v, %v", rec, err)
	}
	rep, err := e.jobs(nil).BuildReport(t.Context(), morning(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Disagreements) != 0 {
		t.Errorf("disagreements after an agreeing reconciliation: %+v", rep.Disagreements)
	}
}
