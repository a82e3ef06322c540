package almaport_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestMITExportEndToEnd takes MIT's real export, whose five fees of one
// student share one bursar transaction id, through the whole path: the
// charges job sends all ten (none held), the simulated PeopleSoft ledger
// takes them as ten items (no exception), the students pay everything in
// eServices, and the payments job forwards every payment to an Alma import
// file in which each fee of the shared id is named by its own fee type.
func TestMITExportEndToEnd(t *testing.T) {
	ctx := t.Context()
	now := func() time.Time { return time.Date(2026, 3, 2, 18, 10, 0, 0, time.UTC) }
	journal, err := reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { journal.Close() })
	library, bursar := memdrop.New(), memdrop.New()
	export, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"exports", "imports"} {
		if err := library.MkdirAll(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"inbound/loaded", "outbound"} {
		if err := bursar.MkdirAll(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := library.WriteFile(ctx, "exports/MIT-1234-1700000000000.xml", export); err != nil {
		t.Fatal(err)
	}
	mapping := peoplesoft.DefaultMapping()
	jobs, err := reconcile.New(reconcile.Deps{
		Journal: journal, Library: library, Bursar: bursar,
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
	}, &reconcile.Options{Now: now, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}

	res, err := jobs.Charges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 10 || len(res.Rejected) != 0 || !res.Total.Equal(fees.MustParseMoney("579.72", fees.USD)) {
		t.Fatalf("charges = %+v", res)
	}

	ps := sim.NewPeopleSoft(bursar, now, fees.USD, 11)
	if _, err := ps.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if p := ps.Problems(); len(p) > 0 {
		t.Fatalf("PeopleSoft held lines: %q", p)
	}
	if n := len(ps.Items()); n != 10 {
		t.Fatalf("ledger holds %d items, want 10", n)
	}
	for _, s := range ps.Ledger().Students() {
		if _, err := ps.Ledger().PayEServices(s, now()); err != nil {
			t.Fatal(err)
		}
	}
	name, _, err := ps.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// PeopleSoft repeats the first payment at the end of the file: it is
	// held, naming the line it repeats, and the rest goes through.
	paid, err := bursar.ReadFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(paid), "\n")
	if err := bursar.WriteFile(ctx, name, []byte(string(paid)+lines[1])); err != nil {
		t.Fatal(err)
	}
	pr, err := jobs.Payments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Records != 10 || len(pr.Rejected) != 1 || !pr.Total.Equal(fees.MustParseMoney("579.72", fees.USD)) {
		t.Fatalf("payments = %+v", pr)
	}
	if r := pr.Rejected[0]; r.Line != len(lines) || !strings.Contains(r.Reason, "repeats line 2 of this file") {
		t.Errorf("held %+v, want line %d as a repeat of line 2", r, len(lines))
	}
	if len(pr.Outputs) != 1 {
		t.Fatalf("outputs %v", pr.Outputs)
	}
	data, err := library.ReadFile(ctx, pr.Outputs[0])
	if err != nil {
		t.Fatal(err)
	}
	dec := alma.NewExportDecoder(bytes.NewReader(data), nil)
	var shared []string
	for {
		rec, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.TransactionID == "15216075690006761" {
			shared = append(shared, string(rec.Type)+" "+rec.Amount.String())
		}
	}
	want := []string{"OVERDUEFINE 14.00 USD", "OTHER 10.00 USD", "DAMAGEDITEMFINE 10.00 USD",
		"RECALLEDOVERDUEFINE 10.00 USD", "LOSTITEMPROCESSFEE 10.00 USD"}
	slices.Sort(want)
	slices.Sort(shared)
	if diff := cmp.Diff(want, shared); diff != "" {
		t.Errorf("import records of the shared id (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(pr.Outputs[0], "imports/") {
		t.Errorf("output %s", pr.Outputs[0])
	}
}
