package almatest_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestRefundOnReturn: a lost item paid in part comes back under a terms
// of use with a refund ratio; the fee gets a REFUND transaction of the
// ratio's share of what was paid (Alma's client reads it as Refunded),
// and the credit export carries it as a record of the refund type.
func TestRefundOnReturn(t *testing.T) {
	w := newWorld(t, &almatest.Options{Policy: almatest.LostPolicy{
		RefundRatios: map[fees.Type]fees.RefundRatio{fees.TypeLostItemReplacementFee: 50},
	}})
	ctx := t.Context()
	drop := memdrop.New()
	_, lost := w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.RunExport(ctx, drop, "out", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	if _, err := w.srv.PayAtDesk("0123456", repl.ID, usd("30.00"), "CASH", ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Hour)
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	got, err := w.client(t, 0).GetFee(ctx, "0123456", repl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Refunded.Equal(usd("15.00")) || !got.Paid.Equal(usd("30.00")) || !got.Balance.Equal(usd("70.00")) || got.Check() != nil {
		t.Errorf("fee after the return: paid %s refunded %s balance %s, %v", got.Paid, got.Refunded, got.Balance, got.Check())
	}
	process := feeOfType(t, lost, fees.TypeLostItemProcessFee)
	if p, err := w.client(t, 0).GetFee(ctx, "0123456", process.ID); err != nil || p.Refunded.IsPositive() {
		t.Errorf("process fee (no ratio): %+v, %v", p, err)
	}
	res, err := w.srv.RunCreditExport(ctx, drop, "credits", "BURSAR_CREDITS")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := decodeAll(t, readDrop(t, drop, res.File), res.File)
	if len(recs) != 1 {
		t.Fatalf("%d credit records, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if !r.IsCredit() || r.Type != fees.TypeReplacementFeeRefund || r.TransactionID != repl.TransactionID || !r.Amount.Equal(usd("-15.00")) {
		t.Errorf("refund record %+v", r)
	}
}

// TestNoRefundByDefault: with no ratio, as Alma's default terms of use, a
// return refunds nothing.
func TestNoRefundByDefault(t *testing.T) {
	w := newWorld(t, nil)
	_, lost := w.lose(t, "0123456", "31234000111222")
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	if _, err := w.srv.PayAtDesk("0123456", repl.ID, usd("30.00"), "CASH", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	if got, err := w.client(t, 0).GetFee(t.Context(), "0123456", repl.ID); err != nil || got.Refunded.IsPositive() {
		t.Errorf("fee after the return: %+v, %v", got, err)
	}
}
