package fees_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

func TestRefund(t *testing.T) {
	f := newFee(t, "80.00", fees.StatusTransferred)
	mustDo(t, f.Pay(cashier("30.00")))
	mustDo(t, f.Waive(fees.Waiver{Amount: f.Balance, Reason: "LOST_ITEM_FOUND"})) // the item came back (R7)
	if err := f.Refund(fees.Refund{Key: "R1", Amount: usd("30.01")}); fees.ErrorCode(err) != fees.EOVERREFUND {
		t.Fatalf("refund above paid: %v, want %s", err, fees.EOVERREFUND)
	}
	mustDo(t, f.Refund(fees.Refund{Key: "R1", Amount: usd("20.00")}))
	if err := f.Refund(fees.Refund{Key: "R2", Amount: usd("10.01")}); fees.ErrorCode(err) != fees.EOVERREFUND {
		t.Fatalf("second refund above what is left: %v", err)
	}
	mustDo(t, f.Refund(fees.Refund{Key: "R2", Amount: usd("10.00")}))
	mustDo(t, f.Check())
	if !f.Refunded.Equal(usd("30.00")) || !f.Waived.Equal(usd("80.00")) || !f.Paid.Equal(usd("30.00")) || f.Status != fees.StatusClosed {
		t.Errorf("after refunds: paid %s waived %s refunded %s %s", f.Paid, f.Waived, f.Refunded, f.Status)
	}
	for _, bad := range []fees.Refund{{Amount: usd("0")}, {Amount: usd("-1.00")}, {}} {
		if err := f.Refund(bad); fees.ErrorCode(err) != fees.EINVALID {
			t.Errorf("refund %+v: %v, want %s", bad, err, fees.EINVALID)
		}
	}
	if err := f.Refund(fees.Refund{Amount: fees.MustParseMoney("1.00", "EUR")}); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("refund in another currency: %v", err)
	}
	d := newFee(t, "10.00", fees.StatusInDispute)
	if err := d.Refund(fees.Refund{Amount: usd("1.00")}); fees.ErrorCode(err) != fees.ESTATE {
		t.Errorf("refund of a fee in dispute: %v", err)
	}
}

func TestRefundErrorNamesFeeAndAmounts(t *testing.T) {
	f := newFee(t, "80.00", fees.StatusClosed)
	err := f.Refund(fees.Refund{Amount: usd("90.00")})
	want := "fee F1: cannot refund 90.00 USD: only 80.00 USD was paid and 0.00 USD of it already refunded, so at most 80.00 USD may go back"
	if err == nil || err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}

func TestRefundDue(t *testing.T) {
	for _, c := range []struct {
		paid, refunded string
		ratio          fees.RefundRatio
		want           string
	}{
		{"80.00", "", 100, "80.00"},
		{"80.00", "", 0, "0.00"},
		{"80.00", "", 50, "40.00"},
		{"0.03", "", 50, "0.01"}, // rounded down: never a cent more than the ratio gives
		{"33.33", "", 33, "10.99"},
		{"80.00", "30.00", 100, "50.00"},
		{"80.00", "50.00", 50, "0.00"}, // already more than the ratio gives
	} {
		f := newFee(t, c.paid, fees.StatusClosed)
		if c.refunded != "" {
			mustDo(t, f.Refund(fees.Refund{Amount: usd(c.refunded)}))
		}
		got, err := f.RefundDue(c.ratio)
		if err != nil || !got.Equal(usd(c.want)) {
			t.Errorf("paid %s refunded %s ratio %d: %s, %v; want %s", c.paid, c.refunded, c.ratio, got, err, c.want)
		}
	}
	f := newFee(t, "10.00", fees.StatusClosed)
	for _, bad := range []fees.RefundRatio{-1, 101} {
		if _, err := f.RefundDue(bad); fees.ErrorCode(err) != fees.EINVALID {
			t.Errorf("ratio %d: %v", bad, err)
		}
	}
}

// refundSequences is how many random sequences the property test of R8
// runs: a few thousand by default, a million with FEEBRIDGE_LONG=1.
func refundSequences() uint64 {
	if os.Getenv("FEEBRIDGE_LONG") == "1" {
		return 1_000_000
	}
	return 3000
}

// TestBalancesAddUpWithRefunds is the property test of R3 with R8: any
// sequence of charge (transfer), partial and full payment on both bursar
// channels and at the library, waiver, return of the item and refund,
// valid or refused, keeps original = paid + waived + remaining − refunded
// after every step, and no refund ever takes more than was paid.
func TestBalancesAddUpWithRefunds(t *testing.T) {
	for seed := range refundSequences() {
		r := rand.New(rand.NewPCG(seed, 19))
		original := fees.FromMinor(1+r.Int64N(50000), fees.USD)
		f, err := fees.NewFee("F", fees.TypeLostItemReplacementFee, "S", original, day)
		if err != nil {
			t.Fatal(err)
		}
		policy := fees.Policy{PartialWaiveBeforeTransfer: r.IntN(2) == 0}
		for step := range 20 {
			before := *f
			refused, err := applyRandomRefundAction(r, f, policy)
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if err := f.Check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if c, _ := refundedOf(f).Cmp(f.Paid); c > 0 {
				t.Fatalf("seed %d step %d: refunded %s above paid %s", seed, step, f.Refunded, f.Paid)
			}
			if refused && *f != before {
				t.Fatalf("seed %d step %d: a refused refund changed the fee", seed, step)
			}
		}
	}
}

// applyRandomRefundAction applies one random action to f and reports
// whether it was a refund that the rule refused. The refund that
// RefundDue gives, on a fee not in dispute, must never be refused: that
// is an error.
func applyRandomRefundAction(r *rand.Rand, f *fees.Fee, policy fees.Policy) (refused bool, err error) {
	switch r.IntN(8) {
	case 0, 1, 2, 3:
		applyRandomAction(r, f, policy)
	case 4: // the item comes back: the rest is waived, the due part refunded
		if f.Status != fees.StatusClosed && f.Status != fees.StatusInDispute && f.Balance.IsPositive() {
			_ = policy.Waive(f, fees.Waiver{Amount: f.Balance, Reason: "LOST_ITEM_FOUND"})
		}
		due, err := f.RefundDue(fees.RefundRatio(r.IntN(101)))
		if err != nil || !due.IsPositive() || f.Status == fees.StatusInDispute {
			return false, err
		}
		return false, f.Refund(fees.Refund{Amount: due})
	default: // a refund of any amount around what is left to refund
		left, _ := f.Paid.Sub(refundedOf(f))
		units, _ := left.MinorUnits()
		return f.Refund(fees.Refund{Amount: fees.FromMinor(r.Int64N(units+3)-1, fees.USD)}) != nil, nil
	}
	return false, nil
}

// refundedOf is f.Refunded, zero when it was never set.
func refundedOf(f *fees.Fee) fees.Money {
	if f.Refunded.Valid() {
		return f.Refunded
	}
	return fees.Zero(f.Original.Currency())
}

func TestTypeRefundOf(t *testing.T) {
	for typ, want := range map[fees.Type]fees.Type{
		fees.TypeReplacementFeeRefund: fees.TypeLostItemReplacementFee,
		"LOSTITEMPROCESSFEEREFUND":    fees.TypeLostItemProcessFee,
		"REFUND":                      "",
		fees.TypeCredit:               "",
		fees.TypeOverdueFine:          "",
	} {
		got, ok := typ.RefundOf()
		if got != want || ok != (want != "") {
			t.Errorf("%s.RefundOf() = %q, %v; want %q", typ, got, ok, want)
		}
	}
}

// TestFeeJSONWithoutRefund: a fee never refunded encodes as before (the
// journal keeps fees as JSON), and one refunded keeps its refund.
func TestFeeJSONWithoutRefund(t *testing.T) {
	f := newFee(t, "10.00", fees.StatusClosed)
	b, err := json.Marshal(f)
	if err != nil || strings.Contains(string(b), "Refunded") {
		t.Fatalf("JSON of a fee never refunded: %s, %v", b, err)
	}
	mustDo(t, f.Refund(fees.Refund{Amount: usd("4.00")}))
	b, err = json.Marshal(f)
	var back fees.Fee
	if err == nil {
		err = json.Unmarshal(b, &back)
	}
	if err != nil || !back.Refunded.Equal(usd("4.00")) {
		t.Errorf("JSON of a refunded fee: %s, %v", b, err)
	}
}
