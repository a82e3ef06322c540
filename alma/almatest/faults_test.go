package almatest_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// TestPerSecondThreshold: with a threshold of 1, calls made one after the
// other are soon refused with 429 PER_SECOND_THRESHOLD: two of them fall
// within one wall-clock second unless each takes a whole second.
func TestPerSecondThreshold(t *testing.T) {
	w := newWorld(t, &almatest.Options{Faults: almatest.Faults{PerSecond: 1}})
	c := w.client(t, -1)
	calls, limited := 0, false
	for !limited && calls < 100 {
		calls++
		_, err := c.GetUser(t.Context(), "0123456")
		switch {
		case err == nil:
		case alma.IsRateLimited(err) && alma.ErrorCode(err) == almatest.CodePerSecondThreshold:
			limited = true
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if !limited {
		t.Errorf("none of %d calls was refused", calls)
	}
	if got := w.srv.APICalls()["GET users/{user_id}"]; got != calls {
		t.Errorf("APICalls counted %d calls, want %d", got, calls)
	}
}

// TestDailyQuota spends a quota of 3 calls, checks X-Exl-Api-Remaining
// and the DAILY_THRESHOLD refusal, and gets a new quota the next
// simulated day.
func TestDailyQuota(t *testing.T) {
	w := newWorld(t, &almatest.Options{Faults: almatest.Faults{DailyQuota: 3}})
	c := w.client(t, 3)
	ctx := t.Context()
	for want := int64(2); want >= 0; want-- {
		if _, err := c.GetUser(ctx, "0123456"); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Remaining(); got != want {
			t.Errorf("remaining %d, want %d", got, want)
		}
	}
	_, err := c.GetUser(ctx, "0123456")
	var ae *alma.Error
	if !alma.IsQuotaExhausted(err) || !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.Attempts != 1 {
		t.Fatalf("after the quota: %v, want one 429 DAILY_THRESHOLD that is not retried", err)
	}
	w.clock.Advance(24 * time.Hour)
	if _, err := c.GetUser(ctx, "0123456"); err != nil {
		t.Errorf("the next day: %v", err)
	}
}

// TestInjectedFaults switches each fault on at rate 1 and checks what the
// client sees.
func TestInjectedFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults almatest.Faults
		check  func(t *testing.T, err error)
	}{
		{"429", almatest.Faults{RateLimit429: 1}, func(t *testing.T, err error) {
			if !alma.IsRateLimited(err) {
				t.Errorf("%v, want rate limited", err)
			}
		}},
		{"5xx", almatest.Faults{Error5xx: 1}, func(t *testing.T, err error) {
			var ae *alma.Error
			if !errors.As(err, &ae) || ae.Status < 500 {
				t.Errorf("%v, want a 5xx", err)
			}
		}},
		{"dropped connection", almatest.Faults{DropConn: 1}, func(t *testing.T, err error) {
			var ae *alma.Error
			if !errors.As(err, &ae) || ae.Status != 0 || ae.Err == nil {
				t.Errorf("%v, want no answer", err)
			}
		}},
		{"slow", almatest.Faults{Slow: 1, SlowDelay: time.Minute}, func(t *testing.T, err error) {
			var ae *alma.Error
			if !errors.As(err, &ae) || ae.Status != 0 {
				t.Errorf("%v, want a timeout", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.srv.SetFaults(tc.faults)
			c, err := alma.NewClient(w.srv.URL(), w.srv.APIKey(), &alma.ClientOptions{
				MaxRetries: -1, Timeout: 200 * time.Millisecond, RatePerSecond: 1000,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetUser(t.Context(), "0123456")
			tc.check(t, err)
			w.srv.SetFaults(almatest.Faults{})
			if _, err := c.GetUser(t.Context(), "0123456"); err != nil {
				t.Errorf("with the faults off: %v", err)
			}
		})
	}
}

// TestLostAnswersDoNotDoublePay pays ten fees through a client whose
// answers are lost half the time after the payment was taken: the
// client's re-read before retrying must leave each fee paid exactly once.
func TestLostAnswersDoNotDoublePay(t *testing.T) {
	w := newWorld(t, &almatest.Options{Seed: 7})
	var ids []string
	for range 10 {
		f, err := w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("10.00")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	w.srv.SetFaults(almatest.Faults{LostAnswer: 0.5, PerSecond: -1})
	c := w.client(t, 20)
	for i, id := range ids {
		_, err := c.Pay(t.Context(), "0123456", id, alma.PayRequest{Amount: usd("4.00"), Method: "CASH", ExternalTransactionID: fmt.Sprintf("R%d", i)})
		if err != nil {
			t.Fatalf("fee %s: %v", id, err)
		}
	}
	// A lost answer makes the client read the fee again before it retries.
	if rereads := w.srv.APICalls()["GET users/{user_id}/fees/{fee_id}"]; rereads == 0 {
		t.Error("the client never read a fee again: no answer was lost, the test proves nothing")
	}
	for _, id := range ids {
		f, _ := w.srv.Fee(id)
		if !f.Paid.Equal(usd("4.00")) || len(w.srv.Transactions(id)) != 1 {
			t.Errorf("fee %s paid %s in %d transactions, want 4.00 in one", id, f.Paid, len(w.srv.Transactions(id)))
		}
	}
}

// TestDeterministicGivenSeed runs the same calls against two servers with
// one seed: the ids, the key and every fault decision are the same.
func TestDeterministicGivenSeed(t *testing.T) {
	run := func(seed int64) (string, []string, string) {
		w := newWorld(t, &almatest.Options{Seed: seed, Faults: almatest.Faults{Error5xx: 0.3, RateLimit429: 0.2, PerSecond: -1}})
		w.lose(t, "0123456", "31234000111222")
		var ids []string
		for _, f := range w.srv.AllFees() {
			ids = append(ids, f.ID, f.TransactionID)
		}
		var statuses strings.Builder
		for range 40 {
			s, _ := call(t, w.srv, "GET", "/users/0123456/fees", jsonHeaders(w.srv.APIKey()))
			fmt.Fprintf(&statuses, "%d ", s)
		}
		return w.srv.APIKey(), ids, statuses.String()
	}
	k1, ids1, s1 := run(42)
	k2, ids2, s2 := run(42)
	if k1 != k2 || !slices.Equal(ids1, ids2) || s1 != s2 {
		t.Errorf("same seed, different runs:\n%s %v %s\n%s %v %s", k1, ids1, s1, k2, ids2, s2)
	}
	if !strings.Contains(s1, "200") || !strings.Contains(s1, "429") || !strings.Contains(s1, "50") {
		t.Errorf("statuses %s: want a mix of 200, 429 and 5xx", s1)
	}
	if k3, _, s3 := run(43); k3 == k1 || s3 == s1 {
		t.Errorf("another seed gave the same key or faults")
	}
}
