package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// TestAlmaRemainingNewest: feebridge_alma_api_remaining is the newest
// value, this process's or that of a run in the history (made by another
// process), and the requests are counted by op and status.
func TestAlmaRemainingNewest(t *testing.T) {
	ctx := t.Context()
	j, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	a := metrics.NewAlma(func() time.Time { return now })
	reg := metrics.NewRegistry(j, a, nil)
	want := func(remaining string) {
		t.Helper()
		got := exposition(t, reg)
		if remaining == "" {
			if strings.Contains(got, "feebridge_alma_api_remaining ") {
				t.Errorf("a remaining quota before any answer:\n%s", got)
			}
			return
		}
		if !strings.Contains(got, "\nfeebridge_alma_api_remaining "+remaining+"\n") {
			t.Errorf("want feebridge_alma_api_remaining %s:\n%s", remaining, got)
		}
	}
	want("") // nothing heard yet

	a.Observe(ctx, alma.Call{Op: "get_fee", Status: 200, Remaining: 900})
	a.Observe(ctx, alma.Call{Op: "get_fee", Status: 0, Remaining: -1})
	want("900")

	// A cron run that ended later heard less.
	if _, err := j.AddRun(ctx, journal.Run{Job: "report", Started: now, Ended: now.Add(time.Minute), Outcome: journal.RunOK, AlmaRemaining: 850}); err != nil {
		t.Fatal(err)
	}
	want("850")

	// This process hears again, later.
	now = now.Add(time.Hour)
	a.Observe(ctx, alma.Call{Op: "pay_fee", Status: 200, Remaining: 800})
	want("800")

	exp := `# HELP feebridge_alma_requests_total HTTP attempts this process made to Alma's API, by operation and HTTP status (0: no answer).
# TYPE feebridge_alma_requests_total counter
feebridge_alma_requests_total{op="get_fee",status="0"} 1
feebridge_alma_requests_total{op="get_fee",status="200"} 1
feebridge_alma_requests_total{op="pay_fee",status="200"} 1
`
	if got := exposition(t, reg); !strings.Contains(got, exp) {
		t.Errorf("want\n%s\nin\n%s", exp, got)
	}
}

// exposition is what /metrics serves from reg.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
