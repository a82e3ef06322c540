package alma_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// exampleAlma stands in for Alma in the examples: it answers a fee list and
// a waiver the way Alma does.
func exampleAlma() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /almaws/v1/users/{user}/fees", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"fee":[{"id":"5512345690004281","type":{"value":"LOSTITEMREPLACEMENTFEE","desc":"Lost item replacement fee"},
			"status":{"value":"EXPORTED","desc":"Transferred"},"user_primary_id":{"value":"0123456"},
			"balance":75.0,"original_amount":100.0,"title":"Calculus","barcode":{"value":"31234000111222"},
			"transaction":[{"type":{"value":"PAYMENT"},"amount":25.0,"external_transaction_id":"PS-RCPT-88812"}]}],
			"total_record_count":1,"total_sum":75.0,"currency":"USD"}`)
	})
	mux.HandleFunc("GET /almaws/v1/users/{user}/fees/{fee}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":"5512345690004281","type":{"value":"LOSTITEMREPLACEMENTFEE"},"status":{"value":"EXPORTED"},
			"balance":75.0,"original_amount":100.0,"transaction":[{"type":{"value":"PAYMENT"},"amount":25.0}]}`)
	})
	mux.HandleFunc("POST /almaws/v1/users/{user}/fees/{fee}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `{"id":"5512345690004281","type":{"value":"LOSTITEMREPLACEMENTFEE"},"status":{"value":"CLOSED"},
			"balance":0,"original_amount":100.0,"transaction":[{"type":{"value":"PAYMENT"},"amount":25.0},
			{"type":{"value":"WAIVE"},"amount":%s,"reason":{"value":%q},"comment":%q}]}`,
			q.Get("amount"), q.Get("reason"), q.Get("comment"))
	})
	return httptest.NewServer(mux)
}

func ExampleClient_ListFees() {
	srv := exampleAlma() // in production: alma.RegionURL("na")
	defer srv.Close()

	c, err := alma.NewClient(srv.URL+"/almaws/v1", "l7xx-example-key", nil)
	if err != nil {
		log.Fatal(err)
	}
	open, err := c.ListFees(context.Background(), "0123456", fees.StatusTransferred)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range open {
		fmt.Printf("%s %s %s: original %s, paid %s, balance %s (transferred %s)\n",
			f.ID, f.Type, f.Status, f.Original, f.Paid, f.Balance, f.Transferred)
	}
	if n, ok := c.Remaining(); ok {
		fmt.Println("calls left today:", n)
	}
	// Output:
	// 5512345690004281 LOSTITEMREPLACEMENTFEE Transferred: original 100.00 USD, paid 25.00 USD, balance 75.00 USD (transferred 75.00 USD)
}

func ExampleClient_Waive() {
	srv := exampleAlma()
	defer srv.Close()

	c, err := alma.NewClient(srv.URL+"/almaws/v1", "l7xx-example-key", nil)
	if err != nil {
		log.Fatal(err)
	}
	// A transferred fee is waived in full (R5): its whole balance.
	fee, err := c.Waive(context.Background(), "0123456", "5512345690004281", alma.WaiveRequest{
		Amount:  fees.MustParseMoney("75.00", fees.USD),
		Reason:  "LOST_ITEM_FOUND",
		Comment: "Lost item was found",
	})
	switch {
	case alma.IsQuotaExhausted(err):
		log.Fatal("Alma's daily quota is spent; try again tomorrow")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Printf("%s: %s, waived %s, balance %s\n", fee.ID, fee.Status, fee.Waived, fee.Balance)
	// Output:
	// 5512345690004281: Closed, waived 75.00 USD, balance 0.00 USD
}

func ExampleErrorCode() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errorsExist":true,"errorList":{"error":[{"errorCode":"401861",
			"errorMessage":"User with identifier 9999999 was not found.","trackingId":"E01-0001"}]},"result":null}`)
	}))
	defer srv.Close()

	c, _ := alma.NewClient(srv.URL+"/almaws/v1", "l7xx-example-key", nil)
	_, err := c.GetUser(context.Background(), "9999999")
	fmt.Println(alma.ErrorCode(err), alma.IsNotFound(err))
	fmt.Println(strings.Contains(err.Error(), "l7xx-example-key"))
	// Output:
	// 401861 true
	// false
}
