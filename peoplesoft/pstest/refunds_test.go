package pstest_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// refund returns the refund line of amount on the lost-item replacement
// charge ref (R8).
func refund(emplid, ref, amount string) peoplesoft.Charge {
	c := withType(charge(emplid, ref, amount), peoplesoft.ItemTypeLostItemReplacementFeeRefund)
	c.Amount = c.Amount.Neg()
	return c
}

func TestRefunds(t *testing.T) {
	l := newLedger(1)
	load(t, l, "c1.dat", chargeFile(t,
		withType(charge("A1", "R1", "80.00"), peoplesoft.ItemTypeLostItemReplacementFee),
		withType(charge("B2", "R2", "40.00"), peoplesoft.ItemTypeLostItemReplacementFee)))
	if _, err := l.PayItem("A1", "R1", peoplesoft.ItemTypeLostItemReplacementFee, usd("30.00"), fees.ChannelCashier, fees.MethodCash, t0); err != nil {
		t.Fatal(err)
	}
	res := load(t, l, "r1.dat", chargeFile(t,
		refund("A1", "R1", "20.00"),  // applied
		refund("A1", "R1", "10.01"),  // above what is left of the 30.00 paid
		refund("A1", "R404", "1.00"), // unknown charge
		refund("A1", "R2", "1.00"),   // another student's charge
		refund("A1", "R1", "10.00"),  // the rest: applied
	))
	if res.Refunds != 2 || !res.Refunded.Equal(usd("30.00")) || len(res.Exceptions) != 3 {
		t.Fatalf("result %+v", res)
	}
	for i, want := range []string{"at most 10.00 USD may go back", "does not hold", "another student"} {
		if !strings.Contains(res.Exceptions[i].Reason, want) {
			t.Errorf("exception %d: %+v, want %q", i, res.Exceptions[i], want)
		}
	}
	it, _ := l.ItemOf("R1", peoplesoft.ItemTypeLostItemReplacementFee)
	if !it.Refunded.Equal(usd("30.00")) || !it.Balance.Equal(usd("50.00")) || !it.Paid.Equal(usd("30.00")) {
		t.Errorf("R1 after the refunds: %+v", it)
	}
	if tot := l.Totals(); tot.Refunds != 2 || !tot.Refunded.Equal(usd("30.00")) {
		t.Errorf("totals %+v", tot)
	}
	checkTotals(t, l)
}
