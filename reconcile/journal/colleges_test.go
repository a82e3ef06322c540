package journal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// BenchmarkColleges sums the per-college figures of a journal of 20,000
// charges over four colleges, half of them paid in part: the daily
// report and the reconciliation ask once each.
func BenchmarkColleges(b *testing.B) {
	ctx := b.Context()
	t0 := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	j, err := journal.OpenMemory(ctx, &journal.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	colleges := []string{"ARC", "CRC", "FLC", "SCC"}
	const n = 20000
	var charges, payments []journal.Record
	for i := range n {
		key := fees.ChargeKey(fmt.Sprint(i), fees.TypeOverdueFine)
		charges = append(charges, journal.Record{Kind: journal.KindCharge, Key: key, Outcome: journal.OutcomeCharged,
			UserID: fmt.Sprintf("S%d", i/3), FeeType: fees.TypeOverdueFine, Amount: fees.FromMinor(500, fees.USD),
			College: colleges[i%len(colleges)]})
		if i%2 == 0 {
			payments = append(payments, journal.Record{Kind: journal.KindPayment, Key: fmt.Sprintf("R%d", i), Outcome: journal.OutcomeForwarded,
				Ref: key, Amount: fees.FromMinor(200, fees.USD)})
		}
	}
	f := journal.FileRecord{Job: "charges", Name: "bench.xml", SHA256: "bench", Status: journal.FileDeciding, Decided: t0}
	v, err := j.Begin(ctx, f, t0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Insert(ctx, charges); err != nil {
		b.Fatal(err)
	}
	f = v.File()
	f.Status = journal.FilePublished
	if err := v.Commit(ctx, f); err != nil {
		b.Fatal(err)
	}
	for _, r := range payments {
		if err := j.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		figs, err := j.Colleges(ctx)
		if err != nil || len(figs) != len(colleges) || figs[0].Charges != n/len(colleges) {
			b.Fatalf("Colleges = %+v, %v", figs, err)
		}
	}
}
