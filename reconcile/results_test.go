package reconcile_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// lineResults reads results lines "txid|type|C, R or F|POSTED or ERROR|message"
// (C a charge, R a credit, F a refund of a fee of that type; an empty
// type for one the bursar does not name), and "bad|reason" for a line
// that cannot be read.
type lineResults struct{}

func (lineResults) NewResultReader(r io.Reader) reconcile.ResultReader {
	return &lineResultReader{sc: bufio.NewScanner(r)}
}

type lineResultReader struct {
	sc   *bufio.Scanner
	line int
}

func (r *lineResultReader) Next() (reconcile.LoadResult, error) {
	if !r.sc.Scan() {
		return reconcile.LoadResult{}, io.EOF
	}
	r.line++
	f := strings.Split(r.sc.Text(), "|")
	switch {
	case len(f) == 2 && f[0] == "bad":
		return reconcile.LoadResult{Line: r.line, Err: errors.New(f[1])}, nil
	case len(f) == 5:
		return reconcile.LoadResult{Line: r.line, Ref: f[0], FeeType: fees.Type(f[1]), Credit: f[2] == "R" || f[2] == "F", Refund: f[2] == "F",
			Refused: f[3] == "ERROR", Message: f[4]}, nil
	}
	return reconcile.LoadResult{}, fmt.Errorf("line %d: malformed result %q", r.line, r.sc.Text())
}

// left returns what the bursar holds of the student's charges, per the
// journal, by charge key.
func (e *env) left(user string) map[string]string {
	e.t.Helper()
	out, err := e.journal.Outstanding(e.t.Context(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, h := range out {
		m[h.Charge.Key] = h.Left.String()
	}
	return m
}

func TestResultsHoldRefusedChargeUntilRedriven(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("charges: %+v, %v", res, err)
	}
	sent := strings.TrimPrefix(res.Outputs[0], "inbound/")
	e.put(e.bursar, "results/r1.csv",
		"T1|LOSTITEMREPLACEMENTFEE|C|POSTED|",
		"T2|LOSTITEMPROCESSFEE|C|POSTED|",
		"T3|OVERDUEFINE|C|ERROR|Invalid Employee ID")
	res, err = e.jobs(nil).Results(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Confirmed != 2 || len(res.Rejected) != 1 || len(res.Outputs) != 0 {
		t.Fatalf("results: %+v", res)
	}
	want := "sent in " + sent + ", refused by PeopleSoft: Invalid Employee ID"
	if r := res.Rejected[0]; r.Code != reconcile.CodeBursarRefused || r.Reason != want || r.Key != "T3/OVERDUEFINE" || r.Line != 3 || r.File != "r1.csv" {
		t.Errorf("rejection = %+v, want reason %q", r, want)
	}
	if got := e.left("S002"); len(got) != 0 {
		t.Errorf("the bursar holds %v of S002's refused charge, want nothing", got)
	}
	if _, ok := files(t, e.bursar)["results/done/r1.csv"]; !ok {
		t.Errorf("the results file is not in done/: %v", keys(files(t, e.bursar)))
	}
	// The same results again, under another name: nothing more is held.
	e.put(e.bursar, "results/r1-again.csv",
		"T1|LOSTITEMREPLACEMENTFEE|C|POSTED|",
		"T2|LOSTITEMPROCESSFEE|C|POSTED|",
		"T3|OVERDUEFINE|C|ERROR|Invalid Employee ID")
	if res, err := e.jobs(nil).Results(t.Context()); err != nil || res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("the same results again: %+v, %v", res, err)
	}

	// Fixed at the bursar, re-driven: sent once as a new line, however
	// often re-driven.
	res, err = e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	if err != nil || res.Records != 1 || len(res.Outputs) != 1 || !res.Clean() {
		t.Fatalf("redrive: %+v, %v", res, err)
	}
	if got := files(t, e.bursar)[res.Outputs[0]]; !strings.Contains(got, "C|T3|S002|OVERDUEFINE|0.82\n") {
		t.Errorf("the re-driven file:\n%s", got)
	}
	again, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	if err != nil || again.Records != 0 || len(again.Outputs) != 0 {
		t.Errorf("a second redrive: %+v, %v", again, err)
	}
	if got := e.left("S002"); got["T3/OVERDUEFINE"] != "0.82 USD" {
		t.Errorf("after the redrive the bursar holds %v of S002", got)
	}
	if held, err := e.journal.Held(t.Context(), reconcile.KindCharge); err != nil || len(held) != 0 {
		t.Errorf("held after the redrive: %+v, %v", held, err)
	}
}

func TestResultsRefusedCreditLeavesTheChargeHeld(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.library, "credits/c1.xml", "credit|T2|S001|F2|LOSTITEMPROCESSFEE|15.00", "end|1")
	if res, err := e.jobs(nil).Credits(t.Context()); err != nil || res.Records != 1 {
		t.Fatalf("credits: %+v, %v", res, err)
	}
	if got := e.left("S001"); got["T2/LOSTITEMPROCESSFEE"] != "0.00 USD" {
		t.Fatalf("after the credit: %v", got)
	}
	e.put(e.bursar, "results/r2.csv", "T2|LOSTITEMPROCESSFEE|R|ERROR|Cannot reverse this charge")
	res, err := e.jobs(nil).Results(t.Context())
	if err != nil || len(res.Rejected) != 1 || res.Rejected[0].Kind != reconcile.KindCredit {
		t.Fatalf("results: %+v, %v", res, err)
	}
	if got := e.left("S001"); got["T2/LOSTITEMPROCESSFEE"] != "15.00 USD" {
		t.Errorf("a refused credit leaves the charge held whole; the bursar holds %v", got)
	}
	res, err = e.jobs(nil).Redrive(t.Context(), reconcile.KindCredit)
	if err != nil || res.Records != 1 {
		t.Fatalf("redrive of the credit: %+v, %v", res, err)
	}
	if got := files(t, e.bursar)[res.Outputs[0]]; !strings.Contains(got, "R|T2|S001|LOSTITEMPROCESSFEE|-15.00\n") {
		t.Errorf("the re-driven credit file:\n%s", got)
	}
	if got := e.left("S001"); got["T2/LOSTITEMPROCESSFEE"] != "0.00 USD" {
		t.Errorf("after the credit is re-driven: %v", got)
	}
}

func TestResultsUnmatchedAndBadLinesAreHeld(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "results/r3.csv",
		"T9|OVERDUEFINE|C|ERROR|Invalid Item Type",
		"bad|STATUS: unknown status \"MAYBE\"",
		"T3||C|ERROR|Invalid Term")
	res, err := e.jobs(nil).Results(t.Context())
	if err != nil || len(res.Rejected) != 3 {
		t.Fatalf("results: %+v, %v", res, err)
	}
	for i, want := range []string{"names charge T9 of fee type OVERDUEFINE, which feebridge did not send", "unknown status", "refused by PeopleSoft: Invalid Term"} {
		if !strings.Contains(res.Rejected[i].Reason, want) {
			t.Errorf("rejection %d: %q, want it to say %q", i, res.Rejected[i].Reason, want)
		}
	}
	if res.Rejected[0].Kind != reconcile.KindResult || res.Rejected[1].Kind != reconcile.KindResult || res.Rejected[2].Key != "T3/OVERDUEFINE" {
		t.Errorf("rejections: %+v", res.Rejected)
	}
	// A malformed file fails whole, to failed/.
	e.put(e.bursar, "results/r4.csv", "nonsense")
	res, err = e.jobs(nil).Results(t.Context())
	if err != nil || len(res.Failed) != 1 {
		t.Fatalf("a malformed file: %+v, %v", res, err)
	}
}

// The report lists a refused charge as sent and refused, with the load's
// message and how to re-drive it, apart from the fees never sent.
func TestReportShowsRefusedApartFromNotSent(t *testing.T) {
	e := newEnv(t)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.put(e.library, "exports/alma-1.xml",
		"fee|T1|S001|F1|OVERDUEFINE|B1|3.00",
		"fee|T2|S002|F2|DAMAGEDITEMFINE|B2|5.00",
		"end|2")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(e.bursar, "results/r1.csv", "T1|OVERDUEFINE|C|ERROR|Invalid Employee ID")
	if _, err := e.jobs(nil).Results(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := e.jobs(nil).BuildReport(t.Context(), day(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refused) != 1 || len(rep.NotSent) != 1 || rep.Refused[0].Key != "T1/OVERDUEFINE" || rep.NotSent[0].Key != "T2/DAMAGEDITEMFINE" {
		t.Fatalf("refused %+v, not sent %+v", rep.Refused, rep.NotSent)
	}
	var text strings.Builder
	if err := rep.WriteCSV(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Sent, refused by PeopleSoft",
		"Fee F1 of 3.00 (OVERDUEFINE, student S001) in r1.csv line 1 was sent, refused by PeopleSoft (sent in feebridge-charges-",
		": Invalid Employee ID.",
		"feesync redrive T1/OVERDUEFINE",
		"F2 of 5.00 (DAMAGEDITEMFINE, student S002) in alma-1.xml line 2 was not sent to the bursar",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, text.String())
		}
	}
}

// A results run killed at any step and run again ends as a run that was
// not killed: the refusals held once, the file in done/.
func TestResultsCrashAtEachStep(t *testing.T) {
	setup := func(t *testing.T, e *env) {
		exportA(e)
		if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.put(e.bursar, "results/r1.csv", "T1|LOSTITEMREPLACEMENTFEE|C|POSTED|", "T3|OVERDUEFINE|C|ERROR|Invalid Employee ID")
	}
	clean := newEnv(t)
	setup(t, clean)
	if _, err := clean.jobs(nil).Results(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := clean.state()
	for _, step := range []string{reconcile.StepDecide, reconcile.StepDone} {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			setup(t, e)
			crash := errors.New("crash")
			_, err := e.jobs(func(s string) error {
				if s == step {
					return crash
				}
				return nil
			}).Results(t.Context())
			if !errors.Is(err, crash) {
				t.Fatalf("fault at %s: err = %v", step, err)
			}
			if _, err := e.jobs(nil).Results(t.Context()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, e.state()); diff != "" {
				t.Errorf("after a crash at %s and a rerun (-clean +got):\n%s", step, diff)
			}
		})
	}
}

// The reconciliation does not count a refused charge as held by the
// bursar: it names it as sent and refused, until it is re-driven.
func TestReconcileNamesRefusedCharge(t *testing.T) {
	e := newEnv(t)
	a := newFakeAlma()
	e.alma = a
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.add("S001", "F1", "T1", fees.TypeLostItemReplacementFee, "B100", "120.00")
	a.add("S001", "F2", "T2", fees.TypeLostItemProcessFee, "B100", "15.00")
	a.add("S002", "F3", "T3", fees.TypeOverdueFine, "B200", "0.82")
	e.put(e.bursar, "results/r1.csv", "T3|OVERDUEFINE|C|ERROR|Invalid Employee ID")
	if _, err := e.jobs(nil).Results(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec, err := e.jobs(nil).Reconcile(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Disagreements) != 1 {
		t.Fatalf("disagreements: %+v", rec.Disagreements)
	}
	d := rec.Disagreements[0]
	if d.UserID != "S002" || d.Bursar.Valid() || !d.Alma.Equal(usd("0.82")) ||
		d.Problem != "transferred in Alma, sent but refused by PeopleSoft (Invalid Employee ID): held, to be re-driven" {
		t.Errorf("disagreement = %+v", d)
	}
	if _, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge); err != nil {
		t.Fatal(err)
	}
	if rec, err := e.jobs(nil).Reconcile(t.Context(), nil); err != nil || !rec.Agree() {
		t.Errorf("after the re-drive: %+v, %v", rec.Disagreements, err)
	}
}

// A refund line (R8) the load refused is held with the load's message,
// apart from the charge it refunds, and re-driven once; one it posted is
// confirmed.
func TestResultsRefusedRefundIsHeldUntilRedriven(t *testing.T) {
	e := newEnv(t)
	e.opts.Refunds = map[fees.Type]reconcile.RefundPolicy{
		fees.TypeLostItemReplacementFee: {Action: reconcile.RefundSend, Ratio: fees.FullRefund},
		fees.TypeLostItemProcessFee:     {Action: reconcile.RefundSend, Ratio: fees.FullRefund},
	}
	refundSetup(t, e)
	if res, err := e.jobs(nil).Credits(t.Context()); err != nil || len(res.Rejected) != 0 {
		t.Fatalf("credits: %+v, %v", res, err)
	}
	e.put(e.bursar, "results/r-refunds.csv",
		"T1|LOSTITEMREPLACEMENTFEE|R|POSTED|",
		"T1|LOSTITEMREPLACEMENTFEE|F|POSTED|",
		"T2|LOSTITEMPROCESSFEE|F|ERROR|Refund item type not set up")
	res, err := e.jobs(nil).Results(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Confirmed != 2 || len(res.Rejected) != 1 {
		t.Fatalf("results: %+v", res)
	}
	if r := res.Rejected[0]; r.Kind != reconcile.KindRefund || r.Key != "T2/LOSTITEMPROCESSFEE" || r.Code != reconcile.CodeBursarRefused ||
		!strings.Contains(r.Reason, "refused by PeopleSoft: Refund item type not set up") {
		t.Errorf("rejection = %+v", r)
	}
	if got, ok, err := e.journal.Get(t.Context(), reconcile.KindRefund, "T1/LOSTITEMREPLACEMENTFEE"); err != nil || !ok || got.Outcome != reconcile.OutcomeRefunded {
		t.Errorf("the posted refund: %+v, %v, %v", got, ok, err)
	}
	red, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindRefund)
	if err != nil || red.Records != 1 || len(red.Outputs) != 1 {
		t.Fatalf("redrive of the refund: %+v, %v", red, err)
	}
	if got := files(t, e.bursar)[red.Outputs[0]]; !strings.Contains(got, "F|T2|S001|LOSTITEMPROCESSFEE|-15.00\n") {
		t.Errorf("the re-driven refund file:\n%s", got)
	}
	if again, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindRefund); err != nil || again.Records != 0 {
		t.Errorf("a second redrive: %+v, %v", again, err)
	}
	if got, ok, err := e.journal.Get(t.Context(), reconcile.KindRefund, "T2/LOSTITEMPROCESSFEE"); err != nil || !ok || got.Outcome != reconcile.OutcomeRefunded || !got.Amount.Equal(usd("15.00")) {
		t.Errorf("the re-driven refund in the journal: %+v, %v, %v", got, ok, err)
	}
}
