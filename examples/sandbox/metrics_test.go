package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// lastRemaining is a transport that keeps the X-Exl-Api-Remaining header
// of Alma's newest answer, as the fake sent it.
type lastRemaining struct {
	mu   sync.Mutex
	last string
}

func (l *lastRemaining) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		if h := resp.Header.Get("X-Exl-Api-Remaining"); h != "" {
			l.mu.Lock()
			l.last = h
			l.mu.Unlock()
		}
	}
	return resp, err
}

// scrape serves the sandbox's metrics as feesync serve does (its journal
// and its Alma client's calls) and reads them back: "name{labels}" to
// value, the labels in the order the exposition writes them.
func scrape(t *testing.T, d *district) map[string]float64 {
	t.Helper()
	reg := metrics.NewRegistry(d.currentJournal(), d.almaCalls, nil)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s\n%s", resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sum adds the values of the metrics whose "name{labels}" begins with
// prefix.
func sum(m map[string]float64, prefix string) float64 {
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// TestMetricsOfTheWeek (issue 16, done when): /metrics, scraped during a
// sandbox week and at its end, shows every metric, with the values of the
// week's printed summary.
func TestMetricsOfTheWeek(t *testing.T) {
	s := small(1, 0)
	lr := &lastRemaining{}
	s.almaTransport = lr
	var scrapes int
	var lastRuns float64
	s.tamper = func(ctx context.Context, d *district, task string) error {
		// During the week: the runs only ever add up.
		m := scrape(t, d)
		runs := sum(m, "feebridge_job_runs_total{")
		if runs < lastRuns {
			t.Errorf("before %s: feebridge_job_runs_total fell from %g to %g", task, lastRuns, runs)
		}
		lastRuns = runs
		scrapes++
		return nil
	}
	var out strings.Builder
	s.Stdout = &out
	err := s.Run(t.Context())
	defer s.Close()
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, out.String())
	}
	if scrapes == 0 {
		t.Fatal("no scrape during the week")
	}
	week := out.String()
	m := scrape(t, s.d)
	d := s.d

	// The runs: every job of the week, none failed, the last success of
	// each at its last time on the schedule (the reconciliation's is the
	// summary's own, at the end).
	end := d.clock.Now()
	for job, spec := range map[string]config.CronSpec{"charges": config.ChargesSchedule, "payments": config.PaymentsSchedule,
		"credits": config.CreditsSchedule, "report": config.ReportSchedule, "reconcile": ""} {
		want := end
		if spec != "" {
			sch, err := spec.Schedule()
			if err != nil {
				t.Fatal(err)
			}
			for next := sch.Next(s.Start); !next.After(end); next = sch.Next(next) {
				want = next
			}
		}
		key := `feebridge_job_last_success_timestamp_seconds{job="` + job + `"}`
		if got, ok := m[key]; !ok || got != float64(want.Unix()) {
			t.Errorf("%s = %v (present %v), want %d (%s)", key, got, ok, want.Unix(), want)
		}
		if n := m[`feebridge_job_runs_total{job="`+job+`",outcome="ok"}`]; n == 0 {
			t.Errorf("job %s: no run ok", job)
		}
		for _, o := range []string{"held", "failed"} {
			key := `feebridge_job_runs_total{job="` + job + `",outcome="` + o + `"}`
			if n, ok := m[key]; !ok || n != 0 {
				t.Errorf("%s = %v (present %v), want 0", key, n, ok)
			}
		}
	}
	if want := summaryInt(t, week, `daily reports \(exceptions listed: \d+\)\s+(\d+)`); m[`feebridge_job_runs_total{job="report",outcome="ok"}`] != want {
		t.Errorf("report runs: %v, the summary lists %v daily reports", m[`feebridge_job_runs_total{job="report",outcome="ok"}`], want)
	}

	// Records and amounts, flow by flow, as the summary's table and its
	// journal line say; the decimals compared as the summary prints them.
	for _, f := range []struct{ job, row, journal string }{
		{"charges", "fees exported at 18:00 and charged in PeopleSoft", `Journal: (\d+) charges`},
		{"payments", "all bursar payments imported into Alma", `Journal: \d+ charges, (\d+) payments forwarded`},
		{"credits", "credits applied in PeopleSoft (every waiver above)", `Journal: \d+ charges, \d+ payments forwarded, (\d+) credits`},
	} {
		n, amount := summaryRow(t, week, f.row)
		records := m[`feebridge_records_total{job="`+f.job+`",outcome="ok"}`]
		if records != n || records != summaryInt(t, week, f.journal) {
			t.Errorf("feebridge_records_total{job=%q,outcome=\"ok\"} = %v; the summary says %v (%s)", f.job, records, n, f.row)
		}
		if got := strconv.FormatFloat(m[`feebridge_amount_total{flow="`+f.job+`"}`], 'f', 2, 64); got != amount {
			t.Errorf("feebridge_amount_total{flow=%q} = %s; the summary says %s (%s)", f.job, got, amount, f.row)
		}
		if held := m[`feebridge_records_total{job="`+f.job+`",outcome="held"}`]; held != 0 {
			t.Errorf("job %s: %v records held", f.job, held)
		}
	}
	held := summaryInt(t, week, `; (\d+) records held`)
	for _, kind := range []string{"charge", "credit", "payment"} {
		key := `feebridge_held_records{kind="` + kind + `"}`
		if n, ok := m[key]; !ok || n != held {
			t.Errorf("%s = %v (present %v); the summary says %v records held", key, n, ok, held)
		}
	}

	// Webhooks: every event Alma delivered was handled.
	events := summaryInt(t, week, `(\d+) webhook events handled`)
	if got := m[`feebridge_webhook_events_total{outcome="done",type="loan_returned"}`]; got != events || got == 0 ||
		sum(m, "feebridge_webhook_events_total{") != summaryInt(t, week, `Webhooks: (\d+) delivered`) {
		t.Errorf("feebridge_webhook_events_total: done %v, all %v; the summary says %v handled", got, sum(m, "feebridge_webhook_events_total{"), events)
	}

	// Alma: each call the fake answered, by operation (a call for an item
	// by barcode follows Alma's redirect to the item: one call, two
	// requests), and the quota its last answer said was left.
	calls := d.sim.Alma().APICalls()
	for op, route := range map[string]string{"list_fees": "GET users/{user_id}/fees", "get_fee": "GET users/{user_id}/fees/{fee_id}",
		"waive_fee": "POST users/{user_id}/fees/{fee_id}", "get_loan": "GET users/{user_id}/loans/{loan_id}", "get_item": "GET items",
		"get_user": "GET users/{user_id}", "update_user": "PUT users/{user_id}", "run_report": "GET analytics/reports"} {
		key := `feebridge_alma_requests_total{op="` + op + `",status="200"}`
		// The daily report finds returned lost items in the open fees
		// report: no item is looked up unless a lost return needs it. A
		// fee is read only to check a waiver after an attempt that may
		// have reached Alma: none in a week without faults.
		if n := m[key]; (n <= 0 && op != "get_item" && op != "get_fee") || n != float64(calls[route]) {
			t.Errorf("%s = %v; the fake Alma received %d calls %s", key, n, calls[route], route)
		}
	}
	if got, want := sum(m, "feebridge_alma_requests_total{"), calls[""]-calls["GET bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}"]; got != float64(want) {
		t.Errorf("feebridge_alma_requests_total adds up to %v; the fake Alma received %v calls, redirects aside: %v", got, want, calls)
	}
	lr.mu.Lock()
	last := lr.last
	lr.mu.Unlock()
	if got := strconv.FormatFloat(m["feebridge_alma_api_remaining"], 'f', -1, 64); last == "" || got != last {
		t.Errorf("feebridge_alma_api_remaining = %s, the fake's last X-Exl-Api-Remaining %q", got, last)
	}
	if m["feebridge_journal_bytes"] <= 0 {
		t.Errorf("feebridge_journal_bytes = %v", m["feebridge_journal_bytes"])
	}
}

// summaryInt is the number that re's group matches in the week's output.
func summaryInt(t *testing.T, week, re string) float64 {
	t.Helper()
	mm := regexp.MustCompile(re).FindStringSubmatch(week)
	if mm == nil {
		t.Fatalf("the summary has no %q", re)
	}
	n, err := strconv.Atoi(mm[1])
	if err != nil {
		t.Fatal(err)
	}
	return float64(n)
}

// summaryRow is the records and amount of a row of the week's table.
func summaryRow(t *testing.T, week, row string) (float64, string) {
	t.Helper()
	mm := regexp.MustCompile(regexp.QuoteMeta(row) + `\s+(\d+)\s+([0-9.]+)\n`).FindStringSubmatch(week)
	if mm == nil {
		t.Fatalf("the summary has no row %q", row)
	}
	n, err := strconv.Atoi(mm[1])
	if err != nil {
		t.Fatal(err)
	}
	return float64(n), mm[2]
}

// TestMetricsCountFailedRuns: under faults, each run that failed and was
// restarted is in the run history: /metrics counts as many failed runs as
// the week's summary.
func TestMetricsCountFailedRuns(t *testing.T) {
	s := small(2, 0.2)
	s.Students = 20
	week := runSandboxOpen(t, s)
	defer s.Close()
	m := scrape(t, s.d)
	failed := summaryInt(t, week, `; (\d+) job runs failed`)
	if failed == 0 {
		t.Fatalf("no run failed under faults:\n%s", week)
	}
	var got float64
	for k, v := range m {
		if strings.HasPrefix(k, "feebridge_job_runs_total{") && strings.HasSuffix(k, `outcome="failed"}`) {
			got += v
		}
	}
	if got != failed {
		t.Errorf("feebridge_job_runs_total{outcome=\"failed\"} adds up to %v; the summary says %v job runs failed", got, failed)
	}
}

// runSandboxOpen runs a sandbox week and returns what it printed, leaving
// the sandbox open for the test to read (the caller closes it).
func runSandboxOpen(t *testing.T, s *Sandbox) string {
	t.Helper()
	var out strings.Builder
	s.Stdout = &out
	if err := s.Run(t.Context()); err != nil {
		s.Close()
		t.Fatalf("sandbox: %v\n%s", err, out.String())
	}
	return out.String()
}
