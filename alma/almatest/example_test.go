package almatest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// A lost book on Alma's side: declared lost, exported to the bursar, paid
// in two parts through the bursar import.
func Example() {
	ctx := context.Background()
	clock := almatest.NewManualClock(time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC))
	srv := almatest.NewServer(&almatest.Options{Clock: clock})
	defer srv.Close()
	srv.AddUser(almatest.User{ID: "0123456", FirstName: "Ana", LastName: "Reyes"})
	srv.AddItem(almatest.Item{Barcode: "31234000111222", Title: "Calculus"})

	loan, _ := srv.CheckOut("0123456", "31234000111222", clock.Now().Add(14*24*time.Hour))
	clock.Advance(60 * 24 * time.Hour)
	lost, _ := srv.DeclareLost(loan)
	for _, f := range lost {
		fmt.Println("assessed", f.Type, f.Original)
	}

	drop := memdrop.New()
	exp, _ := srv.RunExport(ctx, drop, "outbound", "BURSAR")
	fmt.Println("exported", len(exp.Records), "fees, total", exp.Total)

	// The bursar sends back a partial payment of the replacement fee.
	repl := lost[0]
	var file bytes.Buffer
	enc := alma.NewImportEncoder(&file, nil)
	enc.Encode(alma.ImportRecord{
		Patron: alma.Patron{ID: repl.UserID, IDType: "02"}, Type: repl.Type,
		Amount: fees.MustParseMoney("40.00", fees.USD), TransactionID: repl.TransactionID,
		LastTransaction: time.Date(2026, 9, 15, 10, 0, 0, 0, time.UTC), // when the bursar took it
	})
	enc.Close()
	drop.MkdirAll(ctx, "inbound")
	drop.WriteFile(ctx, "inbound/payments-1.xml", file.Bytes())
	imp, _ := srv.RunImport(ctx, drop, "inbound")
	for _, p := range imp.Applied() {
		fmt.Println("imported", p.Amount, "balance", p.Balance, p.Status)
	}
	// Output:
	// assessed LOSTITEMREPLACEMENTFEE 100.00 USD
	// assessed LOSTITEMPROCESSFEE 10.00 USD
	// exported 2 fees, total 110.00 USD
	// imported 40.00 USD balance 60.00 USD Transferred
}

// The REST API answers package alma's client as Alma would, errors
// included.
func ExampleNewServer() {
	srv := almatest.NewServer(&almatest.Options{Clock: almatest.NewManualClock(time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC))})
	defer srv.Close()
	srv.AddUser(almatest.User{ID: "0123456", FirstName: "Ana", LastName: "Reyes"})
	fee, _ := srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: fees.MustParseMoney("2.50", fees.USD)})

	c, _ := alma.NewClient(srv.URL(), srv.APIKey(), &alma.ClientOptions{RatePerSecond: math.Inf(1)})
	ctx := context.Background()
	open, _ := c.ListFees(ctx, "0123456", fees.StatusActive)
	fmt.Println(len(open), "active fee of", open[0].Balance)

	_, err := c.Pay(ctx, "0123456", fee.ID, alma.PayRequest{Amount: fees.MustParseMoney("9.00", fees.USD), Method: "CASH", ExternalTransactionID: "R1"})
	fmt.Println("overpayment refused with code", alma.ErrorCode(err))
	_, err = c.GetUser(ctx, "nobody")
	fmt.Println("unknown user:", alma.IsNotFound(err))
	// Output:
	// 1 active fee of 2.50 USD
	// overpayment refused with code 401666
	// unknown user: true
}

// Webhook events are signed and delivered by RunDue; a 5xx answer is
// retried after Alma's delays, counted on the fake's clock.
func ExampleServer_RunDue() {
	ctx := context.Background()
	answers := []int{http.StatusServiceUnavailable, http.StatusOK}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok := r.Header.Get(almatest.SignatureHeader) == almatest.Sign([]byte("secret"), body)
		fmt.Println("received, signature ok:", ok)
		w.WriteHeader(answers[0])
		answers = answers[1:]
	}))
	defer receiver.Close()

	clock := almatest.NewManualClock(time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC))
	srv := almatest.NewServer(&almatest.Options{Clock: clock, WebhookURL: receiver.URL, WebhookSecret: []byte("secret")})
	defer srv.Close()
	srv.AddUser(almatest.User{ID: "0123456"})
	srv.AddItem(almatest.Item{Barcode: "31234000111222", Title: "Calculus"})
	srv.CheckOut("0123456", "31234000111222", clock.Now().Add(24*time.Hour))
	srv.Return("31234000111222")

	fmt.Println("attempts now:", srv.RunDue(ctx))
	clock.Advance(time.Hour)
	fmt.Println("attempts an hour later:", srv.RunDue(ctx))
	fmt.Println(srv.Webhooks()[0].Event, srv.Webhooks()[0].State)
	// Output:
	// received, signature ok: true
	// attempts now: 1
	// received, signature ok: true
	// attempts an hour later: 1
	// LOAN_RETURNED delivered
}
