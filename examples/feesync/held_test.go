package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// heldSite is a site whose evening export charged two fees: 40.00 to
// 10012345 (an overdue fine, item type 300000000001) and 40.00 to 10067890
// (a damaged item, 300000000004). It returns their transaction ids.
func heldSite(t *testing.T) (s *site, t1, t2 string) {
	t.Helper()
	s = newSite(t)
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	s.must(a.AddUser(almatest.User{ID: "10067890", FirstName: "Alan", LastName: "Turing"}))
	f1, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("40.00")})
	s.must(err)
	f2, err := a.AddFee("10067890", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00")})
	s.must(err)
	_, err = a.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	s.clock.Advance(30 * time.Minute)
	wantRun(t, s.run("run", "charges"), ExitOK, "records=2")
	return s, f1.TransactionID, f2.TransactionID
}

const payHeader = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"

// pay drops a PeopleSoft payment file and runs the payments job.
func (s *site) pay(name string, lines ...string) result {
	s.t.Helper()
	s.must(os.WriteFile(filepath.Join(s.psDir, "outbound", name), []byte(payHeader+strings.Join(lines, "\n")+"\n"), 0o644))
	s.clock.Advance(time.Hour)
	return s.run("run", "payments")
}

// report runs the daily report and returns its CSV.
func (s *site) report() string {
	s.t.Helper()
	r := s.run("run", "report")
	wantRun(s.t, r, ExitOK, "job=report")
	b, err := os.ReadFile(filepath.Join(s.libDir, "reports", "feebridge-report-"+s.clock.Now().UTC().Format("2006-01-02")+".csv"))
	s.must(err)
	return string(b)
}

// heldRows returns the rows of `feesync held` (args added) whose key
// starts with prefix, without the header.
func (s *site) heldRows(prefix string, args ...string) []string {
	s.t.Helper()
	r := s.run(append([]string{"held"}, args...)...)
	wantRun(s.t, r, ExitOK)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "STATUS\tKIND\tKEY\tFILE\tLINE\tSTUDENT\tAMOUNT\tCODE\tREASON") {
		s.t.Fatalf("held printed no header:\n%s", r.stdout)
	}
	var out []string
	for _, l := range lines[1:] {
		if f := strings.Split(l, "\t"); len(f) > 2 && strings.HasPrefix(f[2], prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestConflictingPaymentIsHeld: the case 2. A payment with the
// receipt, reference and item type of one already forwarded, but another
// amount, is held as a conflict naming both files and lines and both
// amounts; it shows in held and in the report, and is dismissed with a
// reason kept in the journal. The same payment sent again is still
// skipped.
func TestConflictingPaymentIsHeld(t *testing.T) {
	s, t1, _ := heldSite(t)
	wantRun(t, s.pay("pay-1.csv", "10012345,"+t1+",300000000001,40.00,33.33,2026-03-03,CASHIER,CASH,R1"), ExitOK, "records=1")

	// The same payment again, in another file: a duplicate, skipped.
	r := s.pay("pay-2.csv", "10012345,"+t1+",300000000001,40.00,33.33,2026-03-03,CASHIER,CASH,R1",
		"10012345,"+t1+",300000000001,40.00,1.00,2026-03-03,CASHIER,CASH,R2")
	wantRun(t, r, ExitOK, "records=1", "skipped=1", "rejected=0")

	// Another amount under the same key: held, not skipped.
	r = s.pay("pay-3.csv", "10012345,"+t1+",300000000001,60.00,50.00,2026-03-03,CASHIER,CASH,R1")
	key := "R1/" + t1 + "/300000000001"
	wantRun(t, r, ExitRejected, "records=0", "skipped=0", "rejected=1", "pay-3.csv:2: "+key+"#conflict:",
		"conflicts with the one forwarded from pay-1.csv line 2", "amount 50.00 USD, was 33.33 USD")
	rows := s.heldRows(key)
	if len(rows) != 1 {
		t.Fatalf("held lists %q, want the conflict", rows)
	}
	f := strings.Split(rows[0], "\t")
	if f[0] != "held" || f[1] != "payment" || f[3] != "pay-3.csv" || f[4] != "2" || f[5] != fees.MaskID("10012345") ||
		f[6] != "50.00 USD" || f[7] != fees.ECONFLICT || !strings.Contains(f[8], "pay-1.csv line 2") {
		t.Errorf("held row = %q", f)
	}
	conflict := f[2]
	if rep := s.report(); !strings.Contains(rep, conflict) || !strings.Contains(rep, "conflict: payment "+key) {
		t.Errorf("the report does not list the conflict:\n%s", rep)
	}
	// The payment that went through keeps its row.
	if got := s.heldRows(key, "-all"); len(got) != 1 {
		t.Errorf("held -all lists %q", got)
	}

	// Dismissed, with a reason: gone from held and the report, kept in
	// the audit trail.
	wantRun(t, s.run("dismiss", conflict), ExitUsage, "-reason is required")
	r = s.run("dismiss", conflict, "-reason", "bursar confirms 33.33; the 50.00 was a typo", "-by", "jdoe")
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "dismissed payment "+conflict) {
		t.Errorf("dismiss printed %q", r.stdout)
	}
	if got := s.heldRows(key); len(got) != 0 {
		t.Errorf("held still lists %q", got)
	}
	if rep := s.report(); strings.Contains(rep, conflict) {
		t.Errorf("the report still lists the dismissed conflict:\n%s", rep)
	}
	all := s.heldRows(key, "-all")
	if len(all) != 1 {
		t.Fatalf("held -all lists %q, want the dismissal", all)
	}
	if f := strings.Split(all[0], "\t"); f[0] != "dismissed" || f[2] != conflict || f[3] != "pay-3.csv" || f[7] != fees.ECONFLICT ||
		f[10] != "jdoe" || f[11] != "bursar confirms 33.33; the 50.00 was a typo" {
		t.Errorf("held -all row = %q", f)
	}
	// A key not held is a clear error.
	wantRun(t, s.run("dismiss", conflict, "-reason", "again", "-by", "jdoe"), ExitFailure,
		"no held record under key "+conflict+": it is payment dismissed")
	wantRun(t, s.run("dismiss", "R9/none", "-reason", "x", "-by", "jdoe"), ExitFailure,
		"no held record under key R9/none: the journal has no record of that key")
}

// TestHeldLineSupersededByCorrection: the case 6. A payment line
// whose date cannot be read is held under its line, with its student,
// amount, file and line; once the corrected payment is forwarded from a
// new file, the held line is superseded: it leaves held and the report,
// and held -all says what superseded it.
func TestHeldLineSupersededByCorrection(t *testing.T) {
	s, t1, t2 := heldSite(t)
	r := s.pay("pay-1.csv",
		"10012345,"+t1+",300000000001,40.00,10.00,2026-02-30,CASHIER,CASH,R1", // no such day
		"10067890,"+t2+",300000000004,40.00,5.00,2099-01-01,CASHIER,CASH,R2")  // in the future
	wantRun(t, r, ExitRejected, "records=0", "rejected=2", "pay-1.csv:2: ", "PAID_DATE", "dated 2099-01-01")
	rows := s.heldRows("")
	if len(rows) != 2 {
		t.Fatalf("held lists %q", rows)
	}
	var line []string
	for _, row := range rows {
		if f := strings.Split(row, "\t"); f[4] == "2" {
			line = f
		}
	}
	if line == nil || line[3] != "pay-1.csv" || line[5] != fees.MaskID("10012345") || line[6] != "10.00 USD" ||
		!strings.HasSuffix(line[2], ":2") {
		t.Fatalf("held line = %q; want its file, line, student and amount", line)
	}
	if rep := s.report(); !strings.Contains(rep, line[2]) || !strings.Contains(rep, "R2/"+t2) {
		t.Fatalf("the report does not list the held records:\n%s", rep)
	}

	// Corrected and sent again: both go through and close what was held.
	r = s.pay("pay-2.csv",
		"10012345,"+t1+",300000000001,40.00,10.00,2026-03-02,CASHIER,CASH,R1",
		"10067890,"+t2+",300000000004,40.00,5.00,2026-03-02,CASHIER,CASH,R2")
	wantRun(t, r, ExitOK, "records=2", "rejected=0")
	if got := s.heldRows(""); len(got) != 0 {
		t.Errorf("held still lists %q", got)
	}
	if rep := s.report(); strings.Contains(rep, line[2]) || strings.Contains(rep, "held payment") {
		t.Errorf("the report still lists a superseded record:\n%s", rep)
	}
	all := s.heldRows("", "-all")
	want := map[string]string{
		line[2]:                      "payment R1/" + t1 + "/300000000001 forwarded from pay-2.csv line 2",
		"R2/" + t2 + "/300000000004": "payment R2/" + t2 + "/300000000004 forwarded from pay-2.csv line 3",
	}
	if len(all) != 2 {
		t.Fatalf("held -all lists %q", all)
	}
	for _, row := range all {
		f := strings.Split(row, "\t")
		if f[0] != "superseded" || f[10] != "feebridge" || f[11] != want[f[2]] || f[3] != "pay-1.csv" {
			t.Errorf("held -all row = %q", f)
		}
	}
	// Nothing is left to re-drive.
	wantRun(t, s.run("redrive", "payment"), ExitOK, "records=0")
}

// TestDismissedIsNotRedriven: a held payment that could be re-driven is
// dismissed; redrive then leaves it alone.
func TestDismissedIsNotRedriven(t *testing.T) {
	s, t1, _ := heldSite(t)
	r := s.pay("pay-1.csv", "10012345,"+t1+",300000000001,50.00,45.00,2026-03-03,CASHIER,CASH,R1")
	wantRun(t, r, ExitRejected, "rejected=1")
	key := "R1/" + t1 + "/300000000001"
	wantRun(t, s.run("dismiss", key, "-by", "jdoe", "-reason", "refunded by the bursar"), ExitOK)
	r = s.run("redrive", "payment")
	wantRun(t, r, ExitOK, "records=0", "rejected=0")
	if got := s.files(filepath.Join(s.libDir, "imports")); len(got) != 0 {
		t.Errorf("redrive wrote %v", got)
	}
	wantRun(t, s.run("held", "-kind", "fine"), ExitUsage, `-kind "fine" is not charge, credit, payment or refund`)
	if got := s.heldRows(key, "-kind", "charge", "-all"); len(got) != 0 {
		t.Errorf("held -kind charge lists %q", got)
	}
}
