package reconcile_test

import (
	"errors"
	"github.com/feebridge/feebridge/fees"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/google/go-cmp/cmp"
)

func TestCreditsLinkEachCreditToItsCharge(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	// T1 is partly paid at the cashier first: 70.00 is left.
	e.put(e.bursar, "outbound/pay.csv", "R1|T1|S001|50.00|CASHIER|CASH", "end|1")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.library, "credits/credit-1.xml",
		"credit|T1|S001|F1|LOSTITEMREPLACEMENTFEE|70.00", // the rest of T1, by transaction id
		"credit|X77|S001|F2|LOSTITEMPROCESSFEE|15.00",    // unknown id: linked by student and fee
		"credit|X78|S002|F3|OVERDUEFINE|0.50",            // partial waiver of a transferred fee: R5
		"credit|X79|S404|F404|OVERDUEFINE|1.00",          // unlinked
		"credit|T1|S001|F1|LOSTITEMREPLACEMENTFEE|70.00", // repeated in the same file
		"end|5")
	res, err := e.jobs(nil).Credits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || !res.Total.Equal(usd("-85.00")) || res.Skipped != 1 {
		t.Errorf("result = %+v", res)
	}
	want := "H|2026-03-02T12:00:00Z\nR|T1|S001|LOSTITEMREPLACEMENTFEE|-70.00\nR|T2|S001|LOSTITEMPROCESSFEE|-15.00\nT|2|-85.00\n"
	if diff := cmp.Diff(want, files(t, e.bursar)[res.Outputs[0]]); diff != "" {
		t.Errorf("credit file (-want +got):\n%s", diff)
	}
	if len(res.Rejected) != 2 {
		t.Fatalf("rejected = %+v", res.Rejected)
	}
	if r := res.Rejected[0]; r.Key != "X78/OVERDUEFINE" || r.Code != fees.EPARTIALWAIVE || !strings.Contains(r.Reason, "R5") || !strings.Contains(r.Reason, "cashier") {
		t.Errorf("partial waiver rejection = %+v", r)
	}
	if r := res.Rejected[1]; r.Key != "X79/OVERDUEFINE" || !strings.Contains(r.Reason, "unlinked") {
		t.Errorf("unlinked rejection = %+v", r)
	}
	x77, _, _ := e.journal.Get(t.Context(), reconcile.KindCredit, "X77/LOSTITEMPROCESSFEE")
	if x77.Ref != "T2/LOSTITEMPROCESSFEE" || x77.Outcome != reconcile.OutcomeCredited {
		t.Errorf("X77 = %+v", x77)
	}
	// A payment on the credited charge now finds nothing left.
	e.put(e.bursar, "outbound/pay-2.csv", "R9|T2|S001|15.00|ESERVICES|CREDIT_CARD", "end|1")
	pr, err := e.jobs(nil).Payments(t.Context())
	if err != nil || len(pr.Rejected) != 1 || pr.Rejected[0].Code != fees.ECLOSED {
		t.Errorf("payment on a credited charge = %+v, %v", pr, err)
	}
}

func TestCreditsRunTwiceChangesNothing(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.library, "credits/c.xml", "credit|T3|S002|F3|OVERDUEFINE|0.82", "end|1")
	e.put(e.library, "credits/c-again.xml", "credit|T3|S002|F3|OVERDUEFINE|0.82", "end|1")
	res, err := e.jobs(nil).Credits(t.Context())
	if err != nil || res.Records != 1 || res.Duplicates != 1 || !res.Clean() {
		t.Fatalf("first run = %+v, %v", res, err)
	}
	before := e.state()
	if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, e.state()); diff != "" {
		t.Errorf("second run changed the state:\n%s", diff)
	}
}

func TestCreditsCrashAtEachStep(t *testing.T) {
	setup := func(t *testing.T, e *env) {
		charged(t, e)
		e.put(e.library, "credits/c1.xml", "credit|T3|S002|F3|OVERDUEFINE|0.82", "credit|X9|S404|F9|OVERDUEFINE|1.00", "end|2")
		e.put(e.library, "credits/c2.xml", "credit|T2|S001|F2|LOSTITEMPROCESSFEE|15.00", "end|1")
	}
	clean := newEnv(t)
	setup(t, clean)
	if _, err := clean.jobs(nil).Credits(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := clean.state()
	for _, step := range []string{reconcile.StepDecide, reconcile.StepPublish, reconcile.StepCommit, reconcile.StepDone} {
		for _, nth := range []int{1, 2} {
			t.Run(step, func(t *testing.T) {
				e := newEnv(t)
				setup(t, e)
				crash := errors.New("crash")
				seen := 0
				_, err := e.jobs(func(s string) error {
					if s == step {
						if seen++; seen == nth {
							return crash
						}
					}
					return nil
				}).Credits(t.Context())
				if !errors.Is(err, crash) {
					t.Fatalf("fault at %s #%d: err = %v", step, nth, err)
				}
				e.journal.Close()
				e.openJournal()
				if _, err := e.jobs(nil).Credits(t.Context()); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, e.state()); diff != "" {
					t.Errorf("after a crash at %s #%d and a rerun (-clean +got):\n%s", step, nth, diff)
				}
			})
		}
	}
}

// TestDryRunWritesNothing runs every job in dry-run mode over pending work
// and expects the decisions reported and nothing changed.
func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	charged(t, e)
	paymentsA(e)
	e.put(e.library, "credits/c.xml", "credit|T3|S002|F3|OVERDUEFINE|0.82", "end|1")
	e.charges.refuse[fees.TypeOverdueFine] = true
	e.put(e.library, "exports/alma-2.xml", "fee|T7|S007|F7|OVERDUEFINE|B7|7.00", "end|1")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	delete(e.charges.refuse, fees.TypeOverdueFine)
	before := e.state()
	e.opts.DryRun = true
	jobs := e.jobs(nil)
	pay, err := jobs.Payments(t.Context())
	if err != nil || pay.Records != 2 || len(pay.Outputs) != 1 {
		t.Errorf("payments dry run = %+v, %v", pay, err)
	}
	cr, err := jobs.Credits(t.Context())
	if err != nil || cr.Records != 1 {
		t.Errorf("credits dry run = %+v, %v", cr, err)
	}
	rd, err := jobs.Redrive(t.Context(), reconcile.KindCharge)
	if err != nil || rd.Records != 1 {
		t.Errorf("redrive dry run = %+v, %v", rd, err)
	}
	if err := jobs.LoanReturned(t.Context(), returned); err != nil {
		t.Errorf("lost returns dry run: %v", err)
	}
	if a.waives != 0 || a.blocks["S001"] != 0 {
		t.Errorf("dry run changed Alma: %d waivers, %d block removals", a.waives, a.blocks["S001"])
	}
	rep, err := jobs.Report(t.Context())
	if err != nil || len(rep.Files) != 0 {
		t.Errorf("report dry run = %+v, %v", rep.Files, err)
	}
	if diff := cmp.Diff(before, e.state()); diff != "" {
		t.Errorf("dry runs changed the state:\n%s", diff)
	}
}

func TestCreditRedriveAfterItsChargeIsSent(t *testing.T) {
	e := newEnv(t)
	e.put(e.library, "credits/c.xml", "credit|T4|S003|F4|OVERDUEFINE|2.00", "end|1")
	res, err := e.jobs(nil).Credits(t.Context())
	if err != nil || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, "unlinked") {
		t.Fatalf("res = %+v, %v", res, err)
	}
	e.put(e.library, "exports/x.xml", "fee|T4|S003|F4|OVERDUEFINE|B4|2.00", "end|1")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	rd, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCredit)
	if err != nil || rd.Records != 1 || !rd.Total.Equal(usd("-2.00")) || !rd.Clean() {
		t.Fatalf("redrive = %+v, %v", rd, err)
	}
	if !strings.HasPrefix(rd.Outputs[0], "inbound/feebridge-credits-redrive-") {
		t.Errorf("output = %s", rd.Outputs[0])
	}
	r, _, _ := e.journal.Get(t.Context(), reconcile.KindCredit, "T4/OVERDUEFINE")
	if r.Outcome != reconcile.OutcomeCredited || r.Ref != "T4/OVERDUEFINE" {
		t.Errorf("T4 credit = %+v", r)
	}
}
