package almatest_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
)

// TestSignMatchesRealDelivery checks Sign against a real delivery and the
// fake's event against the real event's fields.
func TestSignMatchesRealDelivery(t *testing.T) {
	raw, err := os.ReadFile("testdata/loan_returned_event.lambda.json")
	if err != nil {
		t.Fatal(err)
	}
	var lambda struct {
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &lambda); err != nil {
		t.Fatal(err)
	}
	if got, want := almatest.Sign([]byte("secretkey"), []byte(lambda.Body)), lambda.Headers["X-Exl-Signature"]; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}

	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	hooks := w.srv.Webhooks()
	if len(hooks) != 1 || hooks[0].State != almatest.DeliveryPending {
		t.Fatalf("without a URL the event waits: %+v", hooks)
	}
	keys := func(body []byte) (top, loan []string) {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Keys(m["item_loan"].(map[string]any)))
	}
	realTop, realLoan := keys([]byte(lambda.Body))
	fakeTop, fakeLoan := keys(hooks[0].Body)
	if d := cmp.Diff(realTop, fakeTop); d != "" {
		t.Errorf("event fields (-real +fake):\n%s", d)
	}
	for _, k := range realLoan {
		if !slices.Contains(fakeLoan, k) {
			t.Errorf("item_loan lacks %q", k)
		}
	}
	if _, err := alma.ParseEvent(hooks[0].Body); err != nil {
		t.Errorf("package alma cannot parse the fake's event: %v", err)
	}
}

// TestWebhookRetries checks Alma's retry schedule, in simulated time: a
// 5xx or no answer is retried after each delay, a 2xx ends it, a 4xx
// fails it, and the delays run out.
func TestWebhookRetries(t *testing.T) {
	delays := []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour}
	for _, tc := range []struct {
		name     string
		answers  []int // status per attempt; 0 closes the connection
		state    string
		attempts int
	}{
		{"delivered at once", []int{200}, almatest.DeliveryDelivered, 1},
		{"5xx then delivered", []int{503, 500, 204}, almatest.DeliveryDelivered, 3},
		{"no answer then delivered", []int{0, 200}, almatest.DeliveryDelivered, 2},
		{"4xx is not retried", []int{401}, almatest.DeliveryFailed, 1},
		{"retries run out", []int{500, 500, 500, 500, 200}, almatest.DeliveryFailed, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if r.Header.Get(almatest.SignatureHeader) == "" {
					t.Error("delivery without a signature")
				}
				status := tc.answers[min(i, len(tc.answers)-1)]
				if status == 0 {
					panic(http.ErrAbortHandler)
				}
				rw.WriteHeader(status)
			}))
			defer hs.Close()
			w := newWorld(t, &almatest.Options{WebhookURL: hs.URL, WebhookSecret: []byte("s")})
			w.lose(t, "0123456", "31234000111222")
			if _, err := w.srv.Return("31234000111222"); err != nil {
				t.Fatal(err)
			}
			returned := w.clock.Now()

			w.srv.RunDue(t.Context())
			for _, d := range delays {
				if got := w.srv.RunDue(t.Context()); got != 0 {
					t.Fatalf("%d attempts before the retry was due", got)
				}
				w.clock.Advance(d)
				w.srv.RunDue(t.Context())
			}
			d := w.srv.Webhooks()[0]
			if d.State != tc.state || len(d.Attempts) != tc.attempts {
				t.Fatalf("state %s after %d attempts, want %s after %d: %+v", d.State, len(d.Attempts), tc.state, tc.attempts, d.Attempts)
			}
			at := returned
			for i, a := range d.Attempts {
				if !a.At.Equal(at) {
					t.Errorf("attempt %d at %v, want %v", i+1, a.At, at)
				}
				if i < len(delays) {
					at = at.Add(delays[i])
				}
			}
		})
	}
}

// TestWebhookCompressedDelays runs Alma's schedule in minutes.
func TestWebhookCompressedDelays(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			rw.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer hs.Close()
	w := newWorld(t, &almatest.Options{WebhookRetryDelays: []time.Duration{time.Minute, 2 * time.Minute}})
	w.srv.SetWebhook(hs.URL, []byte("s"))
	w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	w.srv.RunDue(t.Context())
	w.clock.Advance(time.Minute)
	w.srv.RunDue(t.Context())
	w.clock.Advance(2 * time.Minute)
	w.srv.RunDue(t.Context())
	if d := w.srv.Webhooks()[0]; d.State != almatest.DeliveryDelivered || len(d.Attempts) != 3 {
		t.Errorf("state %s after %d attempts", d.State, len(d.Attempts))
	}
}

// TestWebhookEvents sends the three loan events when the profile asks for
// them, each as package alma reads it.
func TestWebhookEvents(t *testing.T) {
	secret := []byte("s")
	rec, url := newReceiver(t, secret, nil)
	w := newWorld(t, &almatest.Options{WebhookURL: url, WebhookSecret: secret,
		WebhookEvents: []string{almatest.EventLoanCreated, almatest.EventLoanLost, almatest.EventLoanReturned}})
	loanID, _ := w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.Return("31234000111222"); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.RunDue(t.Context()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	var got []string
	for _, ev := range rec.got() {
		if ev.Loan == nil || ev.Loan.LoanID != loanID {
			t.Errorf("event %+v is not about loan %s", ev, loanID)
			continue
		}
		got = append(got, ev.Type+"/"+ev.Loan.ProcessStatus)
	}
	want := []string{"LOAN_CREATED/NORMAL", "LOAN_LOST/LOST", "LOAN_RETURNED/LOST"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
