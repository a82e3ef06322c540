package alma_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/feebridge/feebridge/alma"
)

func ExampleNewWebhookHandler() {
	secret := []byte("secretkey") // from the environment or a file, never argv

	handler := alma.NewWebhookHandler(secret, func(ctx context.Context, ev alma.Event) error {
		if ev.Type != alma.EventLoanReturned {
			return nil
		}
		fmt.Printf("loan %s returned: item %s, user %s\n", ev.Loan.LoanID, ev.Loan.ItemBarcode, ev.Loan.UserID)
		// Waive the item's lost-item fees here. If Alma cannot be reached,
		// return alma.RetryLater(err) and Alma delivers the event again.
		return nil
	}, nil)

	mux := http.NewServeMux()
	mux.Handle("/webhooks/alma", handler)
	srv := httptest.NewServer(mux) // in production: an http.Server with timeouts, behind TLS
	defer srv.Close()

	// Alma checks the URL with a challenge, then posts signed events.
	resp, _ := srv.Client().Get(srv.URL + "/webhooks/alma?challenge=abc123")
	resp.Body.Close()
	fmt.Println("challenge:", resp.Status)

	body := `{"id":"1","action":"LOAN","time":"2026-10-06T15:04:05Z","event":{"value":"LOAN_RETURNED"},` +
		`"item_loan":{"loan_id":"18263808770001221","user_id":"0123456","item_barcode":"31234000111222","loan_status":"ACTIVE"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/alma", strings.NewReader(body))
	req.Header.Set(alma.SignatureHeader, alma.Sign(secret, []byte(body)))
	resp, _ = srv.Client().Do(req)
	resp.Body.Close()
	fmt.Println("delivery:", resp.Status)

	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/webhooks/alma", strings.NewReader(body))
	req.Header.Set(alma.SignatureHeader, alma.Sign([]byte("wrong"), []byte(body)))
	resp, _ = srv.Client().Do(req)
	resp.Body.Close()
	fmt.Println("forged:", resp.Status)
	// Output:
	// challenge: 200 OK
	// loan 18263808770001221 returned: item 31234000111222, user 0123456
	// delivery: 200 OK
	// forged: 401 Unauthorized
}
