package journaltest

import (
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// testDisagreements checks what is kept of the last reconciliation: the
// disagreements come back as they were set, amounts and status exact, and
// the next reconciliation replaces them whole.
func testDisagreements(t *testing.T, open Open) {
	c := &clock{now: day}
	s := open(t, c.Now)
	ctx := t.Context()
	set := []journal.Disagreement{
		{UserID: "S001", FeeID: "F1", FeeType: fees.TypeLostItemReplacementFee, TransactionID: "T1",
			AlmaStatus: fees.StatusTransferred, Alma: usd("100.00"), Bursar: usd("120.00"), Problem: "balances differ"},
		{UserID: "S002", Alma: usd("0.00"), Bursar: usd("0.82"), Problem: "totals differ"},
	}
	must(t, s.SetDisagreements(ctx, day, set))
	got, err := s.Disagreements(ctx)
	must(t, err)
	if len(got) != 2 || !got[0].Found.Equal(day) || got[0].AlmaStatus != fees.StatusTransferred || got[0].FeeType != fees.TypeLostItemReplacementFee ||
		!got[0].Alma.Equal(usd("100.00")) || !got[0].Bursar.Equal(usd("120.00")) || got[1].UserID != "S002" || got[1].FeeID != "" ||
		!got[1].Bursar.Equal(usd("0.82")) || got[1].Problem != "totals differ" {
		t.Fatalf("disagreements = %+v", got)
	}
	must(t, s.SetDisagreements(ctx, day, nil))
	if got, err := s.Disagreements(ctx); err != nil || len(got) != 0 {
		t.Fatalf("after an agreeing reconciliation: %+v, %v", got, err)
	}
}
