package reconcile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// refundSetup charges exportA's fees, has T1 (120.00) paid in part
// (50.00) and T2 (15.00) in full at the bursar, and puts Alma's credit
// export with the refunds Alma made when the item came back: 50.00 of T1
// and 15.00 of T2, each keyed to the refunded fee.
func refundSetup(t *testing.T, e *env) {
	t.Helper()
	charged(t, e)
	e.put(e.bursar, "outbound/pay.csv", "R1|T1|S001|50.00|CASHIER|CASH", "R2|T2|S001|15.00|ESERVICES|CREDIT_CARD", "end|2")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.library, "credits/refund-1.xml",
		"credit|T1|S001|F1|LOSTITEMREPLACEMENTFEE|70.00", // the rest waived (R7)
		"credit|T1|S001|F1|LOSTITEMREPLACEMENTFEEREFUND|50.00",
		"credit|T2|S001|F2|LOSTITEMPROCESSFEEREFUND|15.00",
		"end|3")
}

func refundPolicies(e *env) {
	e.opts.Refunds = map[fees.Type]reconcile.RefundPolicy{
		fees.TypeLostItemReplacementFee: {Action: reconcile.RefundSend, Ratio: fees.FullRefund},
		// LOSTITEMPROCESSFEE: no policy, so report.
	}
}

func TestRefundsByPolicy(t *testing.T) {
	e := newEnv(t)
	refundPolicies(e)
	refundSetup(t, e)
	res, err := e.jobs(nil).Credits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := "H|2026-03-02T12:00:00Z\nR|T1|S001|LOSTITEMREPLACEMENTFEE|-70.00\nF|T1|S001|LOSTITEMREPLACEMENTFEE|-50.00\nT|2|-120.00\n"
	if diff := cmp.Diff(want, files(t, e.bursar)[res.Outputs[0]]); diff != "" {
		t.Errorf("credit file (-want +got):\n%s", diff)
	}
	if len(res.Rejected) != 1 {
		t.Fatalf("rejected = %+v", res.Rejected)
	}
	r := res.Rejected[0]
	for _, part := range []string{"staff to decide", "charged 15.00 USD", "paid 15.00 USD", "refunded before 0.00 USD", "due back 15.00 USD"} {
		if r.Key != "T2/LOSTITEMPROCESSFEE" || r.Code != reconcile.CodeRefundReport || !strings.Contains(r.Reason, part) {
			t.Errorf("reported refund = %+v, want %q in its reason", r, part)
		}
	}
	got, ok, err := e.journal.Get(t.Context(), reconcile.KindRefund, "T1/LOSTITEMREPLACEMENTFEE")
	if err != nil || !ok || got.Outcome != reconcile.OutcomeRefunded || !got.Amount.Equal(usd("50.00")) || got.Ref != "T1/LOSTITEMREPLACEMENTFEE" {
		t.Errorf("journaled refund = %+v, %v, %v", got, ok, err)
	}
	// The same refund in a later export is a duplicate; another amount
	// under its key is a conflict: never a second refund.
	e.put(e.library, "credits/refund-2.xml", "credit|T1|S001|F1|LOSTITEMREPLACEMENTFEEREFUND|50.00", "end|1")
	e.put(e.library, "credits/refund-3.xml", "credit|T1|S001|F1|LOSTITEMREPLACEMENTFEEREFUND|20.00", "end|1")
	again, err := e.jobs(nil).Credits(t.Context())
	if err != nil || again.Records != 0 || again.Skipped != 1 || len(again.Rejected) != 1 || again.Rejected[0].Code != fees.ECONFLICT {
		t.Errorf("refunds again = %+v, %v", again, err)
	}
}

func TestRefundNeverAboveWhatWasPaid(t *testing.T) {
	for _, c := range []struct {
		name, line string
		ratio      fees.RefundRatio
	}{
		{"above paid", "credit|T1|S001|F1|LOSTITEMREPLACEMENTFEEREFUND|50.01", 100},
		{"above the ratio", "credit|T1|S001|F1|LOSTITEMREPLACEMENTFEEREFUND|50.00", 50},
		{"nothing paid", "credit|T3|S002|F3|OVERDUEFINEREFUND|0.82", 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.opts.Refunds = map[fees.Type]reconcile.RefundPolicy{
				fees.TypeLostItemReplacementFee: {Action: reconcile.RefundSend, Ratio: c.ratio},
				fees.TypeOverdueFine:            {Action: reconcile.RefundSend, Ratio: c.ratio},
			}
			charged(t, e)
			e.put(e.bursar, "outbound/pay.csv", "R1|T1|S001|50.00|CASHIER|CASH", "end|1")
			if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
				t.Fatal(err)
			}
			e.put(e.library, "credits/r.xml", c.line, "end|1")
			res, err := e.jobs(nil).Credits(t.Context())
			if err != nil || res.Records != 0 || len(res.Rejected) != 1 || res.Rejected[0].Code != fees.EOVERREFUND {
				t.Errorf("result = %+v, %v", res, err)
			}
		})
	}
}

// TestRefundsCrashAtEachStep kills the credits job at each step of a file
// with refunds, reruns it, and expects the state of a run without the
// crash: exactly one refund line.
func TestRefundsCrashAtEachStep(t *testing.T) {
	clean := newEnv(t)
	refundPolicies(clean)
	refundSetup(t, clean)
	if _, err := clean.jobs(nil).Credits(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := clean.state()
	for _, step := range []string{reconcile.StepDecide, reconcile.StepPublish, reconcile.StepCommit, reconcile.StepDone} {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			refundPolicies(e)
			refundSetup(t, e)
			crash := errors.New("crash")
			_, err := e.jobs(func(s string) error {
				if s == step {
					return crash
				}
				return nil
			}).Credits(t.Context())
			if !errors.Is(err, crash) {
				t.Fatalf("fault at %s: err = %v", step, err)
			}
			e.journal.Close()
			e.openJournal()
			if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, e.state()); diff != "" {
				t.Errorf("after a crash at %s and a rerun (-clean +got):\n%s", step, diff)
			}
			n := 0
			for _, body := range files(t, e.bursar) {
				n += strings.Count(body, "\nF|T1|")
			}
			if n != 1 {
				t.Errorf("after a crash at %s: %d refund lines, want 1", step, n)
			}
		})
	}
}

// TestReportListsRefundsForStaff: a refund held by the policy report is
// in the daily report, with the charge, what was paid, refunded before and
// is due back, and what staff do about it.
func TestReportListsRefundsForStaff(t *testing.T) {
	e := newEnv(t)
	refundPolicies(e)
	refundSetup(t, e)
	if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := e.jobs(nil).Report(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Held) != 1 || res.Report.Held[0].Kind != reconcile.KindRefund {
		t.Fatalf("held in the report = %+v", res.Report.Held)
	}
	var csv string
	for name, body := range files(t, e.library) {
		if strings.HasSuffix(name, ".csv") {
			csv = body
		}
	}
	for _, want := range []string{"Refund of 15.00 for fee F2", "staff decide (rule R8)", "charged 15.00 USD, paid 15.00 USD, refunded before 0.00 USD, due back 15.00 USD",
		"feesync dismiss T2/LOSTITEMPROCESSFEE"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the report's CSV lacks %q:\n%s", want, csv)
		}
	}
}

// TestRedriveReportedRefund: a refund held for staff goes out as a refund
// line once the policy says refund and it is re-driven, once.
func TestRedriveReportedRefund(t *testing.T) {
	e := newEnv(t)
	refundPolicies(e)
	refundSetup(t, e)
	if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.opts.Refunds[fees.TypeLostItemProcessFee] = reconcile.RefundPolicy{Action: reconcile.RefundSend, Ratio: fees.FullRefund}
	res, err := e.jobs(nil).RedriveKeys(t.Context(), reconcile.KindRefund, []string{"T2/LOSTITEMPROCESSFEE"})
	if err != nil || res.Records != 1 || !res.Total.Equal(usd("-15.00")) || len(res.Rejected) != 0 {
		t.Fatalf("redrive = %+v, %v", res, err)
	}
	if body := files(t, e.bursar)[res.Outputs[0]]; !strings.Contains(body, "F|T2|S001|LOSTITEMPROCESSFEE|-15.00") {
		t.Errorf("redrive file:\n%s", body)
	}
	if again, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindRefund); err != nil || again.Records != 0 {
		t.Errorf("second redrive = %+v, %v", again, err)
	}
}

// TestReconcileComparesRefunds: the reconciliation compares each refund
// sent to the bursar with Alma's refund of the fee, to the cent (R8).
func TestReconcileComparesRefunds(t *testing.T) {
	for _, c := range []struct {
		almaRefunded string
		want         int // refund disagreements
	}{{"50.00", 0}, {"40.00", 1}} {
		e := newEnv(t)
		refundPolicies(e)
		refundSetup(t, e)
		if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Alma: the fee paid in part, the rest waived, the paid part refunded.
		a := newFakeAlma()
		e.alma = a
		f := a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
		for _, err := range []error{
			f.Pay(fees.Payment{Amount: usd("50.00"), Channel: fees.ChannelCashier, Method: fees.MethodCash}),
			f.Waive(fees.Waiver{Amount: f.Balance, Reason: "LOST_ITEM_FOUND"}),
			f.Refund(fees.Refund{Amount: usd(c.almaRefunded)}),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		rec, err := e.jobs(nil).Reconcile(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []reconcile.Disagreement
		for _, d := range rec.Disagreements {
			if strings.Contains(d.Problem, "R8") {
				got = append(got, d)
			}
		}
		if len(got) != c.want || (c.want == 1 && (got[0].FeeID != "F1" || !got[0].Alma.Equal(usd("40.00")) || !got[0].Bursar.Equal(usd("50.00")))) {
			t.Errorf("Alma refunded %s: refund disagreements %+v", c.almaRefunded, got)
		}
	}
}
