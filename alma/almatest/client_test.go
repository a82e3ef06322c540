package almatest_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// asSeenByREST keeps the fields of a fee that Alma's fee object carries
// (of the item, only barcode and title), so the fake's fee and the
// client's reading of it can be compared. A fee in dispute does not say
// whether it was transferred before: its transferred balance reads as
// zero.
func asSeenByREST(f fees.Fee) fees.Fee {
	f.Item = fees.Item{Barcode: f.Item.Barcode, Title: f.Item.Title}
	if f.Status == fees.StatusInDispute {
		f.Transferred = fees.Zero(f.Balance.Currency())
	}
	return f
}

var feeCmp = cmp.Options{cmpopts.IgnoreUnexported(fees.Fee{})}

func sortByID(fs []fees.Fee) {
	slices.SortFunc(fs, func(a, b fees.Fee) int { return strings.Compare(a.ID, b.ID) })
}

// TestClientReadsFeesAsTheFakeHoldsThem lists and reads fees in every
// status through package alma's client and compares them, field by field,
// with the fake's own fees.
func TestClientReadsFeesAsTheFakeHoldsThem(t *testing.T) {
	w := newWorld(t, nil)
	c := w.client(t, 0)
	ctx := t.Context()
	const ana = "0123456"

	w.lose(t, ana, "31234000111222") // replacement 100.00 + process 10.00
	if _, err := w.srv.RunExport(ctx, memdrop.New(), "out", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Hour)
	_, lost2 := w.lose(t, ana, "31234000333444") // item's own replacement cost 85.50
	if _, err := w.srv.Dispute(ana, feeOfType(t, lost2, fees.TypeLostItemProcessFee).ID, "STUDENT_CLAIM", ""); err != nil {
		t.Fatal(err)
	}
	over, err := w.srv.AddFee(ana, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("3.75"), Comment: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.PayAtDesk(ana, over.ID, usd("3.75"), "CASH", "paid at the desk"); err != nil {
		t.Fatal(err)
	}

	// The fake keeps no credit records (type CREDIT) in the REST API.
	if credits, err := c.ListCredits(ctx, ana, 0); err != nil || len(credits) != 0 {
		t.Errorf("ListCredits = %+v, %v; want none", credits, err)
	}

	var wantOpen, wantClosed []fees.Fee
	for _, f := range w.srv.Fees(ana) {
		if f.Status == fees.StatusClosed {
			wantClosed = append(wantClosed, asSeenByREST(f))
		} else {
			wantOpen = append(wantOpen, asSeenByREST(f))
		}
	}
	if len(wantOpen) != 4 || len(wantClosed) != 1 {
		t.Fatalf("setup: %d open and %d closed fees, want 4 and 1", len(wantOpen), len(wantClosed))
	}

	for _, tc := range []struct {
		name   string
		status fees.Status
		want   []fees.Fee
	}{
		{"open", 0, wantOpen},
		{"closed", fees.StatusClosed, wantClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ListFees(ctx, ana, tc.status)
			if err != nil {
				t.Fatal(err)
			}
			sortByID(got)
			sortByID(tc.want)
			if d := cmp.Diff(tc.want, got, feeCmp); d != "" {
				t.Errorf("ListFees (-fake +client):\n%s", d)
			}
			for _, want := range tc.want {
				one, err := c.GetFee(ctx, ana, want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, *one, feeCmp); d != "" {
					t.Errorf("GetFee %s (-fake +client):\n%s", want.ID, d)
				}
			}
		})
	}
}

// TestClientWritesAgree pays, waives and restores through the client and
// checks that the fee the client gets back is the fee the fake holds.
func TestClientWritesAgree(t *testing.T) {
	w := newWorld(t, nil)
	c := w.client(t, 0)
	ctx := t.Context()
	const ana = "0123456"
	_, lost := w.lose(t, ana, "31234000111222")
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	proc := feeOfType(t, lost, fees.TypeLostItemProcessFee)

	check := func(t *testing.T, got *fees.Fee) {
		t.Helper()
		want, ok := w.srv.Fee(got.ID)
		if !ok {
			t.Fatalf("the fake has no fee %s", got.ID)
		}
		if d := cmp.Diff(asSeenByREST(want), *got, feeCmp); d != "" {
			t.Errorf("fee %s (-fake +client):\n%s", got.ID, d)
		}
	}

	got, err := c.Pay(ctx, ana, repl.ID, alma.PayRequest{Amount: usd("40.00"), Method: "CASH", ExternalTransactionID: "RCPT-1", Comment: "first part"})
	if err != nil {
		t.Fatal(err)
	}
	check(t, got)
	if !got.Balance.Equal(usd("60.00")) || !got.Paid.Equal(usd("40.00")) || got.Status != fees.StatusActive {
		t.Errorf("after paying 40.00 of 100.00: balance %s, paid %s, %s", got.Balance, got.Paid, got.Status)
	}
	txns := w.srv.Transactions(repl.ID)
	if len(txns) != 1 || txns[0].ExternalID != "RCPT-1" || txns[0].Method != "CASH" {
		t.Errorf("transactions after the payment: %+v", txns)
	}

	got, err = c.Waive(ctx, ana, repl.ID, alma.WaiveRequest{Amount: usd("60.00"), Reason: "LOST_ITEM_FOUND", Comment: "Lost item was found"})
	if err != nil {
		t.Fatal(err)
	}
	check(t, got)
	if got.Status != fees.StatusClosed || !got.Waived.Equal(usd("60.00")) {
		t.Errorf("after waiving the rest: %s, waived %s", got.Status, got.Waived)
	}

	if _, err := w.srv.Dispute(ana, proc.ID, "STUDENT_CLAIM", "says it was returned"); err != nil {
		t.Fatal(err)
	}
	got, err = c.Restore(ctx, ana, proc.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, got)
	if got.Status != fees.StatusActive {
		t.Errorf("after restore: %s, want Active", got.Status)
	}
}

// TestClientSeesTheFakesErrors checks each refusal's HTTP status and
// Alma code as the client reports them, and that a refused write leaves
// the fee as it was.
func TestClientSeesTheFakesErrors(t *testing.T) {
	w := newWorld(t, nil)
	c := w.client(t, 0)
	ctx := t.Context()
	const ana = "0123456"
	_, lost := w.lose(t, ana, "31234000111222")
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	proc := feeOfType(t, lost, fees.TypeLostItemProcessFee)
	if _, err := w.srv.RunExport(ctx, memdrop.New(), "", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Waive(ana, proc.ID, fees.Money{}, "LIBRARY_ERROR", ""); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		call     func() error
		status   int
		code     string
		notFound bool
	}{
		{"unknown user on GET users", func() error { _, err := c.GetUser(ctx, "nobody"); return err },
			http.StatusBadRequest, almatest.CodeUserNotFound, true},
		{"unknown user on fees", func() error { _, err := c.ListFees(ctx, "nobody", fees.StatusActive); return err },
			http.StatusBadRequest, almatest.CodeIdentifierNotFound, true},
		{"unknown fee", func() error { _, err := c.GetFee(ctx, ana, "999"); return err },
			http.StatusBadRequest, almatest.CodeFeeNotFound, true},
		{"another user's fee", func() error { _, err := c.GetFee(ctx, "0987654", repl.ID); return err },
			http.StatusBadRequest, almatest.CodeFeeNotFound, true},
		{"payment above the balance", func() error {
			_, err := c.Pay(ctx, ana, repl.ID, alma.PayRequest{Amount: usd("100.01"), Method: "CASH", ExternalTransactionID: "X1"})
			return err
		}, http.StatusBadRequest, almatest.CodeInvalidParameter, false},
		{"unknown payment method", func() error {
			_, err := c.Pay(ctx, ana, repl.ID, alma.PayRequest{Amount: usd("1.00"), Method: "BITCOIN", ExternalTransactionID: "X2"})
			return err
		}, http.StatusBadRequest, almatest.CodeInvalidParameter, false},
		{"payment on a closed fee", func() error {
			_, err := c.Pay(ctx, ana, proc.ID, alma.PayRequest{Amount: usd("1.00"), Method: "CASH", ExternalTransactionID: "X3"})
			return err
		}, http.StatusBadRequest, almatest.CodeGeneralError, false},
		{"partial waiver of a transferred fee", func() error {
			_, err := c.Waive(ctx, ana, repl.ID, alma.WaiveRequest{Amount: usd("50.00"), Reason: "LIBRARY_ERROR"})
			return err
		}, http.StatusBadRequest, almatest.CodeGeneralError, false},
		{"restore of a fee not in dispute", func() error { _, err := c.Restore(ctx, ana, repl.ID); return err },
			http.StatusBadRequest, almatest.CodeGeneralError, false},
		{"unknown loan", func() error { _, err := c.GetLoan(ctx, ana, "42"); return err },
			http.StatusBadRequest, almatest.CodeLoanNotFound, false},
		{"unknown barcode", func() error { _, err := c.GetItemByBarcode(ctx, "nope"); return err },
			http.StatusBadRequest, almatest.CodeItemNotFound, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.srv.AllFees()
			err := tc.call()
			var ae *alma.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *alma.Error", err)
			}
			if ae.Status != tc.status || ae.Code != tc.code {
				t.Errorf("got HTTP %d code %q, want %d %q (%v)", ae.Status, ae.Code, tc.status, tc.code, err)
			}
			if ae.TrackingID == "" {
				t.Errorf("no tracking id in %v", err)
			}
			if got := alma.IsNotFound(err); got != tc.notFound {
				t.Errorf("alma.IsNotFound = %v, want %v", got, tc.notFound)
			}
			if d := cmp.Diff(before, w.srv.AllFees(), feeCmp); d != "" {
				t.Errorf("a refused call changed fees:\n%s", d)
			}
		})
	}
}

// TestClientUsersLoansItemsAgree reads users, blocks, loans and items
// through the client and lifts the lost-item block as flow F5 does.
func TestClientUsersLoansItemsAgree(t *testing.T) {
	w := newWorld(t, nil)
	c := w.client(t, 0)
	ctx := t.Context()
	const ana = "0123456"
	loanID, _ := w.lose(t, ana, "31234000111222")
	due := w.clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
	other, err := w.srv.CheckOut(ana, "31234000555666", due)
	if err != nil {
		t.Fatal(err)
	}
	card := almatest.Block{Type: "GENERAL", Code: "CARD_EXPIRED", Description: "Library card expired", Status: "ACTIVE", Created: start}
	if err := w.srv.SetBlocks(ana, append(w.srv.Blocks(ana), card)); err != nil {
		t.Fatal(err)
	}

	u, err := c.GetUser(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if u.PrimaryID != ana || u.FirstName != "Ana" || u.LastName != "Reyes" {
		t.Errorf("user %+v", u)
	}
	var codes []string
	for _, b := range u.Blocks {
		codes = append(codes, b.Code)
	}
	if want := []string{almatest.BlockLostItem, "CARD_EXPIRED"}; !slices.Equal(codes, want) {
		t.Errorf("blocks %v, want %v", codes, want)
	}
	removed, err := c.RemoveFeeBlocks(ctx, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Code != almatest.BlockLostItem {
		t.Errorf("removed %+v, want the lost-item block", removed)
	}
	left := w.srv.Blocks(ana)
	if len(left) != 1 || left[0].Code != "CARD_EXPIRED" || left[0].Description != card.Description || !left[0].Created.Equal(start) {
		t.Errorf("blocks left in the fake: %+v, want the card block as it was", left)
	}

	loans, err := c.ListLoans(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range loans {
		ids = append(ids, l.ID)
	}
	if want := []string{loanID, other}; !slices.Equal(ids, want) {
		t.Errorf("loans %v, want %v", ids, want)
	}
	l, err := c.GetLoan(ctx, ana, other)
	if err != nil {
		t.Fatal(err)
	}
	if l.ItemBarcode != "31234000555666" || l.Status != "ACTIVE" || l.ProcessStatus != "NORMAL" || !l.DueDate.Equal(due) {
		t.Errorf("loan %+v", l)
	}
	if l, err := c.GetLoan(ctx, ana, loanID); err != nil || l.ProcessStatus != "LOST" {
		t.Errorf("lost loan: %+v, %v", l, err)
	}

	it, err := c.GetItemByBarcode(ctx, "31234000111222")
	if err != nil {
		t.Fatal(err)
	}
	if !it.Lost() || it.InPlace || it.ProcessType != alma.ProcessLostLoan {
		t.Errorf("lost item read as %+v", it)
	}
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	it, err = c.GetItemByBarcode(ctx, "31234000111222")
	if err != nil {
		t.Fatal(err)
	}
	if it.Lost() || !it.InPlace || it.Title != "Calculus: early transcendentals" {
		t.Errorf("returned item read as %+v", it)
	}
	if n, ok := c.Remaining(); !ok || n <= 0 {
		t.Errorf("Remaining() = %d, %v", n, ok)
	}
}

// TestClientRunsTheReport reads the lost-items report through the
// client's paging: 1,200 rows take two pages of 1,000. Items still lost
// are not in it.
func TestClientRunsTheReport(t *testing.T) {
	w := newWorld(t, nil)
	const n = 800
	for i := range n {
		bc := fmt.Sprintf("39000%06d", i)
		if err := w.srv.AddItem(almatest.Item{Barcode: bc, Title: fmt.Sprintf("Book %d", i)}); err != nil {
			t.Fatal(err)
		}
		loan, err := w.srv.CheckOut("0987654", bc, start)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.srv.DeclareLost(loan); err != nil {
			t.Fatal(err)
		}
		if i%4 != 3 { // three in four come back
			if _, err := w.srv.Return(bc); err != nil {
				t.Fatal(err)
			}
		}
	}
	var rows []map[string]string
	err := w.client(t, 0).RunReport(t.Context(), "/shared/Feebridge/Lost items with fees", func(row map[string]string) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * n * 3 / 4; len(rows) != want { // two fees per returned item
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	first := rows[0]
	fee, ok := w.srv.Fee(first["Fine Fee Id"])
	if !ok {
		t.Fatalf("first row %v names no fee", first)
	}
	want := map[string]string{
		"0": "0", "Primary Identifier": "0987654", "Fine Fee Id": fee.ID,
		"Fine Fee Type": string(fee.Type), "Barcode": "39000000000", "Title": "Book 0",
		"Remaining Amount": fee.Balance.Amount(), "Fine Fee Status": "ACTIVE",
		"Bursar Transaction Id": fee.TransactionID,
	}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("first row (-want +got):\n%s", d)
	}
	if calls := w.srv.APICalls()["GET analytics/reports"]; calls != 2 {
		t.Errorf("%d report calls, want 2 pages", calls)
	}
}

// TestClientPagesLoans lists 150 loans: the client reads pages of 100.
func TestClientPagesLoans(t *testing.T) {
	w := newWorld(t, nil)
	var want []string
	for i := range 150 {
		bc := fmt.Sprintf("38000%06d", i)
		if err := w.srv.AddItem(almatest.Item{Barcode: bc, Title: "Reserve copy"}); err != nil {
			t.Fatal(err)
		}
		id, err := w.srv.CheckOut("0987654", bc, start.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	// A returned loan is not listed: Alma lists active loans by default.
	if _, err := w.srv.Return("38000000149"); err != nil {
		t.Fatal(err)
	}
	want = want[:149]
	loans, err := w.client(t, 0).ListLoans(t.Context(), "0987654")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range loans {
		got = append(got, l.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d loans listed, want %d in order", len(got), len(want))
	}
	if calls := w.srv.APICalls()["GET users/{user_id}/loans"]; calls != 2 {
		t.Errorf("%d calls, want 2 pages", calls)
	}
}

// TestClientWithAWrongKey: the client gets Alma's UNAUTHORIZED form and
// the key never shows in the error.
func TestClientWithAWrongKey(t *testing.T) {
	w := newWorld(t, nil)
	c, err := alma.NewClient(w.srv.URL(), "l8xx-wrong-key-0000", &alma.ClientOptions{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(t.Context(), "0123456")
	var ae *alma.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != almatest.CodeUnauthorized || ae.Attempts != 1 {
		t.Fatalf("%v, want one 400 UNAUTHORIZED", err)
	}
	if strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("the key is in the error: %v", err)
	}
}
