package almatest_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

type wsResult struct {
	XMLName     xml.Name `xml:"http://com/exlibris/urm/general/xmlbeans web_service_result"`
	ErrorsExist bool     `xml:"errorsExist" json:"errorsExist"`
	ErrorList   struct {
		Error []struct {
			ErrorCode    string `xml:"errorCode" json:"errorCode"`
			ErrorMessage string `xml:"errorMessage" json:"errorMessage"`
			TrackingID   string `xml:"trackingId" json:"trackingId"`
		} `xml:"error" json:"error"`
	} `xml:"errorList" json:"errorList"`
}

// TestErrorForms sends raw requests and checks the status, the format
// (JSON when asked, XML otherwise) and the code of each refusal.
func TestErrorForms(t *testing.T) {
	w := newWorld(t, nil)
	_, lost := w.lose(t, "0123456", "31234000111222")
	fee := lost[0].ID
	key := w.srv.APIKey()
	feePath := "/users/0123456/fees/" + fee

	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		code               string
	}{
		{"no key", "GET", "/users/0123456", map[string]string{"Accept": "application/json"}, 400, almatest.CodeUnauthorized},
		{"wrong key", "GET", "/users/0123456", map[string]string{"Authorization": "apikey nope"}, 400, almatest.CodeUnauthorized},
		{"unknown user", "GET", "/users/nobody", jsonHeaders(key), 400, almatest.CodeUserNotFound},
		{"unknown user, XML", "GET", "/users/nobody", map[string]string{"Authorization": "apikey " + key, "Accept": "application/xml"}, 400, almatest.CodeUserNotFound},
		{"unknown user on fees", "GET", "/users/nobody/fees", jsonHeaders(key), 400, almatest.CodeIdentifierNotFound},
		{"bad status", "GET", "/users/0123456/fees?status=TRANSFERRED", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"unknown fee", "GET", "/users/0123456/fees/1", jsonHeaders(key), 400, almatest.CodeFeeNotFound},
		{"no op", "POST", feePath, jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"unknown op", "POST", feePath + "?op=refund", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"pay without method", "POST", feePath + "?op=pay&amount=1.00", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"pay by bad method", "POST", feePath + "?op=pay&amount=1.00&method=CHEQUE", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"pay a malformed amount", "POST", feePath + "?op=pay&amount=1.005&method=CASH", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"pay a negative amount", "POST", feePath + "?op=pay&amount=-1.00&method=CASH", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"waive without reason", "POST", feePath + "?op=waive&amount=1.00", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
		{"XML success body", "GET", "/users/0123456", map[string]string{"Authorization": "apikey " + key}, 406, almatest.CodeGeneralError},
		{"write asking XML", "POST", feePath + "?op=pay&amount=1.00&method=CASH", map[string]string{"Authorization": "apikey " + key}, 406, almatest.CodeGeneralError},
		{"unknown path", "GET", "/acq/vendors", jsonHeaders(key), 404, almatest.CodeNotFound},
		{"bad limit", "GET", "/users/0123456/loans?limit=1000", jsonHeaders(key), 400, almatest.CodeInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, w.srv, tc.method, tc.path, tc.hdr)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			var res wsResult
			var err error
			if strings.Contains(tc.hdr["Accept"], "json") {
				err = json.Unmarshal([]byte(body), &res)
			} else {
				err = xml.Unmarshal([]byte(body), &res)
			}
			if err != nil {
				t.Fatalf("not a web_service_result in the asked format: %v\n%s", err, body)
			}
			if !res.ErrorsExist || len(res.ErrorList.Error) != 1 {
				t.Fatalf("result %+v", res)
			}
			e := res.ErrorList.Error[0]
			if e.ErrorCode != tc.code || e.ErrorMessage == "" || (e.TrackingID == "") != (tc.code == almatest.CodeUnauthorized) {
				t.Errorf("error %+v, want code %s (with a tracking id unless refused for the key)", e, tc.code)
			}
			if strings.Contains(body, key) {
				t.Error("the API key is in the answer")
			}
		})
	}
	if f, _ := w.srv.Fee(fee); !f.Paid.IsZero() || !f.Waived.IsZero() {
		t.Errorf("refused calls changed the fee: %+v", f)
	}
}

// TestRESTShapes checks the JSON the fake writes for fees: amounts as
// Alma writes them, codes with descriptions, and the key in a query
// parameter.
func TestRESTShapes(t *testing.T) {
	w := newWorld(t, nil)
	f, err := w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("3.50"), Barcode: "31234000111222"})
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, w.srv, "POST", "/users/0123456/fees/"+f.ID+"?op=pay&amount=1.00&method=CASH&external_transaction_id=R1&format=json&apikey="+w.srv.APIKey(), nil)
	if status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	var got map[string]any
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	if err := d.Decode(&got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"balance": "2.5", "original_amount": "3.5", "remaining_vat_amount": "0.0"} {
		if n, ok := got[k].(json.Number); !ok || n.String() != want {
			t.Errorf("%s = %v, want the number %s", k, got[k], want)
		}
	}
	if st := got["status"].(map[string]any); st["value"] != "ACTIVE" || st["desc"] != "Active" {
		t.Errorf("status %v", st)
	}
	tx := got["transaction"].([]any)[0].(map[string]any)
	if tx["external_transaction_id"] != "R1" || tx["payment_method"].(map[string]any)["value"] != "CASH" {
		t.Errorf("transaction %v", tx)
	}
	if got["bursar_transaction_id"] != f.TransactionID {
		t.Errorf("bursar_transaction_id %v, want %s", got["bursar_transaction_id"], f.TransactionID)
	}

	status, body = call(t, w.srv, "GET", "/users/0987654/fees", jsonHeaders(w.srv.APIKey()))
	if status != http.StatusOK || body != `{"total_record_count":0,"total_sum":0.0,"currency":"USD"}` {
		t.Errorf("no fees: %d %s", status, body)
	}
}

// TestPutUserReplacesBlocks checks that a PUT replaces the user's blocks
// and that one without user_block clears them, as Alma's PUT replaces the
// whole user.
func TestPutUserReplacesBlocks(t *testing.T) {
	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222")
	put := func(body string) int {
		req, err := http.NewRequestWithContext(t.Context(), "PUT", w.srv.URL()+"/users/0123456?format=json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "apikey "+w.srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := put(`{"primary_id":"0123456","user_block":[{"block_type":{"value":"GENERAL"},"block_description":{"value":"CARD","desc":"Card"},"block_status":"ACTIVE","created_date":"2026-09-01T10:00:00.000Z"}]}`); s != 200 {
		t.Fatalf("PUT: %d", s)
	}
	if b := w.srv.Blocks("0123456"); len(b) != 1 || b[0].Code != "CARD" {
		t.Errorf("blocks %+v", b)
	}
	if s := put(`{"primary_id":"0123456"}`); s != 200 {
		t.Fatalf("PUT: %d", s)
	}
	if b := w.srv.Blocks("0123456"); len(b) != 0 {
		t.Errorf("blocks %+v, want none", b)
	}
	if s := put(`{"primary_id":"someone else"}`); s != 400 {
		t.Errorf("PUT with another primary_id: %d, want 400", s)
	}
	if u, _ := w.srv.User("0123456"); u.FirstName != "Ana" {
		t.Errorf("a PUT without names changed them: %+v", u)
	}
}

// TestUserExpand checks expand=fees,loans on GET users/{id}: the open
// balance and the number of active loans.
func TestUserExpand(t *testing.T) {
	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222") // 110.00 open
	if _, err := w.srv.CheckOut("0123456", "31234000555666", w.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	status, body := call(t, w.srv, "GET", "/users/0123456?expand=fees,loans", jsonHeaders(w.srv.APIKey()))
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var u struct {
		Fees struct {
			Value    json.Number `json:"value"`
			Currency string      `json:"currency"`
		} `json:"fees"`
		Loans struct {
			Value int `json:"value"`
		} `json:"loans"`
		ContactInfo struct {
			Email []struct {
				EmailAddress string `json:"email_address"`
			} `json:"email"`
		} `json:"contact_info"`
	}
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	if u.Fees.Value != "110.0" || u.Fees.Currency != "USD" || u.Loans.Value != 2 || u.ContactInfo.Email[0].EmailAddress != "ana@example.edu" {
		t.Errorf("expanded user: %+v", u)
	}
}

// TestReportForms checks the Analytics answer in JSON (Alma's "anies"
// wrapper), an empty report, and a bad token.
func TestReportForms(t *testing.T) {
	w := newWorld(t, nil)
	key := w.srv.APIKey()
	status, body := call(t, w.srv, "GET", "/analytics/reports?path=%2Fshared%2Fr&format=json", map[string]string{"Authorization": "apikey " + key})
	var anies struct {
		Anies []string `json:"anies"`
	}
	if err := json.Unmarshal([]byte(body), &anies); status != 200 || err != nil || len(anies.Anies) != 1 {
		t.Fatalf("%d %s (%v)", status, body, err)
	}
	var qr struct {
		Token    string `xml:"ResumptionToken"`
		Finished bool   `xml:"IsFinished"`
		Rows     []struct {
			Col0 string `xml:"Column0"`
		} `xml:"ResultXml>rowset>Row"`
	}
	if err := xml.Unmarshal([]byte(anies.Anies[0]), &qr); err != nil || qr.Token == "" || !qr.Finished || len(qr.Rows) != 0 {
		t.Errorf("empty report: %+v, %v", qr, err)
	}
	status, body = call(t, w.srv, "GET", "/analytics/reports?token=nope", map[string]string{"Authorization": "apikey " + key})
	if status != 400 || !strings.Contains(body, almatest.CodeInvalidParameter) {
		t.Errorf("bad token: %d %s", status, body)
	}
}
