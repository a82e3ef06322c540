package reconcile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/internal/browsertest"
	"github.com/feebridge/feebridge/reconcile"
)

// TestReportInChromium renders the morning report in headless Chromium
// at 1280 and 400 px: nothing overflows, the exception rows and every
// total (0.00 included) are on the page, and the partial banner shows
// when Alma could not be reached. Screenshots are kept as artifacts.
func TestReportInChromium(t *testing.T) {
	e := newEnv(t)
	a := lostSetup(e)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.opts.ExpectFilesWithin = map[string]time.Duration{reconcile.JobCredits: 2 * time.Hour}
	e.put(e.library, "exports/alma-1.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T2|S001|F2|LOSTITEMPROCESSFEE|B100|15.00",
		"fee|T9|S001|F9|OVERDUEFINE|B900|3.00",
		"fee|T5|S005|F5|DAMAGEDITEMFINE|B500|5.00",
		"end|4")
	e.put(e.library, "exports/an-export-file-with-a-very-long-name-that-has-no-place-to-break-"+strings.Repeat("x", 60)+".xml", "nonsense")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.jobs(nil).Credits(t.Context()); err != nil { // its folder stays quiet
		t.Fatal(err)
	}
	e.put(e.bursar, "outbound/pay.csv", "R1|T9|S001|3.00|ESERVICES|CREDIT_CARD", "R2|T1|S001|500.00|CASHIER|CASH", "end|2")
	if _, err := e.jobs(nil).Payments(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.failNext = reconcile.Permanent(errors.New("Alma answered 400 401651"))
	if err := e.jobs(nil).LoanReturned(t.Context(), returned); err == nil {
		t.Fatal("no error from the failed webhook")
	}
	e.now = morning(0)
	rep, err := e.jobs(nil).BuildReport(t.Context(), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Exceptions() < 6 {
		t.Fatalf("report lists %d exceptions: %+v", rep.Exceptions(), rep)
	}
	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, p := range browsertest.Check(t, "report", html.Bytes(), 1280, 400) {
		for _, want := range []string{
			"Library fees report", "Monday 2 March 2026 00:00 – Tuesday 3 March 2026 00:00",
			"1. Needs staff", "2. What flowed", "3. The schedule",
			"Payment of 500.00 for fee F1", "was held: the amount is more than the fee still owes",
			"Fee F5 of 5.00 (DAMAGEDITEMFINE, student S005) in alma-1.xml line 4 was not sent to the bursar",
			"Item B100 came back (student S001), but its lost-item fees were not waived",
			"Lost item B100 of student S001 is no longer lost, but its fee F1",
			"could not be read", "No new credits file in the folder credits",
			"Charges sent to the bursar", "138.00", "Payments forwarded to Alma (ESERVICES)", "3.00",
			"Payments forwarded to Alma (CASHIER)", "Credits and waivers sent to the bursar",
			"Lost items returned: fees waived in Alma", "0.00", "no run recorded",
		} {
			if !strings.Contains(p.Text, want) {
				t.Errorf("at %d px the page lacks %q:\n%s", p.Width, want, p.Text)
			}
		}
		if strings.Contains(p.Text, "Partial report") {
			t.Errorf("at %d px a whole report shows the partial banner", p.Width)
		}
	}

	rep.Partial, rep.PartialReason = true, "Alma could not be reached (dial tcp 10.0.0.1:443: connect: connection refused): this report was written from the journal alone"
	html.Reset()
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, p := range browsertest.Check(t, "report-partial", html.Bytes(), 400) {
		if !strings.HasPrefix(strings.TrimSpace(strings.SplitN(p.Text, "Needs staff", 2)[0]), "Library fees report") ||
			!strings.Contains(p.Text, "Partial report. Alma could not be reached") {
			t.Errorf("partial banner missing:\n%s", p.Text)
		}
	}
}
