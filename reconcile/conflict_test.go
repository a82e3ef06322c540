package reconcile_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// The tests of this file use only what the jobs offered before conflicts
// were held, so that they show the old behaviour failing.

// reportCSV builds the daily report and returns its CSV.
func reportCSV(t *testing.T, e *env) string {
	t.Helper()
	var csv strings.Builder
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	return csv.String()
}

// TestConflictingPaymentResendIsHeld: the same receipt, reference and
// item type with another amount (33.33, then 50.00) is held as a
// conflict that names both files and lines and both amounts, under a key
// of its own; the row of the payment forwarded is left as it was.
func TestConflictingPaymentResendIsHeld(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.bursar, "outbound/pay-1.csv", "R1|T1|S001|33.33|CASHIER|CASH|LOSTITEMREPLACEMENTFEE", "end|1")
	if res, err := e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 1 {
		t.Fatalf("first file = %+v, %v", res, err)
	}
	e.put(e.bursar, "outbound/pay-2.csv", "R0|T3|S002|0.10|CASHIER|CASH",
		"R1|T1|S001|50.00|CASHIER|CASH|LOSTITEMREPLACEMENTFEE", "end|2")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 || res.Records != 1 || len(res.Rejected) != 1 {
		t.Fatalf("result = %+v; want the conflict held, not skipped", res)
	}
	c := res.Rejected[0]
	key := "R1/T1/LOSTITEMREPLACEMENTFEE"
	if c.Code != fees.ECONFLICT || c.Line != 2 || !strings.HasPrefix(c.Key, key+"#conflict:") ||
		!strings.HasSuffix(c.Key, ":2") {
		t.Errorf("conflict = %+v", c)
	}
	for _, s := range []string{"pay-2.csv line 2", "pay-1.csv line 1", "amount 50.00 USD, was 33.33 USD"} {
		if !strings.Contains(c.Reason, s) {
			t.Errorf("reason %q lacks %q", c.Reason, s)
		}
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindPayment, key); r.Outcome != reconcile.OutcomeForwarded ||
		!r.Amount.Equal(usd("33.33")) || r.File != "pay-1.csv" {
		t.Errorf("the forwarded payment's row became %+v", r)
	}
	if rep := reportCSV(t, e); !strings.Contains(rep, c.Key) || !strings.Contains(rep, "conflict: payment") {
		t.Errorf("the report does not list the conflict:\n%s", rep)
	}
}

// TestConflictingPaymentDate: the same amount on another day is a
// conflict too; the same payment again is still skipped.
func TestConflictingPaymentDate(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.bursar, "outbound/pay-1.csv", "R1|T1|S001|10.00|CASHIER|CASH|LOSTITEMREPLACEMENTFEE|2026-03-02", "end|1")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "outbound/pay-2.csv", "R1|T1|S001|10.00|CASHIER|CASH|LOSTITEMREPLACEMENTFEE|2026-03-02",
		"R2|T3|S002|0.10|CASHIER|CASH", "end|2")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil || res.Skipped != 1 || !res.Clean() {
		t.Fatalf("identical re-send = %+v, %v; want skipped", res, err)
	}
	e.put(e.bursar, "outbound/pay-3.csv", "R1|T1|S001|10.00|CASHIER|CASH|LOSTITEMREPLACEMENTFEE|2026-03-01", "end|1")
	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil || res.Skipped != 0 || len(res.Rejected) != 1 ||
		!strings.Contains(res.Rejected[0].Reason, "date 2026-03-01, was 2026-03-02") {
		t.Fatalf("re-send on another day = %+v, %v; want a conflict", res, err)
	}
}

// TestConflictingExportRecordIsHeld: a fee whose transaction id and type
// were charged already, with another amount, is held as a conflict; the
// same fee again is skipped; the charge sent keeps its row.
func TestConflictingExportRecordIsHeld(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.library, "exports/alma-2-0302.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00", // the same: skipped
		"fee|T3|S002|F3|OVERDUEFINE|B200|8.20",              // another amount: conflict
		"end|2")
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || res.Records != 0 || len(res.Rejected) != 1 {
		t.Fatalf("result = %+v; want one skipped, one held", res)
	}
	c := res.Rejected[0]
	if c.Code != fees.ECONFLICT || !strings.HasPrefix(c.Key, "T3/OVERDUEFINE#conflict:") ||
		!strings.Contains(c.Reason, "amount 8.20 USD, was 0.82 USD") || !strings.Contains(c.Reason, "alma-1-0301.xml line 3") ||
		!strings.Contains(c.Reason, "alma-2-0302.xml line 2") {
		t.Errorf("conflict = %+v", c)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindCharge, "T3/OVERDUEFINE"); r.Outcome != reconcile.OutcomeCharged ||
		!r.Amount.Equal(usd("0.82")) {
		t.Errorf("the charge's row became %+v", r)
	}
}

// TestConflictingCreditIsHeld: a credit of a charge credited already,
// with another amount, is held as a conflict.
func TestConflictingCreditIsHeld(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.library, "credits/credit-1.xml", "credit|T2|S001|F2|LOSTITEMPROCESSFEE|15.00", "end|1")
	if res, err := e.jobs(nil).Credits(t.Context()); err != nil || res.Records != 1 {
		t.Fatalf("first credit = %+v, %v", res, err)
	}
	e.put(e.library, "credits/credit-2.xml", "credit|T2|S001|F2|LOSTITEMPROCESSFEE|15.00",
		"credit|T2|S001|F2|LOSTITEMPROCESSFEE|5.00", "end|2")
	res, err := e.jobs(nil).Credits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || len(res.Rejected) != 1 || res.Rejected[0].Code != fees.ECONFLICT {
		t.Fatalf("result = %+v; want the same credit skipped and the other held", res)
	}
}

// TestHeldLineSupersededByCorrectedPayment: a payment line that could not
// be read whole (its amount) is held under its line; the corrected
// payment, forwarded from a later file, supersedes it: the line leaves
// the report and is no longer held.
func TestHeldLineSupersededByCorrectedPayment(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.bursar, "outbound/pay-1.csv", "R1|T2|S001|1O.00|CASHIER|CASH|LOSTITEMPROCESSFEE", "end|1")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil || len(res.Rejected) != 1 {
		t.Fatalf("first file = %+v, %v", res, err)
	}
	line := res.Rejected[0].Key
	if rep := reportCSV(t, e); !strings.Contains(rep, line) {
		t.Fatalf("the report does not list the held line:\n%s", rep)
	}
	e.put(e.bursar, "outbound/pay-2.csv", "R1|T2|S001|10.00|CASHIER|CASH|LOSTITEMPROCESSFEE", "end|1")
	if res, err := e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 1 {
		t.Fatalf("corrected file = %+v, %v", res, err)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindPayment, line); r.Outcome == reconcile.OutcomeRejected {
		t.Errorf("the held line is still held: %+v", r)
	}
	if rep := reportCSV(t, e); strings.Contains(rep, line) {
		t.Errorf("the report still lists the superseded line:\n%s", rep)
	}
	// A held line of another payment key stays held.
	e.put(e.bursar, "outbound/pay-3.csv", "R5|T2|S001|x|CASHIER|CASH|LOSTITEMPROCESSFEE", "end|1")
	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil || len(res.Rejected) != 1 {
		t.Fatal(res, err)
	}
	e.put(e.bursar, "outbound/pay-4.csv", "R6|T2|S001|1.00|CASHIER|CASH|LOSTITEMPROCESSFEE", "end|1")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindPayment, res.Rejected[0].Key); r.Outcome != reconcile.OutcomeRejected {
		t.Errorf("a held line of another key was closed: %+v", r)
	}
}
