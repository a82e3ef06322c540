package almatest_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// importPayment writes one payment with package alma's import encoder into
// the drop's inbound folder.
func importPayment(t *testing.T, drop *transport.Drop, name string, f fees.Fee, amount fees.Money, at time.Time) {
	t.Helper()
	var buf bytes.Buffer
	enc := alma.NewImportEncoder(&buf, nil)
	err := enc.Encode(alma.ImportRecord{
		Patron: alma.Patron{ID: f.UserID, IDType: "02"}, Type: f.Type, Amount: amount,
		TransactionID: f.TransactionID, Item: f.Item, LastTransaction: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := drop.MkdirAll(t.Context(), "inbound"); err != nil {
		t.Fatal(err)
	}
	if err := drop.WriteFile(t.Context(), "inbound/"+name, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestLifecycleLostExportedPaid follows one lost book on Alma's side:
// the 16:00 job declares it lost and assesses the fees, the 18:00 export
// transfers them, and the bursar's partial then full payment come back by
// the hourly import until the fee is closed.
func TestLifecycleLostExportedPaid(t *testing.T) {
	w := newWorld(t, &almatest.Options{Policy: almatest.LostPolicy{
		ReplacementFee: usd("120.00"), ProcessFee: usd("15.00"), LostAfterDays: 30,
	}})
	ctx := t.Context()
	drop := memdrop.New()
	const ana = "0123456"
	due := start.Add(14 * 24 * time.Hour)
	if _, err := w.srv.CheckOut(ana, "31234000111222", due); err != nil {
		t.Fatal(err)
	}

	// Day 29 overdue at 16:00: not lost yet. Day 30: lost.
	w.clock.Set(time.Date(2026, 10, 27, 16, 0, 0, 0, time.UTC))
	if fs := w.srv.RunLostItemJob(); len(fs) != 0 {
		t.Fatalf("lost after 29 days: %+v", fs)
	}
	w.clock.Advance(24 * time.Hour)
	lost := w.srv.RunLostItemJob()
	if len(lost) != 2 {
		t.Fatalf("lost-item job assessed %d fees, want 2", len(lost))
	}
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	if !repl.Original.Equal(usd("120.00")) || !feeOfType(t, lost, fees.TypeLostItemProcessFee).Original.Equal(usd("15.00")) {
		t.Errorf("fees assessed: %+v", lost)
	}
	if b := w.srv.Blocks(ana); len(b) != 1 || b[0].Code != almatest.BlockLostItem || b[0].Status != "ACTIVE" {
		t.Errorf("blocks %+v, want one lost-item block", b)
	}
	if it, _ := w.srv.Item("31234000111222"); it.ProcessType != "LOST_LOAN" {
		t.Errorf("item process type %q, want LOST_LOAN", it.ProcessType)
	}

	// 18:00: the export transfers both fees.
	w.clock.Advance(2 * time.Hour)
	exp, err := w.srv.RunExport(ctx, drop, "outbound", "BURSAR")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := decodeAll(t, readDrop(t, drop, exp.File), exp.File)
	if len(recs) != 2 {
		t.Fatalf("export holds %d records, want 2", len(recs))
	}
	if f, _ := w.srv.Fee(repl.ID); f.Status != fees.StatusTransferred || !f.Transferred.Equal(usd("120.00")) {
		t.Fatalf("after export: %s, transferred %s", f.Status, f.Transferred)
	}

	// The student pays 50.00 at the cashier; Alma imports it within the hour.
	w.clock.Advance(20 * time.Hour)
	importPayment(t, drop, "PS_PAYMENTS-1.xml", repl, usd("50.00"), w.clock.Now())
	w.clock.Advance(30 * time.Minute)
	if _, err := w.srv.RunImport(ctx, drop, "inbound"); err != nil {
		t.Fatal(err)
	}
	f, _ := w.srv.Fee(repl.ID)
	if f.Status != fees.StatusTransferred || !f.Balance.Equal(usd("70.00")) || !f.Transferred.Equal(usd("70.00")) {
		t.Fatalf("after the partial payment: %s, balance %s, transferred %s", f.Status, f.Balance, f.Transferred)
	}

	// Then the rest, online.
	w.clock.Advance(48 * time.Hour)
	importPayment(t, drop, "PS_PAYMENTS-2.xml", repl, usd("70.00"), w.clock.Now())
	w.clock.Advance(time.Hour)
	res, err := w.srv.RunImport(ctx, drop, "inbound")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].Skipped == "" || len(res.Applied()) != 1 {
		t.Fatalf("second import: %+v", res)
	}
	f, _ = w.srv.Fee(repl.ID)
	if f.Status != fees.StatusClosed || !f.Balance.IsZero() || !f.Paid.Equal(usd("120.00")) || f.Check() != nil {
		t.Errorf("after the full payment: %s, balance %s, paid %s", f.Status, f.Balance, f.Paid)
	}
	txns := w.srv.Transactions(repl.ID)
	if len(txns) != 2 || txns[0].Method != "BURSAR" || !txns[1].Time.Equal(w.clock.Now()) {
		t.Errorf("transactions %+v", txns)
	}
}

// recorder is a webhook receiver built on package alma's handler; it runs
// fn for each loan event.
type recorder struct {
	mu     sync.Mutex
	events []alma.Event
}

func (r *recorder) got() []alma.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alma.Event(nil), r.events...)
}

func newReceiver(t *testing.T, secret []byte, fn func(ctx context.Context, ev alma.Event) error) (*recorder, string) {
	t.Helper()
	rec := &recorder{}
	h := alma.NewWebhookHandler(secret, func(ctx context.Context, ev alma.Event) error {
		rec.mu.Lock()
		rec.events = append(rec.events, ev)
		rec.mu.Unlock()
		if fn != nil {
			return fn(ctx, ev)
		}
		return nil
	}, nil)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return rec, hs.URL
}

// TestLifecycleLostExportedReturned follows a lost book that comes back
// after its fees were transferred: the return sends LOAN_RETURNED, the
// receiver (playing feebridge's flow F5 through package alma's client)
// waives the lost-item fees and lifts the block, and the next credit
// export carries both waivers.
func TestLifecycleLostExportedReturned(t *testing.T) {
	secret := []byte("webhook-secret")
	var w *world
	var c *alma.Client
	rec, url := newReceiver(t, secret, func(ctx context.Context, ev alma.Event) error {
		if ev.Type != alma.EventLoanReturned {
			return nil
		}
		open, err := c.ListFees(ctx, ev.Loan.UserID, 0)
		if err != nil {
			return alma.RetryLater(err)
		}
		for _, f := range open {
			if f.Item.Barcode != ev.Loan.ItemBarcode || !f.Type.IsLostItem() {
				continue
			}
			if _, err := c.Waive(ctx, f.UserID, f.ID, alma.WaiveRequest{Amount: f.Balance, Reason: "LOST_ITEM_FOUND", Comment: "Lost item was found"}); err != nil {
				return alma.RetryLater(err)
			}
		}
		_, err = c.RemoveFeeBlocks(ctx, ev.Loan.UserID, nil)
		return err
	})
	w = newWorld(t, &almatest.Options{WebhookURL: url, WebhookSecret: secret})
	c = w.client(t, 0)
	ctx := t.Context()
	drop := memdrop.New()
	const ben = "0987654"

	loanID, lost := w.lose(t, ben, "31234000333444")
	if _, err := w.srv.RunExport(ctx, drop, "outbound", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(3 * 24 * time.Hour)
	if id, err := w.srv.Return("31234000333444"); err != nil || id != loanID {
		t.Fatalf("Return = %q, %v; want loan %s", id, err, loanID)
	}
	if l, _ := w.srv.Loan(loanID); l.Status != "COMPLETE" || !l.ReturnDate.Equal(w.clock.Now()) {
		t.Errorf("loan after return: %+v", l)
	}
	for _, f := range lost {
		if got, _ := w.srv.Fee(f.ID); got.Status != fees.StatusTransferred {
			t.Errorf("the return itself changed fee %s to %s; Alma keeps lost-item fees", f.ID, got.Status)
		}
	}

	if n := w.srv.RunDue(ctx); n != 1 {
		t.Fatalf("RunDue made %d attempts, want 1", n)
	}
	hooks := w.srv.Webhooks()
	if len(hooks) != 1 || hooks[0].State != almatest.DeliveryDelivered || hooks[0].Attempts[0].Status != 200 {
		t.Fatalf("deliveries %+v", hooks)
	}
	evs := rec.got()
	if len(evs) != 1 {
		t.Fatalf("%d events received", len(evs))
	}
	ev := evs[0]
	if ev.Type != alma.EventLoanReturned || ev.Loan.LoanID != loanID || ev.Loan.UserID != ben ||
		ev.Loan.ItemBarcode != "31234000333444" || ev.Loan.Status != "ACTIVE" || ev.Loan.ProcessStatus != "LOST" ||
		!ev.Time.Equal(w.clock.Now()) {
		t.Errorf("event %+v, loan %+v", ev, ev.Loan)
	}

	for _, f := range lost {
		got, _ := w.srv.Fee(f.ID)
		if got.Status != fees.StatusClosed || !got.Waived.Equal(f.Original) {
			t.Errorf("fee %s after the webhook: %s, waived %s", f.ID, got.Status, got.Waived)
		}
	}
	if b := w.srv.Blocks(ben); len(b) != 0 {
		t.Errorf("blocks left: %+v", b)
	}
	cr, err := w.srv.RunCreditExport(ctx, drop, "outbound", "BURSAR_CREDITS")
	if err != nil {
		t.Fatal(err)
	}
	credits, _ := decodeAll(t, readDrop(t, drop, cr.File), cr.File)
	if len(credits) != 2 || !cr.Total.Equal(usd("-95.50")) {
		t.Errorf("credit export: %d records, total %s; want 2, -95.50", len(credits), cr.Total)
	}
}
