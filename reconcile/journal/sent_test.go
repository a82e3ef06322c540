package journal_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestSentFees: a student's fees that an export carried (charged or held,
// with a fee id) come with what the bursar still holds of each and whether
// a lost return's waiver (its ref the charge key) closed it; ChargedType
// tells which fee types an export ever carried.
func TestSentFees(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		usd := func(s string) fees.Money {
			m, err := fees.ParseMoney(s, fees.USD)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		for _, r := range []journal.Record{
			{Kind: journal.KindCharge, Key: "T1/LOSTITEMREPLACEMENTFEE", Outcome: journal.OutcomeCharged, UserID: "S1",
				FeeID: "T1", FeeType: fees.TypeLostItemReplacementFee, Barcode: "B1", Amount: usd("100.00")},
			{Kind: journal.KindCharge, Key: "T1/LOSTITEMPROCESSFEE", Outcome: journal.OutcomeRejected, UserID: "S1",
				FeeID: "T1", FeeType: fees.TypeLostItemProcessFee, Barcode: "B1", Amount: usd("10.00")},
			{Kind: journal.KindCharge, Key: "T2/LOSTITEMREPLACEMENTFEE", Outcome: journal.OutcomeCharged, UserID: "S1",
				FeeID: "T2", FeeType: fees.TypeLostItemReplacementFee, Barcode: "B2", Amount: usd("50.00")},
			{Kind: journal.KindCharge, Key: "file/3", Outcome: journal.OutcomeRejected, UserID: "S1", Reason: "unreadable"},
			{Kind: journal.KindCharge, Key: "T9/OVERDUEFINE", Outcome: journal.OutcomeCharged, UserID: "S2",
				FeeID: "T9", FeeType: "OVERDUEFINE", Amount: usd("1.00")},
			{Kind: journal.KindPayment, Key: "P1", Outcome: journal.OutcomeForwarded, UserID: "S1", Ref: "T1/LOSTITEMREPLACEMENTFEE", Amount: usd("40.00")},
			{Kind: journal.KindWaiver, Key: "E1/F2", Outcome: journal.OutcomeWaived, UserID: "S1", FeeID: "F2", Ref: "T2/LOSTITEMREPLACEMENTFEE", Amount: usd("50.00")},
		} {
			r.Updated = at
			if err := j.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		sent, err := j.SentFees(ctx, "S1")
		if err != nil {
			t.Fatal(err)
		}
		type got struct {
			key, outcome, barcode, left string
			waived                      bool
		}
		var gs []got
		for _, s := range sent {
			gs = append(gs, got{s.Charge.Key, s.Charge.Outcome, s.Charge.Barcode, s.Left.String(), s.Waived})
		}
		want := []got{
			{"T1/LOSTITEMPROCESSFEE", journal.OutcomeRejected, "B1", usd("10.00").String(), false},
			{"T1/LOSTITEMREPLACEMENTFEE", journal.OutcomeCharged, "B1", usd("60.00").String(), false},
			{"T2/LOSTITEMREPLACEMENTFEE", journal.OutcomeCharged, "B2", usd("50.00").String(), true},
		}
		if len(gs) != len(want) {
			t.Fatalf("SentFees = %+v, want %+v", gs, want)
		}
		for i := range want {
			if gs[i] != want[i] {
				t.Errorf("SentFees[%d] = %+v, want %+v", i, gs[i], want[i])
			}
		}
		for typ, want := range map[fees.Type]bool{fees.TypeLostItemReplacementFee: true, fees.TypeLostItemProcessFee: true,
			"OVERDUEFINE": true, "DAMAGEDITEMFINE": false} {
			if got, err := j.ChargedType(ctx, typ); err != nil || got != want {
				t.Errorf("ChargedType(%s) = %v, %v, want %v", typ, got, err, want)
			}
		}
	})
}
