package reconcile_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// TestSharedTransactionID follows fees that share one bursar transaction
// id, as in MIT's real export, through the charges, credits and payments
// jobs: each is charged, credited and paid under its own charge key, and a
// payment that does not say which of them it pays is held, never guessed.
func TestSharedTransactionID(t *testing.T) {
	e := newEnv(t)
	e.put(e.library, "exports/mit.xml",
		"fee|T9|S009|F1|OVERDUEFINE|B9|14.00",
		"fee|T9|S009|F2|OTHER|B9|10.00",
		"fee|T9|S009|F3|DAMAGEDITEMFINE|B9|10.00",
		"end|3")
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || !res.Clean() || !res.Total.Equal(usd("34.00")) {
		t.Fatalf("charges = %+v", res)
	}
	charged, err := e.journal.Records(t.Context(), reconcile.KindCharge, reconcile.OutcomeCharged)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range charged {
		keys = append(keys, r.Key)
	}
	if diff := cmp.Diff([]string{"T9/DAMAGEDITEMFINE", "T9/OTHER", "T9/OVERDUEFINE"}, keys); diff != "" {
		t.Errorf("charge keys (-want +got):\n%s", diff)
	}

	// The library waives the OTHER fee: the credit names it by type.
	e.put(e.library, "credits/c.xml", "credit|T9|S009|F2|OTHER|10.00", "end|1")
	cr, err := e.jobs(nil).Credits(t.Context())
	if err != nil || cr.Records != 1 || !cr.Clean() {
		t.Fatalf("credits = %+v, %v", cr, err)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindCredit, "T9/OTHER"); r.Ref != "T9/OTHER" || r.FeeID != "F2" {
		t.Errorf("credit = %+v", r)
	}

	// The bursar pays the two others on one receipt, then the OTHER fee
	// (credited: nothing left), then T9 without a type.
	e.put(e.bursar, "outbound/pay.csv",
		"R1|T9|S009|14.00|ESERVICES|CREDIT_CARD|OVERDUEFINE",
		"R1|T9|S009|10.00|ESERVICES|CREDIT_CARD|DAMAGEDITEMFINE",
		"R2|T9|S009|1.00|CASHIER|CASH|OTHER",
		"R3|T9|S009|1.00|CASHIER|CASH",
		"end|4")
	pr, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if pr.Records != 2 || !pr.Total.Equal(usd("24.00")) || len(pr.Rejected) != 2 {
		t.Fatalf("payments = %+v", pr)
	}
	if r := pr.Rejected[0]; r.Code != fees.ECLOSED {
		t.Errorf("payment on the credited fee: %+v", r)
	}
	if r := pr.Rejected[1]; !strings.Contains(r.Reason, "3 charges") {
		t.Errorf("payment without a type: %+v", r)
	}
	fwd, err := e.journal.Records(t.Context(), reconcile.KindPayment, reconcile.OutcomeForwarded)
	if err != nil {
		t.Fatal(err)
	}
	type paid struct{ Key, Ref, FeeID string }
	var got []paid
	for _, r := range fwd {
		got = append(got, paid{r.Key, r.Ref, r.FeeID})
	}
	want := []paid{{"R1/T9/DAMAGEDITEMFINE", "T9/DAMAGEDITEMFINE", "F3"}, {"R1/T9/OVERDUEFINE", "T9/OVERDUEFINE", "F1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("forwarded payments (-want +got):\n%s", diff)
	}
	imports := files(t, e.library)
	var lines []string
	for name, data := range imports {
		if strings.HasPrefix(name, "imports/") {
			lines = append(lines, strings.Split(strings.TrimSpace(data), "\n")...)
		}
	}
	if diff := cmp.Diff([]string{"P|T9|S009|F1|14.00|ESERVICES", "P|T9|S009|F3|10.00|ESERVICES"}, lines); diff != "" {
		t.Errorf("import lines (-want +got):\n%s", diff)
	}
}

// TestPaymentForwardedBeforeChargeKeys: a journal from before charge keys
// has a forwarded payment under receipt and reference alone; the same
// payment read again, now keyed with its item type, is a duplicate.
func TestPaymentForwardedBeforeChargeKeys(t *testing.T) {
	e := newEnv(t)
	e.put(e.library, "exports/x.xml", "fee|T1|S001|F1|OVERDUEFINE|B1|5.00", "end|1")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.journal.Put(t.Context(), reconcile.Record{Kind: reconcile.KindPayment, Key: "R1/T1",
		Outcome: reconcile.OutcomeForwarded, Ref: "T1/OVERDUEFINE", Amount: usd("5.00")}); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "outbound/pay.csv", "R1|T1|S001|5.00|ESERVICES|CREDIT_CARD|OVERDUEFINE", "end|1")
	pr, err := e.jobs(nil).Payments(t.Context())
	if err != nil || pr.Records != 0 || pr.Skipped != 1 || len(pr.Rejected) != 0 {
		t.Errorf("payments = %+v, %v; want the payment skipped", pr, err)
	}
}
