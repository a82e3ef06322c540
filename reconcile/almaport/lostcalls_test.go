package almaport_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// due is when the books lent in the tests are due back.
var due = time.Date(2026, 9, 28, 23, 59, 0, 0, time.UTC)

// The operations of a lost return, as almatest.CallStats names them.
const (
	opGetLoan  = "GET users/{user_id}/loans/{loan_id}"
	opListFees = "GET users/{user_id}/fees"
	opGetFee   = "GET users/{user_id}/fees/{fee_id}"
	opWaive    = "POST users/{user_id}/fees/{fee_id}?op=waive"
	opGetUser  = "GET users/{user_id}"
	opPutUser  = "PUT users/{user_id}"
)

// TestLostReturnCalls counts the calls one return makes at the fake Alma
// (counts, not time): one to confirm the loan; one fee list, of the status
// the journal expects the item's lost-item fees in (EXPORTED when an export
// carried them, ACTIVE when none did), another only when that answer lacks
// what the journal expects (a fee disputed since the export, a type the
// export profile leaves active, an item with no fee there); one per fee
// waived (no read of the fee first); and the user read only when a fee was
// waived and no lost-item fee is left, written only when a fee block is
// there to lift. Issue 17's bound is 2 + fees waived + 2 if the blocks
// change.
func TestLostReturnCalls(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, srv *almatest.Server, jr *reconcile.Journal) (loan string)
		want  map[string]int
		// blocksAfter is how many blocks the student has after.
		blocksAfter int
	}{
		{"one lost fee, block lifted", func(t *testing.T, srv *almatest.Server, _ *reconcile.Journal) string {
			fs := lose(t, srv, "B1")
			// The process fee was settled at the desk: one fee is left.
			if _, err := srv.Waive("S1", fs[1].ID, fs[1].Balance, "OTHER", "desk"); err != nil {
				t.Fatal(err)
			}
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 1, opGetUser: 1, opPutUser: 1}, 0},
		{"two lost fees, block lifted", func(t *testing.T, srv *almatest.Server, _ *reconcile.Journal) string {
			lose(t, srv, "B1")
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 2, opGetUser: 1, opPutUser: 1}, 0},
		{"two lost fees, no block to lift", func(t *testing.T, srv *almatest.Server, _ *reconcile.Journal) string {
			lose(t, srv, "B1")
			if err := srv.SetBlocks("S1", nil); err != nil {
				t.Fatal(err)
			}
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 2, opGetUser: 1}, 0},
		{"two lost fees, another lost item still owed: blocks kept unread", func(t *testing.T, srv *almatest.Server, _ *reconcile.Journal) string {
			lose(t, srv, "B1")
			lose(t, srv, "B2")
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 2}, 2},
		// No fee active and none ever exported: the fees may be in an
		// export file not read yet, so EXPORTED is listed too.
		{"a return with no fee", func(t *testing.T, srv *almatest.Server, _ *reconcile.Journal) string {
			if _, err := srv.CheckOut("S1", "B1", due); err != nil {
				t.Fatal(err)
			}
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 2}, 0},
		{"two lost fees exported, block lifted", func(t *testing.T, srv *almatest.Server, jr *reconcile.Journal) string {
			lose(t, srv, "B1")
			export(t, srv, jr, profileAll)
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 2, opGetUser: 1, opPutUser: 1}, 0},
		// Never sent while the journal knows the profile exports both
		// types (another student's fees): both are active, one list.
		{"two lost fees never sent, block lifted", func(t *testing.T, srv *almatest.Server, jr *reconcile.Journal) string {
			loseBy(t, srv, "S2", "B3")
			export(t, srv, jr, profileAll)
			lose(t, srv, "B1")
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 1, opWaive: 2, opGetUser: 1, opPutUser: 1}, 0},
		// The replacement fee was disputed after the export: EXPORTED
		// lacks it, ACTIVE too, INDISPUTE has it. It is left for staff
		// and the blocks stay, unread.
		{"a fee disputed since the export", func(t *testing.T, srv *almatest.Server, jr *reconcile.Journal) string {
			fs := lose(t, srv, "B1")
			export(t, srv, jr, profileAll)
			if _, err := srv.Dispute("S1", fs[0].ID, "OTHER", "says it was returned"); err != nil {
				t.Fatal(err)
			}
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 3, opWaive: 1}, 1},
		// The profile exports replacement fees only: the processing fee
		// stays active beside its exported sibling, so ACTIVE is listed
		// after EXPORTED (one call beyond the bound).
		{"a mixed active/exported pair", func(t *testing.T, srv *almatest.Server, jr *reconcile.Journal) string {
			lose(t, srv, "B1")
			export(t, srv, jr, profileReplacement)
			return giveBack(t, srv, "B1")
		}, map[string]int{opGetLoan: 1, opListFees: 2, opWaive: 2, opGetUser: 1, opPutUser: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			srv, jobs, jr := lostReturnWorld(t)
			loan := tt.setup(t, srv, jr)
			before := srv.CallStats()
			ev := reconcile.LoanEvent{ID: "E1", Type: reconcile.EventLoanReturned, LoanID: loan, UserID: "S1", ItemBarcode: "B1"}
			if err := jobs.LoanReturned(ctx, ev); err != nil {
				t.Fatal(err)
			}
			got := srv.CallStats().Sub(before)
			total := 0
			for op, n := range tt.want {
				total += n
				if got.ByOp[op] != n {
					t.Errorf("%s: %d calls, want %d", op, got.ByOp[op], n)
				}
			}
			if got.Total != total {
				t.Errorf("%d calls in all, want %d: %v", got.Total, total, got.ByOp)
			}
			if got.ByOp[opGetFee] != 0 {
				t.Errorf("%d reads of one fee, want none", got.ByOp[opGetFee])
			}
			inDispute := 0
			for _, f := range srv.Fees("S1") {
				// A fee in dispute is left for staff, and recorded.
				if f.Item.Barcode == "B1" && f.Status == fees.StatusInDispute {
					inDispute++
				} else if f.Item.Barcode == "B1" && f.Status != fees.StatusClosed {
					t.Errorf("fee %s of the returned item is %s with %s", f.ID, f.Status, f.Balance)
				}
			}
			if rs, err := jr.Records(ctx, reconcile.KindWaiver, reconcile.OutcomeDisputed); err != nil || len(rs) != inDispute {
				t.Errorf("%d disputes recorded for staff (%v), want %d", len(rs), err, inDispute)
			}
			if n := len(srv.Blocks("S1")); n != tt.blocksAfter {
				t.Errorf("%d blocks after, want %d", n, tt.blocksAfter)
			}
			// Handled again (a redelivery): no waiver twice.
			if err := jobs.LoanReturned(ctx, reconcile.LoanEvent{ID: "E2", Type: reconcile.EventLoanReturned, LoanID: loan, UserID: "S1", ItemBarcode: "B1"}); err != nil {
				t.Fatal(err)
			}
			for _, f := range srv.Fees("S1") {
				waivers := 0
				for _, tr := range srv.Transactions(f.ID) {
					if tr.Type == "WAIVE" && tr.Reason == "LOST_ITEM_FOUND" {
						waivers++
					}
				}
				if waivers > 1 {
					t.Errorf("fee %s waived %d times", f.ID, waivers)
				}
			}
		})
	}
}

// lostReturnWorld is a fake Alma with a student S1 and books B1 and B2, and
// the lost-returns handler over a journal and Alma's client.
func lostReturnWorld(t *testing.T) (*almatest.Server, *reconcile.Jobs, *reconcile.Journal) {
	t.Helper()
	clock := almatest.NewManualClock(time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC))
	srv := almatest.NewServer(&almatest.Options{Clock: clock, Faults: almatest.Faults{PerSecond: -1},
		Profiles: []almatest.ExportProfile{{Name: profileAll},
			{Name: profileReplacement, Types: []fees.Type{fees.TypeLostItemReplacementFee}}}})
	t.Cleanup(srv.Close)
	for _, u := range []string{"S1", "S2"} {
		if err := srv.AddUser(almatest.User{ID: u, FirstName: "Ana", LastName: "Reyes " + u}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"B1", "B2", "B3"} {
		if err := srv.AddItem(almatest.Item{Barcode: b, Title: "Book " + b}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := alma.NewClient(srv.URL(), srv.APIKey(), &alma.ClientOptions{RatePerSecond: math.Inf(1),
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	jr, err := reconcile.CreateJournal(t.Context(), filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jr.Close() })
	jobs, err := reconcile.New(reconcile.Deps{Journal: jr, Alma: almaport.AlmaAPI{Client: client}},
		&reconcile.Options{Now: clock.Now, WaiveReason: "LOST_ITEM_FOUND"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, jobs, jr
}

// lose lends the book to S1 and declares it lost: two lost-item fees and
// a lost-item block.
func lose(t *testing.T, srv *almatest.Server, barcode string) []fees.Fee {
	t.Helper()
	return loseBy(t, srv, "S1", barcode)
}

// loseBy lends the book to user and declares it lost.
func loseBy(t *testing.T, srv *almatest.Server, user, barcode string) []fees.Fee {
	t.Helper()
	loan, err := srv.CheckOut(user, barcode, due)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := srv.DeclareLost(loan)
	if err != nil || len(fs) != 2 {
		t.Fatalf("declare lost: %v, %d fees", err, len(fs))
	}
	return fs
}

// The bursar export profiles of the fake Alma: one takes every fee, the
// other lost-item replacement fees only (the processing fees stay active).
const (
	profileAll         = "all"
	profileReplacement = "replacement-only"
)

// export runs Alma's bursar export with profile (its fees become
// EXPORTED) and journals each fee it carried as the charges job does:
// charged under its charge key, with the fee id an export gives (its
// bursar transaction id), its type and item barcode.
func export(t *testing.T, srv *almatest.Server, jr *reconcile.Journal, profile string) {
	t.Helper()
	res, err := srv.RunExport(t.Context(), memdrop.New(), "exports", profile)
	if err != nil || len(res.Records) == 0 {
		t.Fatalf("export: %v, %d fees", err, len(res.Records))
	}
	for _, r := range res.Records {
		f, ok := srv.Fee(r.FeeID)
		if !ok {
			t.Fatalf("fee %s exported and gone", r.FeeID)
		}
		if err := jr.Put(t.Context(), reconcile.Record{Kind: reconcile.KindCharge, Key: f.ChargeKey(),
			Outcome: reconcile.OutcomeCharged, UserID: f.UserID, FeeID: r.TransactionID, FeeType: f.Type,
			Barcode: f.Item.Barcode, Amount: r.Amount, Updated: time.Date(2026, 9, 14, 18, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
}

// giveBack returns the book and the loan id.
func giveBack(t *testing.T, srv *almatest.Server, barcode string) string {
	t.Helper()
	loan, err := srv.Return(barcode)
	if err != nil {
		t.Fatal(err)
	}
	return loan
}

// TestLostReturnCallsFromWebhook takes Alma's own deliveries the durable
// way (journaled by the webhook callback, handled from the journal): the
// return of a loan that was never lost makes no call, since the event says
// its process status was NORMAL; the return of a lost one makes its calls
// as in TestLostReturnCalls.
func TestLostReturnCallsFromWebhook(t *testing.T) {
	ctx := t.Context()
	srv, jobs, _ := lostReturnWorld(t)
	if _, err := srv.CheckOut("S1", "B2", due); err != nil {
		t.Fatal(err)
	}
	lose(t, srv, "B1")
	giveBack(t, srv, "B2")
	giveBack(t, srv, "B1")
	receive := func(barcode string) {
		t.Helper()
		for _, h := range srv.Webhooks() {
			ev, err := alma.ParseEvent(h.Body)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type == almatest.EventLoanReturned && ev.Loan != nil && ev.Loan.ItemBarcode == barcode {
				if err := almaport.WebhookCallback(jobs)(ctx, ev); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no return event for %s", barcode)
	}
	for _, tt := range []struct {
		barcode string
		calls   int
	}{{"B2", 0}, {"B1", 1 + 1 + 2 + 2}} {
		before := srv.CallStats()
		receive(tt.barcode)
		res, err := jobs.HandleEvents(ctx)
		if err != nil || res.Retrying+res.Failed > 0 {
			t.Fatalf("handle events: %+v, %v", res, err)
		}
		if got := srv.CallStats().Sub(before); got.Total != tt.calls {
			t.Errorf("the return of %s made %d calls, want %d: %v", tt.barcode, got.Total, tt.calls, got.ByOp)
		}
	}
	for _, f := range srv.Fees("S1") {
		if f.Item.Barcode == "B1" && f.Status != fees.StatusClosed {
			t.Errorf("lost-item fee %s is %s", f.ID, f.Status)
		}
	}
	if n := len(srv.Blocks("S1")); n != 0 {
		t.Errorf("%d blocks left, want none", n)
	}
}

// TestDisputedNeverSentInReport: a lost-item fee disputed before any
// export, of a type no export ever carried, is not asked for by the
// return (1 fee list: ACTIVE), and the daily report's returned-lost-items
// check (Alma's Analytics report, which lists ACTIVE, EXPORTED and
// INDISPUTE fees alike) still lists it for staff.
func TestDisputedNeverSentInReport(t *testing.T) {
	ctx := t.Context()
	srv, _, jr := lostReturnWorld(t)
	client, err := alma.NewClient(srv.URL(), srv.APIKey(), &alma.ClientOptions{RatePerSecond: math.Inf(1),
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := reconcile.New(reconcile.Deps{Journal: jr, Alma: almaport.AlmaAPI{Client: client, LostItemsReport: "/shared/lost"}},
		&reconcile.Options{Now: func() time.Time { return time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC) },
			WaiveReason: "LOST_ITEM_FOUND"})
	if err != nil {
		t.Fatal(err)
	}
	fs := lose(t, srv, "B1")
	if _, err := srv.Dispute("S1", fs[0].ID, "OTHER", "says it was returned"); err != nil {
		t.Fatal(err)
	}
	loan := giveBack(t, srv, "B1")
	before := srv.CallStats()
	ev := reconcile.LoanEvent{ID: "E1", Type: reconcile.EventLoanReturned, LoanID: loan, UserID: "S1", ItemBarcode: "B1"}
	if err := jobs.LoanReturned(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := srv.CallStats().Sub(before); got.ByOp[opListFees] != 1 {
		t.Errorf("%d fee lists, want 1: %v", got.ByOp[opListFees], got.ByOp)
	}
	if f, _ := srv.Fee(fs[0].ID); f.Status != fees.StatusInDispute || !f.Balance.Equal(fs[0].Balance) {
		t.Errorf("the disputed fee: %s %s", f.Status, f.Balance)
	}
	rep, err := jobs.BuildReport(ctx, time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ReturnedWithFees) != 1 || rep.ReturnedWithFees[0].ID != fs[0].ID ||
		rep.ReturnedWithFees[0].Status != fees.StatusInDispute {
		t.Errorf("report: returned with fees %+v, want the disputed fee %s", rep.ReturnedWithFees, fs[0].ID)
	}
}
