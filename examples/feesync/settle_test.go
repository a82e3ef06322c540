package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// TestRunPaymentsFileWrittenInTwoParts is issue 15, case 1: PeopleSoft
// writes a payment file of 7 payments in two parts, and `run payments`
// runs between them. It used to exit 0 having forwarded the 3 payments
// of the first part, one of them with its receipt cut ("G-3" for
// "G-345"), and the rest was never read. Now the run sees the file for
// the first time, waits for it to settle, sees it change and leaves it;
// the next run finds it unchanged and forwards all 7, whole.
func TestRunPaymentsFileWrittenInTwoParts(t *testing.T) {
	ctx := t.Context()
	s := newSite(t)
	// The district's default: settle = "1m" on the PeopleSoft drop.
	b, err := os.ReadFile(s.config)
	s.must(err)
	cfg := strings.Replace(string(b), "# The test writes each file whole before a run: claimed at once.\nsettle = \"0s\"\n", "", 1)
	if cfg == string(b) {
		t.Fatal("peoplesoft settle not removed")
	}
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))

	a := s.alma
	whole := paymentHeader + strings.Join(sevenCharged(t, s), "\n") + "\n"
	cut := strings.Index(whole, "G-345") + len("G-3") // the first part ends inside line 3's receipt
	pay := filepath.Join(s.psDir, "outbound", "pay-0303.csv")
	s.must(os.WriteFile(pay, []byte(whole[:cut]), 0o644))
	s.clock.Advance(time.Hour)
	waits := 0
	s.sleep = func(ctx context.Context, d time.Duration) error {
		waits++
		s.clock.Advance(d)
		// PeopleSoft writes the second part while the run waits.
		return os.WriteFile(pay, []byte(whole), 0o644)
	}
	r := s.run("run", "payments")
	wantRun(t, r, ExitOK, "files=0", "records=0", "pay-0303.csv: waiting: waiting for it to settle")
	if waits != 1 {
		t.Errorf("the run waited %d times, want once", waits)
	}
	if got := s.files(filepath.Join(s.libDir, "imports")); len(got) != 0 {
		t.Fatalf("forwarded %v from a file still being written", got)
	}
	if got := s.files(filepath.Join(s.psDir, "outbound")); len(got) != 1 || got[0] != "pay-0303.csv" {
		t.Fatalf("outbound holds %v, want the file left in place", got)
	}

	// The next hourly run: the file has not changed since; claimed at once.
	s.clock.Advance(time.Hour)
	s.sleep = func(context.Context, time.Duration) error { t.Error("the second run waited"); return nil }
	r = s.run("run", "payments")
	wantRun(t, r, ExitOK, "files=1", "records=7", `total="28.00 USD"`)
	imp, err := a.RunImport(ctx, s.library, "imports")
	s.must(err)
	if len(imp.Applied()) != 7 || len(imp.Rejected()) != 0 {
		t.Fatalf("Alma's import applied %d, rejected %d; want 7 and 0", len(imp.Applied()), len(imp.Rejected()))
	}
	done, err := os.ReadFile(filepath.Join(s.psDir, "outbound", "done", "pay-0303.csv"))
	if err != nil || string(done) != whole {
		t.Errorf("done/pay-0303.csv = %q, %v", done, err)
	}
}

const paymentHeader = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"

// sevenCharged charges seven fees of 1.00 to 7.00 to one student and
// returns a payment line in full for each, receipts G-145 to G-745.
func sevenCharged(t *testing.T, s *site) []string {
	t.Helper()
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	var lines []string
	for i := range 7 {
		f, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd(fmt.Sprintf("%d.00", i+1))})
		s.must(err)
		lines = append(lines, fmt.Sprintf("10012345,%s,300000000001,%d.00,%d.00,2026-03-03,CASHIER,CASH,G-%d45", f.TransactionID, i+1, i+1, i+1))
	}
	_, err := a.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	s.clock.Advance(30 * time.Minute)
	wantRun(t, s.run("run", "charges"), ExitOK, "records=7")
	return lines
}

// TestRunPaymentsTrailerDisagrees: a payment file whose trailer row does
// not match what was read (a file cut short: 3 of the 7 payments it
// announces) goes whole to failed/, with a reason naming the file, the
// trailer's line and both totals; nothing of it is forwarded. Its good
// twin, trailer and all, is forwarded.
func TestRunPaymentsTrailerDisagrees(t *testing.T) {
	s := newSite(t)
	lines := sevenCharged(t, s)
	short := paymentHeader + strings.Join(lines[:3], "\n") + "\nTRAILER,7,28.00\n"
	s.must(os.WriteFile(filepath.Join(s.psDir, "outbound", "pay-0303.csv"), []byte(short), 0o644))
	s.clock.Advance(time.Hour)
	r := s.run("run", "payments")
	wantRun(t, r, ExitRejected, "failed_files=1", "records=0",
		"pay-0303.csv: failed: pay-0303.csv: peoplesoft: line 5: RECORD_COUNT: trailer count disagrees: the trailer says 7 records, the file has 3; "+
			"trailer total disagrees: the trailer says 28.00 USD, the records add up to 6.00 USD")
	if got := s.files(filepath.Join(s.libDir, "imports")); len(got) != 0 {
		t.Fatalf("forwarded %v from a file whose trailer disagrees", got)
	}
	if got := s.files(filepath.Join(s.psDir, "outbound", "failed")); len(got) != 2 {
		t.Errorf("outbound/failed holds %v, want the file and its reason", got)
	}

	whole := paymentHeader + strings.Join(lines, "\n") + "\nTRAILER,7,28.00\n"
	s.must(os.WriteFile(filepath.Join(s.psDir, "outbound", "pay-0303b.csv"), []byte(whole), 0o644))
	s.clock.Advance(time.Hour)
	wantRun(t, s.run("run", "payments"), ExitOK, "records=7", `total="28.00 USD"`)
}
