package alma_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
)

// webhookSecret is the secret the captured deliveries were signed with.
var webhookSecret = []byte("secretkey")

// delivery is one captured webhook delivery (testdata/webhooks/*.lambda.json).
type delivery struct {
	Body      string            `json:"body"`
	Headers   map[string]string `json:"headers"`
	Query     map[string]string `json:"queryStringParameters"`
	Signature string            `json:"-"`
}

func loadDelivery(t testing.TB, name string) delivery {
	t.Helper()
	var d delivery
	if err := json.Unmarshal(readTestdata(t, "webhooks/"+name), &d); err != nil {
		t.Fatal(err)
	}
	d.Signature = d.Headers[alma.SignatureHeader]
	return d
}

// recorder is a webhook callback that records the events and returns err.
type recorder struct {
	mu     sync.Mutex
	events []alma.Event
	err    error
}

func (r *recorder) handle(ctx context.Context, ev alma.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.err
}

func post(h http.Handler, body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/alma", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(alma.SignatureHeader, sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestWebhookLoanEvents(t *testing.T) {
	for _, tt := range []struct {
		file string
		want alma.Event
	}{
		{"loan_returned_event.lambda.json", alma.Event{ID: "1452370645077141593", Action: "LOAN", Type: alma.EventLoanReturned}},
		{"loan_created_event.lambda.json", alma.Event{ID: "1452370645077141593", Action: "LOAN", Type: alma.EventLoanCreated}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			d := loadDelivery(t, tt.file)
			rec := &recorder{}
			w := post(alma.NewWebhookHandler(webhookSecret, rec.handle, nil), d.Body, d.Signature)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if len(rec.events) != 1 {
				t.Fatalf("callback called %d times, want once", len(rec.events))
			}
			want := tt.want
			want.Institution = "44LAN_INST"
			want.Time = time.Date(2018, 2, 23, 11, 10, 12, 5e6, time.UTC)
			want.Raw = []byte(d.Body)
			want.Loan = &alma.LoanEvent{
				LoanID: "18263808770001221", UserID: "LBAAJH", ItemBarcode: "12345", MMSID: "9919045950001221",
				Title: "Journey", Status: "ACTIVE", ProcessStatus: "NORMAL",
				LoanDate: time.Date(2018, 2, 23, 11, 10, 6, 546e6, time.UTC),
				DueDate:  time.Date(2018, 2, 23, 14, 10, 6, 0, time.UTC),
				Library:  "LANUL",
			}
			if diff := cmp.Diff(want, rec.events[0]); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookChallenge(t *testing.T) {
	d := loadDelivery(t, "challenge.lambda.json")
	h := alma.NewWebhookHandler(webhookSecret, (&recorder{}).handle, nil)
	req := httptest.NewRequest(http.MethodGet, "/webhooks/alma?challenge="+url.QueryEscape(d.Query["challenge"]), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"challenge": "this is a challenge"}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/webhooks/alma", nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("GET without a challenge: status %d, want 400", w.Code)
	}
}

func TestSign(t *testing.T) {
	for _, f := range []string{"loan_returned_event.lambda.json", "loan_created_event.lambda.json"} {
		d := loadDelivery(t, f)
		if got := alma.Sign(webhookSecret, []byte(d.Body)); got != d.Signature {
			t.Errorf("%s: Sign = %q, want Alma's %q", f, got, d.Signature)
		}
	}
}

func TestWebhookRefusals(t *testing.T) {
	d := loadDelivery(t, "loan_returned_event.lambda.json")
	var reserialized bytes.Buffer
	var v any
	if err := json.Unmarshal([]byte(d.Body), &v); err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&reserialized)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(d.Body, `"item_barcode":"12345"`, `"item_barcode":"12346"`, 1)
	if tampered == d.Body {
		t.Fatal("tampering changed nothing")
	}
	for _, tt := range []struct {
		name, body, sig string
		want            int
	}{
		{"tampered body", tampered, d.Signature, http.StatusUnauthorized},
		{"re-serialized body", reserialized.String(), d.Signature, http.StatusUnauthorized},
		{"missing signature", d.Body, "", http.StatusUnauthorized},
		{"signature not base64", d.Body, "not*base64!", http.StatusUnauthorized},
		{"signature with another secret", d.Body, alma.Sign([]byte("other"), []byte(d.Body)), http.StatusUnauthorized},
		{"truncated signature", d.Body, d.Signature[:20], http.StatusUnauthorized},
		{"oversized body", d.Body + strings.Repeat(" ", 2048), alma.Sign(webhookSecret, []byte(d.Body+strings.Repeat(" ", 2048))), http.StatusRequestEntityTooLarge},
		{"signed but not JSON", "{not json", alma.Sign(webhookSecret, []byte("{not json")), http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			h := alma.NewWebhookHandler(webhookSecret, rec.handle, &alma.WebhookOptions{MaxBody: 2048})
			w := post(h, tt.body, tt.sig)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
			if len(rec.events) != 0 {
				t.Errorf("callback called for a refused delivery")
			}
		})
	}
}

func TestWebhookCallbackOutcomes(t *testing.T) {
	d := loadDelivery(t, "loan_returned_event.lambda.json")
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"handled", nil, http.StatusOK},
		{"retry later", alma.RetryLater(errors.New("alma: POST users/LB***/fees/1: 503")), http.StatusServiceUnavailable},
		{"retry later, wrapped with %w", fmt.Errorf("waive: %w", alma.ErrRetryLater), http.StatusServiceUnavailable},
		{"timed out", fmt.Errorf("waive: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"permanent failure", errors.New("no such fee"), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{err: tt.err}
			w := post(alma.NewWebhookHandler(webhookSecret, rec.handle, nil), d.Body, d.Signature)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
		})
	}
}

func TestWebhookCallbackDeadline(t *testing.T) {
	d := loadDelivery(t, "loan_returned_event.lambda.json")
	h := alma.NewWebhookHandler(webhookSecret, func(ctx context.Context, ev alma.Event) error {
		<-ctx.Done()
		return ctx.Err()
	}, &alma.WebhookOptions{CallbackTimeout: 10 * time.Millisecond})
	if w := post(h, d.Body, d.Signature); w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503 when the callback runs out of time", w.Code)
	}
}

func TestWebhookIgnoresOtherActions(t *testing.T) {
	body := `{"id":"77","action":"USER","institution":{"value":"01ALLIANCE_LRCCD"},"time":"2026-10-06T18:00:00Z","event":{"value":"USER_UPDATED"},"webhook_user":{"user":{}}}`
	rec := &recorder{}
	w := post(alma.NewWebhookHandler(webhookSecret, rec.handle, nil), body, alma.Sign(webhookSecret, []byte(body)))
	if w.Code != http.StatusOK || len(rec.events) != 0 {
		t.Errorf("status %d, %d callbacks; want 200 and none", w.Code, len(rec.events))
	}
}

func TestWebhookMethods(t *testing.T) {
	h := alma.NewWebhookHandler(webhookSecret, (&recorder{}).handle, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: status %d, want 405", w.Code)
	}
}

// TestWebhookOverHTTP delivers through a real server, as Alma would.
func TestWebhookOverHTTP(t *testing.T) {
	d := loadDelivery(t, "loan_returned_event.lambda.json")
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/alma", alma.NewWebhookHandler(webhookSecret, rec.handle, nil))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/webhooks/alma", strings.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(alma.SignatureHeader, d.Signature)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || len(rec.events) != 1 || rec.events[0].Type != alma.EventLoanReturned {
		t.Errorf("status %d, events %d", resp.StatusCode, len(rec.events))
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"loan_returned_event.lambda.json", "loan_created_event.lambda.json"} {
		f.Add([]byte(loadDelivery(f, name).Body))
	}
	f.Add([]byte(`{"action":"LOAN","item_loan":null}`))
	f.Add(readTestdata(f, "webhooks/job_end_bursar_export.json"))
	f.Add([]byte(`{"action":"JOB_END","job_instance":{"id":1,"status":{"value":"FAILED"},"counter":[{"type":"x","value":"-1"}]}}`))
	f.Add([]byte(`{"time":"yesterday"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := alma.ParseEvent(body)
		if err != nil {
			return
		}
		if !bytes.Equal(ev.Raw, body) {
			t.Error("Raw is not the body")
		}
		if ev.Action == alma.ActionJobEnd {
			if ev.JobEnd == nil || ev.JobEnd.InstanceID == "" || ev.JobEnd.Status == "" {
				t.Errorf("JOB_END accepted without an instance id or a status: %+v", ev.JobEnd)
			}
			for code, n := range ev.JobEnd.Counters {
				if n < 0 || code == "" {
					t.Errorf("counter %q = %d accepted", code, n)
				}
			}
		}
	})
}

func BenchmarkWebhookDelivery(b *testing.B) {
	d := loadDelivery(b, "loan_returned_event.lambda.json")
	h := alma.NewWebhookHandler(webhookSecret, func(context.Context, alma.Event) error { return nil }, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(d.Body)))
	for b.Loop() {
		if w := post(h, d.Body, d.Signature); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
