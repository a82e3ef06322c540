package reconcile_test

import (
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
	if r := res.Rejected[0]; r.Key != "X78" || !strings.Contains(r.Reason, "R5") || !strings.Contains(r.Reason, "cashier") {
		t.Errorf("partial waiver rejection = %+v", r)
	}
	if r := res.Rejected[1]; r.Key != "X79" || !strings.Contains(r.Reason, "unlinked") {
		t.Errorf("unlinked rejection = %+v", r)
	}
	x77, _, _ := e.journal.Get(t.Context(), reconcile.KindCredit, "X77")
	if x77.Ref != "T2" || x77.Outcome != reconcile.OutcomeCredited {
		t.Errorf("X77 = %+v", x77)
	}
	// A payment on the credited charge now finds nothing left.
	e.put(e.bursar, "outbound/pay-2.csv", "R9|T2|S001|15.00|ESERVICES|CREDIT_CARD", "end|1")
	pr, err := e.jobs(nil).Payments(t.Context())
	if err != nil || len(pr.Rejected) != 1 || !strings.Contains(pr.Rejected[0].Reason, "nothing left") {
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
