package reconcile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/google/go-cmp/cmp"
)

// charged runs the charges job over exportA.
func charged(t *testing.T, e *env) {
	t.Helper()
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func paymentsA(e *env) {
	e.put(e.bursar, "outbound/pay-0303.csv",
		"R1|T1|S001|50.00|CASHIER|CASH",          // partial at the cashier: fine
		"R1|T1|S001|50.00|CASHIER|CASH",          // the same line again: held as a repeat of line 1
		"R2|T1|S001|80.00|CASHIER|CHECK",         // above the 70.00 left: held
		"R3|T2|S001|10.00|ESERVICES|CREDIT_CARD", // partial eServices: held
		"R4|T3|S002|0.82|ESERVICES|CREDIT_CARD",  // in full: fine
		"R5|T9|S009|5.00|CASHIER|CASH",           // unknown reference: held
		"R6|T2|S001|abc|CASHIER|CASH",            // unreadable amount: held
		"end|7")
}

func TestPaymentsCheckEachPaymentAgainstWhatWasSent(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	paymentsA(e)
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || !res.Total.Equal(usd("50.82")) || res.Skipped != 0 {
		t.Errorf("result = %+v", res)
	}
	var got []string
	for _, r := range res.Rejected {
		got = append(got, r.Key)
	}
	if len(got) != 5 {
		t.Fatalf("rejected %v, want 5", got)
	}
	sha := strings.TrimSuffix(got[0], ":2")
	if diff := cmp.Diff([]string{sha + ":2", "R2/T1", "R3/T2", "R5/T9", sha + ":7"}, got); diff != "" || len(sha) != 16 {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}
	codes := map[string]string{sha + ":2": "", "R2/T1": fees.EOVERPAY, "R3/T2": fees.EPARTIALESERVICES, "R5/T9": fees.ENOTFOUND}
	for _, r := range res.Rejected {
		if want, ok := codes[r.Key]; ok && r.Code != want {
			t.Errorf("%s: code %q (%s), want %q", r.Key, r.Code, r.Reason, want)
		}
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindPayment, "R2/T1"); r.Code != fees.EOVERPAY || !strings.Contains(r.Reason, "70.00 USD") {
		t.Errorf("journal keeps R2/T1 as %+v, want code %s", r, fees.EOVERPAY)
	}
	var csv strings.Builder
	if rep, err := e.jobs(nil).BuildReport(t.Context(), e.now); err != nil || rep.WriteCSV(&csv) != nil {
		t.Fatal(err)
	} else if !strings.Contains(csv.String(), ",overpayment: fee ") {
		t.Errorf("the report does not show the code of the overpayment:\n%s", csv.String())
	}
	lib := files(t, e.library)
	want := "P|T1|S001|F1|50.00|CASHIER\nP|T3|S002|F3|0.82|ESERVICES\n"
	if diff := cmp.Diff(want, lib[res.Outputs[0]]); diff != "" {
		t.Errorf("import file (-want +got):\n%s", diff)
	}
	// The rest of T1 at eServices is now the whole balance: accepted.
	e.put(e.bursar, "outbound/pay-0304.csv", "R7|T1|S001|70.00|ESERVICES|CREDIT_CARD", "R1|T1|S001|50.00|CASHIER|CASH", "end|2")
	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1 || res.Skipped != 1 || !res.Clean() {
		t.Errorf("second file = %+v", res)
	}
}

func TestPaymentsRunTwiceAndDuplicateFile(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	paymentsA(e)
	content := files(t, e.bursar)["outbound/pay-0303.csv"]
	e.put(e.bursar, "outbound/pay-0303-copy.csv", strings.Split(strings.TrimSpace(content), "\n")...)
	first, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicates != 1 || first.Records != 2 {
		t.Errorf("first run = %+v", first)
	}
	before := e.state()
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, e.state()); diff != "" {
		t.Errorf("second run changed the state:\n%s", diff)
	}
}

func TestPaymentsCrashAtEachStep(t *testing.T) {
	setup := func(t *testing.T, e *env) {
		charged(t, e)
		paymentsA(e)
		e.put(e.bursar, "outbound/pay-0304.csv", "R7|T1|S001|20.00|CASHIER|CASH", "end|1")
	}
	clean := newEnv(t)
	setup(t, clean)
	if _, err := clean.jobs(nil).Payments(t.Context()); err != nil {
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
				}).Payments(t.Context())
				if !errors.Is(err, crash) {
					t.Fatalf("fault at %s #%d: err = %v", step, nth, err)
				}
				e.journal.Close()
				e.openJournal()
				if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, e.state()); diff != "" {
					t.Errorf("after a crash at %s #%d and a rerun (-clean +got):\n%s", step, nth, diff)
				}
			})
		}
	}
}

func TestPaymentsMalformedFileFailsAlone(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.put(e.bursar, "outbound/a.csv", "R1|T1|S001|50.00|CASHIER|CASH", "end|5")
	e.put(e.bursar, "outbound/b.csv", "R4|T3|S002|0.82|ESERVICES|CREDIT_CARD", "end|1")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].File != "a.csv" || res.Records != 1 {
		t.Errorf("result = %+v", res)
	}
	bur := files(t, e.bursar)
	if !strings.Contains(bur["outbound/failed/a.csv.reason.txt"], "trailer says 5") {
		t.Errorf("reason = %q", bur["outbound/failed/a.csv.reason.txt"])
	}
	if r, ok, _ := e.journal.Get(t.Context(), reconcile.KindPayment, "R1/T1"); ok {
		t.Errorf("a payment of a failed file was journaled: %+v", r)
	}
}

func TestPaymentRedriveAfterChargeArrives(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	// PeopleSoft knows a fee this journal has not seen yet (a charge file
	// from another path): the payment is held, then re-driven.
	e.put(e.bursar, "outbound/pay.csv", "R8|T4|S003|2.00|CASHIER|CASH", "end|1")
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil || len(res.Rejected) != 1 {
		t.Fatalf("res = %+v, %v", res, err)
	}
	e.put(e.library, "exports/alma-2.xml", "fee|T4|S003|F4|OVERDUEFINE|B300|2.00", "end|1")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	rd, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindPayment)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Records != 1 || !rd.Total.Equal(usd("2.00")) || !rd.Clean() {
		t.Errorf("redrive = %+v", rd)
	}
	r, _, _ := e.journal.Get(t.Context(), reconcile.KindPayment, "R8/T4")
	if r.Outcome != reconcile.OutcomeForwarded || r.Channel != fees.ChannelCashier.String() {
		t.Errorf("R8 = %+v", r)
	}
}
