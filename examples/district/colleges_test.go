package district_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// TestUnmappedLibraryHeldThenRedriven: with SCC's library left out of the
// configuration, its fee is held with that reason (never sent to another
// college) while ARC's goes to ARC's business unit; once the
// configuration maps SCC, a re-drive sends the held fee to SCC's business
// unit, and a credit of it later goes there too.
func TestUnmappedLibraryHeldThenRedriven(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	withoutSCC := district.Mapping()
	withoutSCC.Colleges = withoutSCC.Colleges[:3]
	w.openJobs(withoutSCC)

	a := w.Alma()
	w.must(a.AddUser(almatest.User{ID: "S1", FirstName: "Student", LastName: "A"}))
	w.must(a.AddItem(almatest.Item{Barcode: "B-ARC", Title: "Organic Chemistry", Library: "ARC"}))
	w.must(a.AddItem(almatest.Item{Barcode: "B-SCC", Title: "Calculus", Library: "SCC"}))
	arc, err := a.AddFee("S1", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00"), Barcode: "B-ARC"})
	w.must(err)
	scc, err := a.AddFee("S1", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("25.00"), Barcode: "B-SCC"})
	w.must(err)

	w.must(w.AlmaExport(ctx))
	res, err := w.jobs.Charges(ctx)
	w.must(err)
	_, err = w.PeopleSoft().Load(ctx)
	w.must(err)
	if res.Records != 1 || len(res.Rejected) != 1 {
		t.Fatalf("charges job: %d sent, held %+v; want ARC's sent and SCC's held", res.Records, res.Rejected)
	}
	if it, ok := w.PeopleSoft().Item(arc.TransactionID); !ok || it.BusinessUnit != "ARC01" {
		t.Errorf("ARC's fee in PeopleSoft: %+v, %v; want business unit ARC01", it, ok)
	}
	if _, ok := w.PeopleSoft().Item(scc.TransactionID); ok {
		t.Errorf("SCC's fee reached PeopleSoft while its library was mapped to no college")
	}
	held, err := w.journal.Held(ctx, reconcile.KindCharge)
	w.must(err)
	if len(held) != 1 || held[0].FeeID != scc.TransactionID || !strings.Contains(held[0].Reason, `library "SCC" is mapped to no college`) {
		t.Fatalf("held = %+v; want SCC's fee held for its library", held)
	}

	// The daily report lists it among the fees not sent, with the reason.
	rr, err := w.jobs.Report(ctx)
	w.must(err)
	if ns := rr.Report.NotSent; len(ns) != 1 || ns[0].FeeID != scc.TransactionID || !strings.Contains(ns[0].Reason, `library "SCC"`) {
		t.Errorf("the report's fees not sent: %+v; want SCC's fee with its reason", ns)
	}

	// The configuration now maps SCC: a re-drive sends the held fee.
	w.openJobs(district.Mapping())
	rd, err := w.jobs.Redrive(ctx, reconcile.KindCharge)
	w.must(err)
	_, err = w.PeopleSoft().Load(ctx)
	w.must(err)
	if rd.Records != 1 || !rd.Total.Equal(usd("25.00")) {
		t.Errorf("redrive = %+v; want SCC's 25.00", rd)
	}
	if it, ok := w.PeopleSoft().Item(scc.TransactionID); !ok || it.BusinessUnit != "SCC01" || !it.Balance.Equal(usd("25.00")) {
		t.Errorf("SCC's fee in PeopleSoft after the re-drive: %+v, %v; want 25.00 on SCC01", it, ok)
	}
	if held, _ := w.journal.Held(ctx, reconcile.KindCharge); len(held) != 0 {
		t.Errorf("still held after the re-drive: %+v", held)
	}

	// A waiver of SCC's fee comes back as a credit to SCC's business unit.
	_, err = a.Waive("S1", scc.ID, usd("25.00"), "LIBRARY_WAIVE", "")
	w.must(err)
	w.hourly()
	if it, _ := w.PeopleSoft().Item(scc.TransactionID); !it.Credited.Equal(usd("25.00")) || !it.Balance.IsZero() {
		t.Errorf("SCC's fee after its waiver: %+v; want credited 25.00", it)
	}
}
