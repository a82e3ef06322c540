package almaport_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestOneLineExportHoldsEveryBadRecord folds alma/testdata/bursar/bad-records.xml
// onto one line, as some Alma exports are written: every record then starts
// on line 1, and each bad one must still be held under a key of its own, in
// the run result and in the journal, naming line 1.
func TestOneLineExportHoldsEveryBadRecord(t *testing.T) {
	ctx := t.Context()
	src, err := os.ReadFile("../../alma/testdata/bursar/bad-records.xml")
	if err != nil {
		t.Fatal(err)
	}
	oneLine := regexp.MustCompile(`>\s+<`).ReplaceAll(src, []byte("><"))
	oneLine = []byte(strings.TrimSpace(string(oneLine)))
	if strings.Contains(string(oneLine), "\n") {
		t.Fatal("fixture not folded onto one line")
	}
	dir := t.TempDir()
	journal, err := reconcile.OpenJournal(ctx, filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { journal.Close() })
	library, bursar := memdrop.New(), memdrop.New()
	for _, err := range []error{library.MkdirAll(ctx, "exports"), bursar.MkdirAll(ctx, "inbound"),
		library.WriteFile(ctx, "exports/one-line.xml", oneLine)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := reconcile.New(reconcile.Deps{
		Journal: journal, Library: library, Bursar: bursar,
		Export: almaport.ExportFormat{}, Charges: &psport.ChargeFormat{Mapping: peoplesoft.DefaultMapping()},
	}, &reconcile.Options{
		Now:     func() time.Time { return time.Date(2026, 3, 2, 18, 10, 0, 0, time.UTC) },
		TempDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Charges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var amount, noTx bool
	for _, r := range res.Rejected {
		if r.Line != 1 {
			t.Errorf("held %s: line %d, want 1", r.Key, r.Line)
		}
		if seen[r.Key] {
			t.Errorf("two held records share key %s", r.Key)
		}
		seen[r.Key] = true
		amount = amount || strings.Contains(r.Reason, "12.345")
		noTx = noTx || strings.Contains(r.Reason, "transaction")
	}
	if !amount || !noTx || len(res.Rejected) < 5 {
		t.Errorf("held = %+v, want the bad amount 12.345, the missing transaction id and the others", res.Rejected)
	}
	held, err := journal.Records(ctx, reconcile.KindCharge, reconcile.OutcomeRejected)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != len(res.Rejected) {
		t.Errorf("journal holds %d records, run result %d", len(held), len(res.Rejected))
	}
	for _, r := range held {
		if r.Line != 1 || !seen[r.Key] {
			t.Errorf("journal record %+v", r)
		}
	}
}
