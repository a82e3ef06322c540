package alma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
)

// observer records the calls a client reports.
type observer struct {
	mu    sync.Mutex
	calls []alma.Call
	ctxOK int // calls that carried the caller's context value
}

type ctxKey struct{}

func (o *observer) observe(ctx context.Context, c alma.Call) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, c)
	if ctx.Value(ctxKey{}) == "run" {
		o.ctxOK++
	}
}

func (o *observer) ops() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, c := range o.calls {
		out = append(out, c.Op)
	}
	return out
}

// TestObserveNamesEachCall checks that Observe sees one call per HTTP
// attempt, a retry included, with a fixed operation name that holds no
// id, the status, the call's context and the remaining quota.
func TestObserveNamesEachCall(t *testing.T) {
	f := newFake(t)
	o := &observer{}
	c := f.client(t, &alma.ClientOptions{Observe: o.observe}, nil)
	ctx := context.WithValue(t.Context(), ctxKey{}, "run")
	if _, err := c.GetUser(ctx, patronID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLoan(ctx, patronID, "18263808770001221"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetItemByBarcode(ctx, "31234000111222"); err != nil {
		t.Fatal(err)
	}
	f.inject(1, faultFile(http.StatusServiceUnavailable, ""))
	if _, err := c.Pay(ctx, patronID, lostFee, alma.PayRequest{
		Amount: dollars("60"), Method: "ONLINE", ExternalTransactionID: "PS-RCPT-90002",
	}); err != nil {
		t.Fatal(err)
	}
	ops := o.ops()
	if want := []string{"get_user", "get_loan", "get_item", "pay_fee"}; !slices.Equal(slices.Compact(slices.Clone(ops))[:4], want) {
		t.Errorf("ops %q, want them to begin with %q", ops, want)
	}
	if n := len(f.log()); len(ops) != n {
		t.Errorf("%d calls observed, the fake saw %d requests: %q", len(ops), n, f.log())
	}
	if o.ctxOK != len(ops) {
		t.Errorf("%d of %d calls carried the caller's context", o.ctxOK, len(ops))
	}
	var statuses []int
	for _, call := range o.calls {
		statuses = append(statuses, call.Status)
		if strings.Contains(call.Op, patronID) || strings.Contains(call.Op, lostFee) {
			t.Errorf("op %q names an id", call.Op)
		}
		if call.Duration < 0 {
			t.Errorf("call %+v: negative duration", call)
		}
	}
	if !slices.Contains(statuses, http.StatusServiceUnavailable) || statuses[len(statuses)-1] != http.StatusOK {
		t.Errorf("statuses %v, want a 503 and a last 200", statuses)
	}
	last := int64(-1)
	for _, call := range o.calls {
		if call.Remaining >= 0 {
			last = call.Remaining
		}
	}
	if n, _ := c.Remaining(); last != n || n != 99000 {
		t.Errorf("last Remaining observed %d, client's %d; want 99000", last, n)
	}
}

// TestObserveTransportError checks that an attempt without an answer is
// observed with status 0, once per attempt.
func TestObserveTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	o := &observer{}
	c, err := alma.NewClient(url+fakeBase, testKey, &alma.ClientOptions{
		Observe: o.observe, MaxRetries: 2,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetFee(t.Context(), patronID, lostFee); err == nil {
		t.Fatal("no error from a closed server")
	}
	if len(o.calls) != 3 {
		t.Fatalf("%d calls observed, want 3 attempts: %+v", len(o.calls), o.calls)
	}
	for _, call := range o.calls {
		if call.Op != "get_fee" || call.Status != 0 || call.Remaining != -1 {
			t.Errorf("call %+v, want get_fee, status 0, remaining -1", call)
		}
	}
}
