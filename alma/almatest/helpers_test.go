package almatest_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// start is the simulated time every test begins at: a Monday morning.
var start = time.Date(2026, 9, 14, 9, 0, 0, 0, time.UTC)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// world is a fake Alma with two students and three items, on a manual
// clock.
type world struct {
	srv   *almatest.Server
	clock *almatest.ManualClock
}

func newWorld(t testing.TB, opts *almatest.Options) *world {
	t.Helper()
	var o almatest.Options
	if opts != nil {
		o = *opts
	}
	if o.Faults == (almatest.Faults{}) {
		// Tests make their calls as fast as the machine goes; the
		// per-second threshold has its own test.
		o.Faults.PerSecond = -1
	}
	clock := almatest.NewManualClock(start)
	if o.Clock == nil {
		o.Clock = clock
	}
	srv := almatest.NewServer(&o)
	t.Cleanup(srv.Close)
	for _, u := range []almatest.User{
		{ID: "0123456", FirstName: "Ana", LastName: "Reyes", Email: "ana@example.edu"},
		{ID: "0987654", FirstName: "Ben", LastName: "Okafor"},
	} {
		if err := srv.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []almatest.Item{
		{Barcode: "31234000111222", Title: "Calculus: early transcendentals", Author: "Stewart, James", CallNumber: "QA303.2 .S74 2016"},
		{Barcode: "31234000333444", Title: "Biology", CallNumber: "QH308.2 .C34 2020", ReplacementCost: usd("85.50")},
		{Barcode: "31234000555666", Title: "Chemistry: the central science", CallNumber: "QD31.3 .B76 2018"},
	} {
		if err := srv.AddItem(it); err != nil {
			t.Fatal(err)
		}
	}
	return &world{srv: srv, clock: clock}
}

// client is a package alma client for the world's server, with no
// client-side pacing and retries that do not sleep.
func (w *world) client(t testing.TB, maxRetries int) *alma.Client {
	t.Helper()
	c, err := alma.NewClient(w.srv.URL(), w.srv.APIKey(), &alma.ClientOptions{
		RatePerSecond: math.Inf(1),
		MaxRetries:    maxRetries,
		Timeout:       5 * time.Second,
		Sleep:         func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		// The client's clock is the fake's, so that a spent daily quota
		// pauses it until the fake's midnight, not the machine's.
		Now: w.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lose checks the item out to the user, lets it fall due and declares it
// lost, and returns the loan id and the fees assessed.
func (w *world) lose(t testing.TB, userID, barcode string) (string, []fees.Fee) {
	t.Helper()
	loanID, err := w.srv.CheckOut(userID, barcode, w.clock.Now().Add(14*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(20 * 24 * time.Hour)
	fs, err := w.srv.DeclareLost(loanID)
	if err != nil {
		t.Fatal(err)
	}
	return loanID, fs
}

// call sends a raw request to the fake and returns the status and body.
func call(t *testing.T, srv *almatest.Server, method, path string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func jsonHeaders(key string) map[string]string {
	return map[string]string{"Authorization": "apikey " + key, "Accept": "application/json"}
}

func feeOfType(t *testing.T, fs []fees.Fee, typ fees.Type) fees.Fee {
	t.Helper()
	for _, f := range fs {
		if f.Type == typ {
			return f
		}
	}
	t.Fatalf("no %s among %d fees", typ, len(fs))
	return fees.Fee{}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// paidAt dates the payments the tests import: alma's import encoder
// refuses a payment with no date.
var paidAt = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
