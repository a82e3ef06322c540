package alma_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

const patronID = "0123456"
const lostFee = "5512345690004281"

func dollars(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

func almaTS(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

var equalMoney = cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })

func TestListFees(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.ListFees(t.Context(), patronID, fees.StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	want := []fees.Fee{{
		ID: "5512345670004281", UserID: patronID, Type: fees.TypeOverdueFine, Status: fees.StatusActive,
		Original: dollars("3.00"), Balance: dollars("2.50"), Transferred: dollars("0"), Paid: dollars("0.50"), Waived: dollars("0"),
		Item:  fees.Item{Barcode: "31234000456789", Title: "Principles of economics"},
		Owner: "ARC", Created: almaTS("2026-10-01T16:00:04.113Z"), Updated: almaTS("2026-10-02T09:12:40.002Z"),
	}}
	if diff := cmp.Diff(want, got, equalMoney, cmp.AllowUnexported(fees.Fee{})); diff != "" {
		t.Errorf("ListFees (-want +got):\n%s", diff)
	}
	if got := f.log(); len(got) != 1 || !strings.Contains(got[0], "status=ACTIVE") {
		t.Errorf("requests = %q, want one with status=ACTIVE", got)
	}
	if n, ok := c.Remaining(); !ok || n != 99000 {
		t.Errorf("Remaining() = %d, %v; want 99000, true", n, ok)
	}
}

func TestListFeesAllOpen(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.ListFees(t.Context(), patronID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, fee := range got {
		if err := fee.Check(); err != nil {
			t.Error(err)
		}
		ids = append(ids, fmt.Sprintf("%s %s %s/%s", fee.ID, fee.Status.AlmaCode(), fee.Balance.Amount(), fee.Transferred.Amount()))
	}
	want := []string{
		"5512345670004281 ACTIVE 2.50/0.00",
		"5512345690004281 EXPORTED 75.00/75.00",
		"5512345700004281 INDISPUTE 12.34/0.00",
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ListFees(0) (-want +got):\n%s", diff)
	}
	if n := len(f.log()); n != 3 {
		t.Errorf("%d requests, want 3 (one per open status)", n)
	}
	exported := got[1]
	if exported.TransactionID != "INST00019145" || !exported.Paid.Equal(dollars("25")) {
		t.Errorf("exported fee: TransactionID %q, Paid %s; want INST00019145, 25.00 USD", exported.TransactionID, exported.Paid)
	}
}

func TestListCredits(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.ListCredits(t.Context(), patronID, fees.StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	want := []fees.Credit{{
		Key: "5512345680004281", FeeID: "5512345680004281", UserID: patronID, Type: fees.TypeCredit,
		Amount: dollars("5.00"), Owner: "ARC", Reason: "Refund of a returned item", Date: almaTS("2026-10-03T10:00:00Z"),
	}}
	if diff := cmp.Diff(want, got, equalMoney); diff != "" {
		t.Errorf("ListCredits (-want +got):\n%s", diff)
	}
}

func TestGetFee(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.GetFee(t.Context(), patronID, lostFee)
	if err != nil {
		t.Fatal(err)
	}
	want := &fees.Fee{
		ID: lostFee, TransactionID: "INST00019145", UserID: patronID, Type: fees.TypeLostItemReplacementFee,
		Status: fees.StatusTransferred, Original: dollars("100"), Balance: dollars("60"), Transferred: dollars("60"),
		Paid: dollars("30"), Waived: dollars("10"),
		Item:  fees.Item{Barcode: "31234000111222", Title: "Calculus: early transcendentals"},
		Owner: "SCC", Comment: "Lost loan",
		Created: almaTS("2026-09-20T16:00:01Z"), Updated: almaTS("2026-10-06T10:00:00Z"),
	}
	if diff := cmp.Diff(want, got, equalMoney, cmp.AllowUnexported(fees.Fee{})); diff != "" {
		t.Errorf("GetFee (-want +got):\n%s", diff)
	}
	if want := "GET /users/0123456/fees/" + lostFee + "?format=json&user_id_type=all_unique"; f.log()[0] != want {
		t.Errorf("request %q, want %q", f.log()[0], want)
	}
}

// feeBody answers GET fee with a fee whose fields are replaced by edit.
func feeBody(t *testing.T, edit func(m map[string]any)) fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		var m map[string]any
		if err := decodeNumbers(readTestdata(t, "rest/fee_lost.json"), &m); err != nil {
			panic(err)
		}
		edit(m)
		json.NewEncoder(w).Encode(m)
	}
}

func TestGetFeeAmounts(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(m map[string]any)
		wantCode string // fees error code, "" for success
		balance  string
	}{
		{"trailing zeros are exact", func(m map[string]any) { m["balance"] = json.Number("60.000") }, "", "60.00"},
		{"exponent is exact", func(m map[string]any) { m["original_amount"] = json.Number("1.0E2") }, "", "60.00"},
		{"amount as a string", func(m map[string]any) { m["balance"] = "60.00" }, "", "60.00"},
		{"third decimal place", func(m map[string]any) { m["balance"] = json.Number("59.995") }, fees.EINVALID, ""},
		{"no transactions listed: the rest counts as paid", func(m map[string]any) { delete(m, "transaction") }, "", "60.00"},
		{"more listed than moved", func(m map[string]any) { m["balance"] = json.Number("95") }, fees.ESTATE, ""},
		{"a credit is not a fee", func(m map[string]any) { m["original_amount"] = json.Number("-5") }, fees.EINVALID, ""},
		{"unknown status", func(m map[string]any) { m["status"] = map[string]string{"value": "LOST"} }, fees.EINVALID, ""},
		{"closed with a balance", func(m map[string]any) { m["status"] = map[string]string{"value": "CLOSED"} }, fees.ESTATE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.inject(1, feeBody(t, tt.edit))
			got, err := f.client(t, nil, nil).GetFee(t.Context(), patronID, lostFee)
			if tt.wantCode != "" {
				if fees.ErrorCode(err) != tt.wantCode || !strings.Contains(err.Error(), lostFee) {
					t.Fatalf("err = %v (code %q), want code %q naming the fee", err, fees.ErrorCode(err), tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Balance.Amount() != tt.balance {
				t.Errorf("balance %s, want %s", got.Balance, tt.balance)
			}
			if err := got.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPay(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.Pay(t.Context(), patronID, lostFee, alma.PayRequest{
		Amount: dollars("20.00"), Method: "CASH", ExternalTransactionID: "PS-RCPT-90001", Comment: "BSO cashier",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Balance.Equal(dollars("40")) || !got.Paid.Equal(dollars("50")) {
		t.Errorf("after paying 20: balance %s paid %s, want 40.00 and 50.00", got.Balance, got.Paid)
	}
	want := "POST /users/0123456/fees/" + lostFee + "?amount=20.00&comment=BSO+cashier&external_transaction_id=PS-RCPT-90001&format=json&method=CASH&op=pay&user_id_type=all_unique"
	if log := f.log(); len(log) != 1 || log[0] != want {
		t.Errorf("requests %q, want [%q]", log, want)
	}
}

func TestPayRefusesBadRequests(t *testing.T) {
	c := newFake(t).client(t, nil, nil)
	tests := []struct {
		name string
		p    alma.PayRequest
		code string
	}{
		{"no external id", alma.PayRequest{Amount: dollars("1"), Method: "CASH"}, fees.EINVALID},
		{"no method", alma.PayRequest{Amount: dollars("1"), ExternalTransactionID: "x"}, fees.EINVALID},
		{"zero", alma.PayRequest{Amount: dollars("0"), Method: "CASH", ExternalTransactionID: "x"}, fees.EINVALID},
		{"other currency", alma.PayRequest{Amount: fees.MustParseMoney("1", "EUR"), Method: "CASH", ExternalTransactionID: "x"}, fees.ECURRENCY},
	}
	for _, tt := range tests {
		if _, err := c.Pay(t.Context(), patronID, lostFee, tt.p); fees.ErrorCode(err) != tt.code {
			t.Errorf("%s: err = %v, want code %s", tt.name, err, tt.code)
		}
	}
}

// countOps counts POST requests in the fake's log.
func countOps(log []string) int {
	n := 0
	for _, l := range log {
		if strings.HasPrefix(l, "POST ") {
			n++
		}
	}
	return n
}

func TestPayRetryNeverPaysTwice(t *testing.T) {
	tests := []struct {
		name      string
		fault     fault
		wantPosts int
	}{
		{"first attempt took effect, then 502", appliedThen(http.StatusBadGateway), 1},
		{"first attempt refused with 503", faultFile(http.StatusServiceUnavailable, ""), 2},
		{"first attempt refused with 429", faultFile(http.StatusTooManyRequests, "rest/error_429_per_second.json"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.inject(1, tt.fault)
			var slept []time.Duration
			got, err := f.client(t, nil, &slept).Pay(t.Context(), patronID, lostFee, alma.PayRequest{
				Amount: dollars("60"), Method: "ONLINE", ExternalTransactionID: "PS-RCPT-90002",
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != fees.StatusClosed || !got.Balance.IsZero() || !got.Paid.Equal(dollars("90")) {
				t.Errorf("fee %s balance %s paid %s; want Closed, 0, 90", got.Status, got.Balance, got.Paid)
			}
			if n := countOps(f.log()); n != tt.wantPosts {
				t.Errorf("%d POSTs, want %d: %q", n, tt.wantPosts, f.log())
			}
			if len(slept) != 1 {
				t.Errorf("slept %v, want one backoff", slept)
			}
		})
	}
}

func TestWaive(t *testing.T) {
	f := newFake(t)
	got, err := f.client(t, nil, nil).Waive(t.Context(), patronID, lostFee, alma.WaiveRequest{
		Amount: dollars("60"), Reason: "LOST_ITEM_FOUND", Comment: "Lost item was found",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != fees.StatusClosed || !got.Waived.Equal(dollars("70")) {
		t.Errorf("fee %s waived %s; want Closed, 70", got.Status, got.Waived)
	}
	log := f.log()
	want := "POST /users/0123456/fees/" + lostFee + "?amount=60.00&comment=Lost+item+was+found&format=json&op=waive&reason=LOST_ITEM_FOUND&user_id_type=all_unique"
	if len(log) != 2 || !strings.HasPrefix(log[0], "GET ") || log[1] != want {
		t.Errorf("requests %q, want a GET then %q", log, want)
	}
}

func TestWaiveRetryNeverWaivesTwice(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fault     fault
		wantPosts int
	}{
		{"took effect, then no answer", appliedThen(http.StatusGatewayTimeout), 1},
		{"refused with 500", faultBody(http.StatusInternalServerError, "Internal Server Error"), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.inject(1, nil) // the first read passes
			f.mu.Lock()
			f.faults = []fault{func(w http.ResponseWriter, r *http.Request, next http.Handler) { next.ServeHTTP(w, r) }, tt.fault}
			f.mu.Unlock()
			got, err := f.client(t, nil, nil).Waive(t.Context(), patronID, lostFee, alma.WaiveRequest{
				Amount: dollars("60"), Reason: "LOST_ITEM_FOUND", Comment: "Lost item was found",
			})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Waived.Equal(dollars("70")) || !got.Balance.IsZero() {
				t.Errorf("waived %s balance %s; want 70 and 0", got.Waived, got.Balance)
			}
			if n := countOps(f.log()); n != tt.wantPosts {
				t.Errorf("%d POSTs, want %d: %q", n, tt.wantPosts, f.log())
			}
		})
	}
}

func TestRestore(t *testing.T) {
	f := newFake(t)
	f.mu.Lock()
	f.fee["status"] = map[string]string{"value": "INDISPUTE"}
	f.mu.Unlock()
	got, err := f.client(t, nil, nil).Restore(t.Context(), patronID, lostFee)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != fees.StatusTransferred {
		t.Errorf("status %s, want Transferred", got.Status)
	}
}

func TestGetUser(t *testing.T) {
	f := newFake(t)
	u, err := f.client(t, nil, nil).GetUser(t.Context(), patronID)
	if err != nil {
		t.Fatal(err)
	}
	if u.PrimaryID != patronID || u.FirstName != "Ada" || u.LastName != "Lovelace" || len(u.Blocks) != 3 {
		t.Fatalf("patronID %+v", u)
	}
	want := alma.Block{Type: "GENERAL", Code: "02", Description: "Registrar hold", Status: "ACTIVE",
		Segment: "External", Created: almaTS("2026-08-01T10:00:00Z"), Expiry: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, u.Blocks[1]); diff != "" {
		t.Errorf("block (-want +got):\n%s", diff)
	}
	if !json.Valid(u.Raw) || !bytes.Contains(u.Raw, []byte(`"user_role"`)) {
		t.Errorf("Raw does not hold the whole record")
	}
}

func TestRemoveFeeBlocks(t *testing.T) {
	f := newFake(t)
	removed, err := f.client(t, nil, nil).RemoveFeeBlocks(t.Context(), patronID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, b := range removed {
		codes = append(codes, b.Code)
	}
	if diff := cmp.Diff([]string{"FINES", "07"}, codes); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	var before, after map[string]any
	if err := decodeNumbers(readTestdata(t, "rest/user.json"), &before); err != nil {
		t.Fatal(err)
	}
	if err := decodeNumbers(f.putBody, &after); err != nil {
		t.Fatal(err)
	}
	blocks := before["user_block"].([]any)
	before["user_block"] = []any{blocks[1]}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("PUT body differs from the record read other than in the fee blocks (-want +got):\n%s", diff)
	}
	log := f.log()
	if len(log) != 2 || !strings.HasPrefix(log[1], "PUT /users/0123456?") {
		t.Errorf("requests %q, want GET then PUT", log)
	}

	// Once they are gone, nothing is written.
	removed, err = f.client(t, nil, nil).RemoveFeeBlocks(t.Context(), patronID, nil)
	if err != nil || len(removed) != 0 {
		t.Fatalf("second RemoveFeeBlocks = %v, %v; want nothing", removed, err)
	}
	if n := len(f.log()); n != 3 {
		t.Errorf("%d requests, want 3 (no second PUT)", n)
	}
}

func TestRemoveFeeBlocksPredicate(t *testing.T) {
	f := newFake(t)
	removed, err := f.client(t, nil, nil).RemoveFeeBlocks(t.Context(), patronID, func(b alma.Block) bool { return b.Code == "02" })
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Description != "Registrar hold" {
		t.Errorf("removed %+v, want the registrar hold", removed)
	}
}

func TestDefaultFeeBlock(t *testing.T) {
	for _, tt := range []struct {
		b    alma.Block
		want bool
	}{
		{alma.Block{Code: "FINES"}, true},
		{alma.Block{Code: "fee"}, true},
		{alma.Block{Code: "07", Description: "Unpaid replacement fee"}, true},
		{alma.Block{Code: "08", Description: "Fines/fees over limit"}, true},
		{alma.Block{Code: "02", Description: "Registrar hold"}, false},
		{alma.Block{Code: "03", Description: "Feedback requested"}, false},
	} {
		if got := alma.DefaultFeeBlock(tt.b); got != tt.want {
			t.Errorf("DefaultFeeBlock(%+v) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

func TestGetLoan(t *testing.T) {
	f := newFake(t)
	got, err := f.client(t, nil, nil).GetLoan(t.Context(), patronID, "18263808770001221")
	if err != nil {
		t.Fatal(err)
	}
	want := &alma.Loan{
		ID: "18263808770001221", UserID: patronID, ItemBarcode: "31234000111222", ItemID: "23263808760001221",
		MMSID: "9919045950001221", Title: "Calculus: early transcendentals", Status: "ACTIVE", ProcessStatus: "LOST",
		LoanDate: almaTS("2026-08-04T17:22:31.119Z"), DueDate: almaTS("2026-09-01T06:59:00Z"),
		Library: "SCC", CircDesk: "DEFAULT_CIRC_DESK",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetLoan (-want +got):\n%s", diff)
	}
}

func TestListLoansPages(t *testing.T) {
	f := newFake(t)
	got, err := f.client(t, nil, nil).ListLoans(t.Context(), patronID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 || got[0].ID != "L000" || got[149].ID != "L149" {
		t.Fatalf("got %d loans", len(got))
	}
	log := f.log()
	if len(log) != 2 || !strings.Contains(log[0], "limit=100&offset=0") || !strings.Contains(log[1], "offset=100") {
		t.Errorf("requests %q, want two pages", log)
	}
}

func TestGetItemByBarcode(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	got, err := c.GetItemByBarcode(t.Context(), "31234000111222")
	if err != nil {
		t.Fatal(err)
	}
	want := &alma.Item{MMSID: "9919045950001221", Title: "Calculus: early transcendentals", HoldingID: "22263808780001221",
		ID: "23263808760001221", Barcode: "31234000111222", ProcessType: "LOST_LOAN", Library: "SCC", Location: "STACKS"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetItemByBarcode (-want +got):\n%s", diff)
	}
	if !got.Lost() {
		t.Error("Lost() = false for LOST_LOAN")
	}
	if _, err := c.GetItemByBarcode(t.Context(), "nope"); alma.ErrorCode(err) != "401689" {
		t.Errorf("unknown barcode: err = %v, want code 401689", err)
	}
}

func TestRunReport(t *testing.T) {
	f := newFake(t)
	var rows []map[string]string
	err := f.client(t, nil, nil).RunReport(t.Context(), "/shared/Los Rios/Reports/Lost items with fees", func(row map[string]string) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{
		{"0": "0", "Barcode": "31234000111222", "Fine Fee Type": "Lost item replacement fee", "Remaining Amount": "60"},
		{"0": "0", "Barcode": "31234000999000", "Fine Fee Type": "Lost item process fee", "Remaining Amount": "10.5"},
		{"0": "0", "Barcode": "31234000777666", "Fine Fee Type": "Lost item replacement fee", "Remaining Amount": "42.99"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	log := f.log()
	if len(log) != 2 || !strings.Contains(log[0], "path=%2Fshared%2FLos+Rios") || !strings.Contains(log[1], "token=2F2A8F7B1C0D4E33") {
		t.Errorf("requests %q", log)
	}
}

func TestRunReportCallbackError(t *testing.T) {
	f := newFake(t)
	stop := errors.New("stop")
	err := f.client(t, nil, nil).RunReport(t.Context(), "/shared/r", func(map[string]string) error { return stop })
	if err != stop {
		t.Errorf("err = %v, want the callback's error", err)
	}
}

// clientCalls is every call of the client, each against the fake's fixtures.
var clientCalls = []struct {
	name string
	call func(ctx context.Context, c *alma.Client) error
}{
	{"ListFees", func(ctx context.Context, c *alma.Client) error {
		_, err := c.ListFees(ctx, patronID, fees.StatusActive)
		return err
	}},
	{"ListCredits", func(ctx context.Context, c *alma.Client) error {
		_, err := c.ListCredits(ctx, patronID, fees.StatusActive)
		return err
	}},
	{"GetFee", func(ctx context.Context, c *alma.Client) error {
		_, err := c.GetFee(ctx, patronID, lostFee)
		return err
	}},
	{"Pay", func(ctx context.Context, c *alma.Client) error {
		_, err := c.Pay(ctx, patronID, lostFee, alma.PayRequest{Amount: dollars("1"), Method: "CASH", ExternalTransactionID: "R1"})
		return err
	}},
	{"Waive", func(ctx context.Context, c *alma.Client) error {
		_, err := c.Waive(ctx, patronID, lostFee, alma.WaiveRequest{Amount: dollars("1"), Reason: "X"})
		return err
	}},
	{"Restore", func(ctx context.Context, c *alma.Client) error {
		_, err := c.Restore(ctx, patronID, lostFee)
		return err
	}},
	{"GetUser", func(ctx context.Context, c *alma.Client) error { _, err := c.GetUser(ctx, patronID); return err }},
	{"RemoveFeeBlocks", func(ctx context.Context, c *alma.Client) error {
		_, err := c.RemoveFeeBlocks(ctx, patronID, nil)
		return err
	}},
	{"GetLoan", func(ctx context.Context, c *alma.Client) error { _, err := c.GetLoan(ctx, patronID, "1"); return err }},
	{"ListLoans", func(ctx context.Context, c *alma.Client) error { _, err := c.ListLoans(ctx, patronID); return err }},
	{"GetItemByBarcode", func(ctx context.Context, c *alma.Client) error {
		_, err := c.GetItemByBarcode(ctx, "31234000111222")
		return err
	}},
	{"RunReport", func(ctx context.Context, c *alma.Client) error {
		return c.RunReport(ctx, "/shared/r", func(map[string]string) error { return nil })
	}},
}

func TestErrorForms(t *testing.T) {
	const maxRetries = 3
	forms := []struct {
		name     string
		n        int   // how many requests the fault answers
		fault    fault // nil: no fault
		wantReqs int   // requests the failing call makes; 0: do not check
		check    func(t *testing.T, err error, slept []time.Duration)
	}{
		{"400 with an Alma code (JSON)", 100, faultFile(400, "rest/error_400.json"), 1, func(t *testing.T, err error, slept []time.Duration) {
			var e *alma.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Code != "401861" || e.TrackingID != "E01-2811043115-XMBZW-AWAE1822537426" ||
				e.Message != "User with identifier 9999999 was not found." {
				t.Errorf("err = %#v", err)
			}
			if !alma.IsNotFound(err) {
				t.Error("IsNotFound = false for 401861")
			}
		}},
		{"400 with an Alma code (XML)", 100, faultFile(400, "rest/error_400.xml"), 1, func(t *testing.T, err error, slept []time.Duration) {
			if alma.ErrorCode(err) != "401652" || !strings.Contains(err.Error(), "E01-2811043116-4PQLD-AWAE1822537431") {
				t.Errorf("err = %v", err)
			}
		}},
		{"404", 100, faultBody(404, "<html><body>Not Found</body></html>"), 1, func(t *testing.T, err error, slept []time.Duration) {
			var e *alma.Error
			if !errors.As(err, &e) || e.Status != 404 || !alma.IsNotFound(err) || e.Message == "" {
				t.Errorf("err = %#v", err)
			}
		}},
		{"429 then success", 1, faultFile(429, "rest/error_429_per_second.json"), 0, func(t *testing.T, err error, slept []time.Duration) {
			if err != nil {
				t.Fatal(err)
			}
			if len(slept) != 1 {
				t.Errorf("slept %v, want one backoff", slept)
			}
		}},
		{"503 then success", 1, faultBody(503, "Service Unavailable"), 0, func(t *testing.T, err error, slept []time.Duration) {
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"429 every time", 100, faultFile(429, "rest/error_429_per_second.json"), maxRetries + 1, func(t *testing.T, err error, slept []time.Duration) {
			var e *alma.Error
			if !alma.IsRateLimited(err) || alma.IsQuotaExhausted(err) || !errors.As(err, &e) || e.Attempts != maxRetries+1 {
				t.Errorf("err = %v, want rate limited after %d attempts", err, maxRetries+1)
			}
			if len(slept) != maxRetries {
				t.Errorf("slept %v, want %d backoffs", slept, maxRetries)
			}
		}},
		{"daily quota", 100, faultFile(429, "rest/error_429_daily.xml"), 1, func(t *testing.T, err error, slept []time.Duration) {
			if !alma.IsQuotaExhausted(err) || alma.IsRateLimited(err) || alma.ErrorCode(err) != alma.CodeDailyThreshold {
				t.Errorf("err = %v, want the daily quota", err)
			}
			if len(slept) != 0 {
				t.Errorf("slept %v: the daily quota is not retried", slept)
			}
		}},
		{"malformed answer", 100, faultBody(200, `{"fee":[{"id":`), 1, func(t *testing.T, err error, slept []time.Duration) {
			var e *alma.Error
			if !errors.As(err, &e) || e.Status != 200 || e.Err == nil {
				t.Errorf("err = %#v, want a decoding error", err)
			}
		}},
		{"huge error body", 100, faultBody(400, strings.Repeat("x", 1<<20)), 1, func(t *testing.T, err error, slept []time.Duration) {
			if len(err.Error()) > 1000 {
				t.Errorf("error string of %d bytes", len(err.Error()))
			}
		}},
	}
	for _, form := range forms {
		for _, call := range clientCalls {
			t.Run(form.name+"/"+call.name, func(t *testing.T) {
				f := newFake(t)
				f.inject(form.n, form.fault)
				var slept []time.Duration
				c := f.client(t, &alma.ClientOptions{MaxRetries: maxRetries}, &slept)
				err := call.call(t.Context(), c)
				form.check(t, err, slept)
				if err != nil && strings.Contains(err.Error(), patronID) {
					t.Errorf("error %q shows the patronID id", err)
				}
				if form.wantReqs != 0 {
					if n := len(f.log()); n != form.wantReqs {
						t.Errorf("%d requests, want %d: %q", n, form.wantReqs, f.log())
					}
				}
			})
		}
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	for _, call := range clientCalls {
		t.Run(call.name, func(t *testing.T) {
			f := newFake(t)
			f.inject(100, faultHang)
			c := f.client(t, &alma.ClientOptions{Timeout: 50 * time.Millisecond, MaxRetries: -1}, nil)
			err := call.call(t.Context(), c)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("err = %v, want a timeout", err)
			}
			var e *alma.Error
			if !errors.As(err, &e) || e.Status != 0 {
				t.Errorf("err = %#v, want an *alma.Error with no status", err)
			}
		})
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	f := newFake(t)
	f.inject(100, faultBody(503, "down"))
	ctx, cancel := context.WithCancel(t.Context())
	c := f.client(t, &alma.ClientOptions{MaxRetries: 10}, nil)
	cancel()
	_, err := c.GetFee(ctx, patronID, lostFee)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(f.log()); n > 1 {
		t.Errorf("%d requests after cancel", n)
	}
}

func TestRetryBudget(t *testing.T) {
	f := newFake(t)
	f.inject(100, faultBody(500, "down"))
	var slept []time.Duration
	c := f.client(t, &alma.ClientOptions{MaxRetries: 100, RetryBudget: 3 * time.Second}, &slept)
	_, err := c.GetFee(t.Context(), patronID, lostFee)
	if err == nil {
		t.Fatal("no error")
	}
	var total time.Duration
	for _, d := range slept {
		total += d
	}
	if total > 3*time.Second || len(slept) == 0 {
		t.Errorf("waited %v in %d sleeps, want at most the 3s budget", total, len(slept))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFake(t)
	f.inject(1, func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Retry-After", "7")
		almaError(w, 429, alma.CodePerSecondThreshold, "slow down")
	})
	var slept []time.Duration
	if _, err := f.client(t, nil, &slept).GetFee(t.Context(), patronID, lostFee); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] < 7*time.Second {
		t.Errorf("slept %v, want at least the 7s Alma asked for", slept)
	}
}

func TestAPIKeyNeverInErrorsOrLogs(t *testing.T) {
	f := newFake(t)
	// A server that echoes the key back in its error message.
	f.inject(100, func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		almaError(w, 500, "ECHO"+r.Header.Get("Authorization"), "Bad key "+r.Header.Get("Authorization"))
	})
	var logs bytes.Buffer
	c := f.client(t, &alma.ClientOptions{
		MaxRetries: 2,
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, nil)
	_, err := c.Pay(t.Context(), patronID, lostFee, alma.PayRequest{Amount: dollars("1"), Method: "CASH", ExternalTransactionID: "R9"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("API key leaked: %s", s)
		}
		if strings.Contains(s, patronID) {
			t.Errorf("patronID id not masked: %s", s)
		}
	}
	if want := fees.MaskID(patronID); !strings.Contains(err.Error(), "users/"+want+"/") {
		t.Errorf("err = %v, want the user shown as %s (fees.MaskID)", err, want)
	}
	if logs.Len() == 0 {
		t.Error("nothing logged")
	}

	// A network error carries the URL: it has no key in it either.
	dead := newFake(t)
	dead.srv.Close()
	c2 := dead.client(t, &alma.ClientOptions{MaxRetries: -1}, nil)
	_, err = c2.GetUser(t.Context(), patronID)
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("err = %v", err)
	}
}

func TestNewClient(t *testing.T) {
	for _, tt := range []struct {
		base, key string
		ok        bool
	}{
		{"https://alma.example.invalid/almaws/v1", "k", true},
		{"https://alma.example.invalid/almaws/v1/", "k", true},
		{"https://alma.example.invalid/almaws/v1", "", false},
		{"alma.example.invalid/almaws/v1", "k", false},
		{"ftp://alma.example.invalid/", "k", false},
		{"https://alma.example.invalid/almaws/v1?apikey=k", "k", false},
	} {
		_, err := alma.NewClient(tt.base, tt.key, nil)
		if (err == nil) != tt.ok {
			t.Errorf("NewClient(%q) err = %v, want ok=%v", tt.base, err, tt.ok)
		}
		if err != nil && tt.key != "" && strings.Contains(err.Error(), "apikey="+tt.key) {
			t.Errorf("error shows the key: %v", err)
		}
	}
	if _, err := alma.NewClient("https://a.example.invalid", "k", &alma.ClientOptions{RatePerSecond: -1}); err == nil {
		t.Error("negative rate accepted")
	}
}

func TestRegionURL(t *testing.T) {
	for _, r := range []string{"na", "eu", "ap", "aps", "ca", "cn", "NA"} {
		u, err := alma.RegionURL(r)
		if err != nil || !strings.HasSuffix(u, "/almaws/v1") || !strings.HasPrefix(u, "https://api-") {
			t.Errorf("RegionURL(%q) = %q, %v", r, u, err)
		}
	}
	if _, err := alma.RegionURL("mars"); err == nil {
		t.Error("RegionURL(mars) succeeded")
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	f := newFake(t)
	c := f.client(t, nil, nil)
	_, err := c.GetFee(t.Context(), "a/b?c", lostFee)
	if err == nil {
		t.Fatal("no error")
	}
	if got, want := f.log()[0], "GET /users/a%2Fb%3Fc/fees/"+lostFee+"?"; !strings.HasPrefix(got, want) {
		t.Errorf("request %q, want the user id as one escaped segment %q", got, want)
	}
	if _, err := c.GetFee(t.Context(), "..", lostFee); err == nil {
		t.Error(`patronID id ".." accepted`)
	}
	if n := len(f.log()); n != 1 {
		t.Errorf(`patronID id ".." reached the server`)
	}
}

// TestRateLimiter shows the limiter at work without timing anything: at
// one call per second, a second call whose deadline is sooner than its
// turn fails at once, before reaching Alma.
func TestRateLimiter(t *testing.T) {
	f := newFake(t)
	var slept []time.Duration
	c := f.client(t, &alma.ClientOptions{RatePerSecond: 1, Burst: 1}, &slept)
	if _, err := c.GetFee(t.Context(), patronID, lostFee); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.GetFee(ctx, patronID, lostFee); err == nil {
		t.Fatal("second call within the same second went through")
	}
	if n := len(f.log()); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
	if len(slept) != 0 {
		t.Errorf("slept %v: a call that cannot get its turn in time is not retried", slept)
	}
}

func BenchmarkListFees(b *testing.B) {
	srv := exampleAlma()
	defer srv.Close()
	c, err := alma.NewClient(srv.URL+"/almaws/v1", testKey, &alma.ClientOptions{RatePerSecond: math.Inf(1)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ListFees(b.Context(), patronID, fees.StatusTransferred); err != nil {
			b.Fatal(err)
		}
	}
}

func TestListFeesCurrencyFromAlma(t *testing.T) {
	f := newFake(t)
	f.inject(1, faultBody(200, `{"fee":[{"id":"9","type":{"value":"OTHER"},"status":{"value":"ACTIVE"},"balance":7.5,"original_amount":7.5}],"total_record_count":1,"total_sum":7.5,"currency":"CAD"}`))
	got, err := f.client(t, nil, nil).ListFees(t.Context(), patronID, fees.StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	if want := fees.MustParseMoney("7.50", "CAD"); len(got) != 1 || !got[0].Balance.Equal(want) {
		t.Errorf("got %+v, want one fee of %s", got, want)
	}
}

// TestGetFeeRefunded reads a fee with a REFUND transaction (R8): Refunded
// is its sum, and it counts in Waived too, so that the fee keeps
// original = paid + waived + remaining − refunded.
func TestGetFeeRefunded(t *testing.T) {
	f := newFake(t)
	f.inject(1, func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Write(readTestdata(t, "rest/fee_refunded.json"))
	})
	got, err := f.client(t, nil, nil).GetFee(t.Context(), patronID, "5512345690004299")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]fees.Money{
		"paid": {got.Paid, usd("30.00")}, "waived": {got.Waived, usd("80.00")},
		"refunded": {got.Refunded, usd("30.00")}, "balance": {got.Balance, usd("0.00")},
	} {
		if !c[0].Equal(c[1]) {
			t.Errorf("%s = %s, want %s", name, c[0], c[1])
		}
	}
	if err := got.Check(); err != nil {
		t.Error(err)
	}
}
