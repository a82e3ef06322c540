package journaltest

import (
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// testColleges checks that a charge keeps the college it was routed to
// and the library that owns its fee,
// whether journaled in bulk (Insert), claimed or put, and that Colleges
// sums each college's charges, what the bursar holds of them (less the
// payments and credits) and the newest reconciliation's disagreements,
// charges without a college under "".
func testColleges(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	arc1, arc2 := charge("T1/OVERDUEFINE", "S1", "10.00"), charge("T2/OVERDUEFINE", "S1", "5.50")
	arc1.College, arc2.College, arc2.Line = "ARC", "ARC", 2
	arc1.Owner, arc2.Owner = "ARC-MAIN", "ARC-LAW"
	crc := charge("T3/OVERDUEFINE", "S2", "20.00")
	crc.College, crc.Owner, crc.Line = "CRC", "CRC", 3
	old := charge("T4/OVERDUEFINE", "S3", "1.25") // decided before the journal kept colleges
	old.Line = 4
	decide(t, s, "charges", "a.xml", journal.FilePublished, func(v journal.View) {
		done, err := v.Insert(ctx, []journal.Record{arc1, arc2})
		must(t, err)
		if !done[0] || !done[1] {
			t.Fatalf("Insert = %v", done)
		}
		claim(t, v, crc, true)
	})
	must(t, s.Put(ctx, old))
	pay := journal.Record{Kind: journal.KindPayment, Key: "R1", Outcome: journal.OutcomeForwarded, Ref: arc1.Key,
		Amount: usd("4.00"), Line: 1, Channel: "CASHIER"}
	credit := journal.Record{Kind: journal.KindCredit, Key: "T3/OVERDUEFINE:C", Outcome: journal.OutcomeCredited,
		Ref: crc.Key, Amount: usd("20.00"), Line: 1}
	must(t, s.Put(ctx, pay))
	must(t, s.Put(ctx, credit))
	for _, r := range []journal.Record{arc1, arc2, crc, old} {
		if got, ok, err := s.Get(ctx, r.Kind, r.Key); err != nil || !ok || got.College != r.College || got.Owner != r.Owner {
			t.Errorf("Get(%s) = college %q, owner %q, %v, %v; want %q, %q", r.Key, got.College, got.Owner, ok, err, r.College, r.Owner)
		}
	}
	must(t, s.SetDisagreements(ctx, day, []journal.Disagreement{
		{UserID: "S2", FeeID: "F-T3", FeeType: fees.TypeOverdueFine, TransactionID: "T3", Alma: usd("20.00"),
			Bursar: usd("0.00"), Problem: "balances differ"},
		{UserID: "S9", Alma: usd("1.00"), Bursar: usd("0.00"), Problem: "totals differ"},
	}))
	got, err := s.Colleges(ctx)
	must(t, err)
	want := []journal.CollegeFigures{
		{College: "", Charges: 1, Charged: usd("1.25"), Held: usd("1.25"), Disagreements: 1},
		{College: "ARC", Charges: 2, Charged: usd("15.50"), Held: usd("11.50")},
		{College: "CRC", Charges: 1, Charged: usd("20.00"), Held: usd("0.00"), Disagreements: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Colleges = %+v, want %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.College != w.College || g.Charges != w.Charges || !g.Charged.Equal(w.Charged) || !g.Held.Equal(w.Held) ||
			g.Disagreements != w.Disagreements {
			t.Errorf("Colleges[%d] = %+v, want %+v", i, g, w)
		}
	}
}
