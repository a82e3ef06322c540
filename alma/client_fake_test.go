package alma_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"context"

	"github.com/feebridge/feebridge/alma"
)

// testKey is the API key the fake expects. Tests check it never shows in
// an error string or a log line.
const testKey = "l7xx0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// fakeBase is where the fake mounts Alma's API: a non-empty path, as the
// real hosts have.
const fakeBase = "/almaws/v1"

// fault answers a request in place of the fake's normal route. next is
// the normal route, for faults that let the request take effect first.
type fault func(w http.ResponseWriter, r *http.Request, next http.Handler)

// fakeAlma is a small Alma for the client's tests: the fixtures in
// testdata/rest, one fee (fee_lost.json) that pay, waive and restore
// change, and faults served in place of the first requests.
type fakeAlma struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []string // "METHOD path?query", path below fakeBase
	faults   []fault
	fee      map[string]any // the mutable fee, decoded with UseNumber
	putBody  []byte
	loans    int // how many loans ListLoans serves
}

func newFake(t *testing.T) *fakeAlma {
	t.Helper()
	f := &fakeAlma{t: t, loans: 150}
	if err := decodeNumbers(readTestdata(t, "rest/fee_lost.json"), &f.fee); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(fakeBase+"/", http.StripPrefix(fakeBase, http.HandlerFunc(f.serve)))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// client returns a client for the fake that never sleeps; the sleeps it
// would have made are appended to *slept if slept is not nil.
func (f *fakeAlma) client(t *testing.T, opts *alma.ClientOptions, slept *[]time.Duration) *alma.Client {
	t.Helper()
	var o alma.ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = math.Inf(1)
	}
	var mu sync.Mutex
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if slept != nil {
			*slept = append(*slept, d)
		}
		return ctx.Err()
	}
	c, err := alma.NewClient(f.srv.URL+fakeBase, testKey, &o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inject makes the next n requests answer with fl.
func (f *fakeAlma) inject(n int, fl fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fl)
	}
}

func (f *fakeAlma) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeAlma) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	var fl fault
	if len(f.faults) > 0 {
		fl, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fl != nil {
		fl(w, r, http.HandlerFunc(f.route))
		return
	}
	f.route(w, r)
}

func almaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errorsExist":true,"errorList":{"error":[{"errorCode":%q,"errorMessage":%q,"trackingId":"E01-TEST"}]},"result":null}`, code, msg)
}

func (f *fakeAlma) route(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("Authorization"); got != "apikey "+testKey {
		almaError(w, http.StatusBadRequest, "UNAUTHORIZED", "API-key not defined or not configured to allow this API.")
		return
	}
	q := r.URL.Query()
	wantXML := strings.HasPrefix(r.URL.Path, "/analytics/")
	if !wantXML && (r.Header.Get("Accept") != "application/json" || q.Get("format") != "json") {
		almaError(w, http.StatusBadRequest, "TEST", "the client did not ask for JSON")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	file := func(name string) {
		if wantXML {
			w.Header().Set("Content-Type", "application/xml")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Exl-Api-Remaining", "99000")
		w.Write(b)
	}
	switch {
	case r.Method == "GET" && len(parts) == 3 && parts[0] == "users" && parts[2] == "fees":
		switch q.Get("status") {
		case "ACTIVE":
			file("rest/fees_active.json")
		case "EXPORTED":
			file("rest/fees_exported.json")
		case "INDISPUTE":
			file("rest/fees_indispute.json")
		default:
			fmt.Fprint(w, `{"fee":[],"total_record_count":0,"total_sum":0,"currency":"USD"}`)
		}
	case len(parts) == 4 && parts[0] == "users" && parts[2] == "fees":
		f.feeOp(w, r, parts[3])
	case r.Method == "GET" && len(parts) == 2 && parts[0] == "users":
		f.mu.Lock()
		put := f.putBody
		f.mu.Unlock()
		if put != nil {
			w.Write(put)
			return
		}
		file("rest/user.json")
	case r.Method == "PUT" && len(parts) == 2 && parts[0] == "users":
		b, _ := io.ReadAll(r.Body)
		if !json.Valid(b) || r.Header.Get("Content-Type") != "application/json" {
			almaError(w, http.StatusBadRequest, "TEST", "bad PUT body")
			return
		}
		f.mu.Lock()
		f.putBody = b
		f.mu.Unlock()
		w.Write(b)
	case r.Method == "GET" && len(parts) == 4 && parts[0] == "users" && parts[2] == "loans":
		file("rest/loan.json")
	case r.Method == "GET" && len(parts) == 3 && parts[0] == "users" && parts[2] == "loans":
		f.listLoans(w, r)
	case r.Method == "GET" && len(parts) == 1 && parts[0] == "items":
		if q.Get("item_barcode") != "31234000111222" {
			almaError(w, http.StatusBadRequest, "401689", "No items found for barcode "+q.Get("item_barcode")+".")
			return
		}
		file("rest/item.json")
	case r.Method == "GET" && len(parts) == 2 && parts[0] == "analytics" && parts[1] == "reports":
		switch q.Get("token") {
		case "":
			file("rest/report_page1.xml")
		case "2F2A8F7B1C0D4E33":
			file("rest/report_page2.xml")
		default:
			http.Error(w, "bad token", http.StatusBadRequest)
		}
	default:
		almaError(w, http.StatusNotFound, "NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	}
}

func (f *fakeAlma) listLoans(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	var loans []string
	for i := offset; i < f.loans && i < offset+limit; i++ {
		loans = append(loans, fmt.Sprintf(`{"loan_id":"L%03d","user_id":"0123456","item_barcode":"B%03d","loan_status":"ACTIVE","process_status":"NORMAL","loan_date":"2026-08-04T17:22:31.119Z","due_date":"2026-09-01T06:59:00Z","library":{"value":"ARC"}}`, i, i))
	}
	fmt.Fprintf(w, `{"item_loan":[%s],"total_record_count":%d}`, strings.Join(loans, ","), f.loans)
}

// cents reads an amount from the fake's fee.
func fakeCents(v any) int64 {
	s := fmt.Sprint(v)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	frac = (frac + "00")[:2]
	c, _ := strconv.ParseInt(frac, 10, 64)
	return n*100 + c
}

func (f *fakeAlma) feeOp(w http.ResponseWriter, r *http.Request, feeID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if feeID != f.fee["id"] {
		almaError(w, http.StatusBadRequest, "401652", "Fee "+feeID+" not found.")
		return
	}
	q := r.URL.Query()
	if r.Method == "POST" {
		switch op := q.Get("op"); op {
		case "pay", "waive":
			amount := fakeCents(q.Get("amount"))
			balance := fakeCents(f.fee["balance"])
			if amount <= 0 || amount > balance {
				almaError(w, http.StatusBadRequest, "401929", "Amount is larger than the balance.")
				return
			}
			balance -= amount
			tx := map[string]any{"amount": json.Number(q.Get("amount")), "comment": q.Get("comment")}
			if op == "pay" {
				tx["type"] = map[string]string{"value": "PAYMENT"}
				tx["payment_method"] = map[string]string{"value": q.Get("method")}
				tx["external_transaction_id"] = q.Get("external_transaction_id")
			} else {
				tx["type"] = map[string]string{"value": "WAIVE"}
				tx["reason"] = map[string]string{"value": q.Get("reason")}
			}
			f.fee["transaction"] = append(f.fee["transaction"].([]any), tx)
			f.fee["balance"] = json.Number(fmt.Sprintf("%d.%02d", balance/100, balance%100))
			if balance == 0 {
				f.fee["status"] = map[string]string{"value": "CLOSED"}
			}
		case "restore":
			f.fee["status"] = map[string]string{"value": "EXPORTED"}
		default:
			almaError(w, http.StatusBadRequest, "TEST", "unknown op "+op)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f.fee)
}

// Faults.

func faultFile(code int, file string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		if strings.HasSuffix(file, ".xml") {
			w.Header().Set("Content-Type", "application/xml")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		if file != "" {
			b, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				panic(err)
			}
			w.Write(b)
		}
	}
}

func faultBody(code int, text string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.WriteHeader(code)
		io.WriteString(w, text)
	}
}

// appliedThen lets the request take effect, then answers code: a write
// that reached Alma although the client saw it fail.
func appliedThen(code int) fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(httptest.NewRecorder(), r)
		w.WriteHeader(code)
		io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
	}
}

// faultHang answers only after the client gave up.
func faultHang(w http.ResponseWriter, r *http.Request, _ http.Handler) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}
