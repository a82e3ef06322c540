package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
)

// waitFor waits until cond holds, failing if serve ends first (done) or
// the test's guard of 60 s passes: a guard against a hang, not a measure.
func waitFor(t *testing.T, done <-chan error, what string, cond func() bool) {
	t.Helper()
	guard := time.After(60 * time.Second)
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("serve ended before %s: %v", what, err)
		case <-guard:
			t.Fatalf("no %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// lostFeesOpen counts the user's lost-item fees not closed.
func lostFeesOpen(a *almatest.Server, user string) int {
	n := 0
	for _, f := range a.Fees(user) {
		if f.Type.IsLostItem() && f.Status != fees.StatusClosed {
			n++
		}
	}
	return n
}

// serveRun is one run of feesync serve over a site, until stop.
type serveRun struct {
	m      *Main
	base   string
	stderr *syncBuffer
	done   chan error
	cancel context.CancelFunc
}

func startServe(t *testing.T, s *site) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &serveRun{stderr: &syncBuffer{}, done: make(chan error, 1), cancel: cancel}
	addr := make(chan string, 1)
	r.m = &Main{Stdout: &syncBuffer{}, Stderr: r.stderr, Getenv: func(k string) string { return s.env[k] }, Now: s.clock.Now,
		Listening: func(a string) { addr <- a }}
	s.must(r.m.ParseFlags(ctx, []string{"serve", "-config", s.config}))
	go func() { r.done <- r.m.Run(ctx) }()
	select {
	case a := <-addr:
		r.base = "http://" + a
	case err := <-r.done:
		t.Fatalf("serve ended: %v\n%s", err, r.stderr.String())
	}
	return r
}

func (r *serveRun) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := r.m.Close(); err != nil {
		t.Error(err)
	}
}

// TestServeEventSurvivesRestart (issue 15, case 7): a lost item comes back
// while Alma refuses every call (its daily quota spent). serve journals
// the delivery and answers 200, so Alma never delivers it again; its
// events worker fails and keeps the event pending, due at Alma's
// midnight (issue 17: no call before then). serve is stopped and started
// again after that midnight; Alma answers again, and the worker of the
// new process handles the event from the journal: the fees are waived.
func TestServeEventSurvivesRestart(t *testing.T) {
	s := newSite(t)
	a := s.alma
	lostBook(t, s)

	r := startServe(t, s)
	a.SetWebhook(r.base+config.DefaultWebhookPath, []byte(webhookSecret))
	a.SetFaults(almatest.Faults{DailyQuota: 1})
	_, err := a.Return("B1")
	s.must(err)
	a.RunDue(t.Context())
	if h := a.Webhooks(); len(h) != 1 || h[0].State != almatest.DeliveryDelivered || h[0].Attempts[0].Status != 200 {
		t.Fatalf("delivery: %d events, the first %s after %+v", len(h), h[0].State, h[0].Attempts)
	}
	waitFor(t, r.done, "failed attempt", func() bool { return strings.Contains(r.stderr.String(), "will retry") })
	r.stop(t)
	if lostFeesOpen(a, "10012345") == 0 {
		t.Fatal("the fees were waived while Alma refused every call")
	}

	a.SetFaults(almatest.Faults{})
	s.clock.Set(time.Date(2026, 3, 3, 0, 1, 0, 0, time.UTC)) // past Alma's midnight (the config's zone, UTC)
	r = startServe(t, s)
	waitFor(t, r.done, "the lost-item fees waived", func() bool { return lostFeesOpen(a, "10012345") == 0 })
	r.stop(t)
	if n := a.RunDue(t.Context()); n != 0 {
		t.Errorf("Alma delivered %d events again", n)
	}
}

// TestRedriveEventCommand (issue 15, case 11): Alma answers 400 401651
// for the loan of a return (the student is unknown to Alma): serve answers
// the delivery 200 and its worker fails the event for good, once, with no
// retry; the report lists it; redrive event makes it pending again.
func TestRedriveEventCommand(t *testing.T) {
	s := newSite(t)
	r := startServe(t, s)
	body := []byte(`{"id":"9900001","action":"LOAN","institution":{"value":"X"},"time":"2026-03-02T08:00:00.000Z",` +
		`"event":{"value":"LOAN_RETURNED"},"item_loan":{"loan_id":"2300001","user_id":"NOBODY","item_barcode":"B77",` +
		`"loan_status":"ACTIVE","loan_date":"2026-02-02T08:00:00.000Z","due_date":"2026-02-16T08:00:00Z"}}`)
	req, err := http.NewRequest(http.MethodPost, r.base+config.DefaultWebhookPath, bytes.NewReader(body))
	s.must(err)
	req.Header.Set(alma.SignatureHeader, alma.Sign([]byte(webhookSecret), body))
	resp, err := http.DefaultClient.Do(req)
	s.must(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery answered %d, want 200", resp.StatusCode)
	}
	waitFor(t, r.done, "the event failed for good", func() bool { return strings.Contains(r.stderr.String(), "failed for good") })
	r.stop(t)
	if n := strings.Count(r.stderr.String(), "lost return failed"); n != 1 {
		t.Errorf("%d attempts logged, want 1:\n%s", n, r.stderr.String())
	}

	rep := s.run("run", "report")
	wantRun(t, rep, ExitOK, "job=report")
	data, err := os.ReadFile(filepath.Join(s.libDir, "reports", "feebridge-report-"+s.clock.Now().Format("2006-01-02")+".csv"))
	s.must(err)
	if !strings.Contains(string(data), "401651") || !strings.Contains(string(data), "feesync redrive event 9900001") {
		t.Errorf("report:\n%s", data)
	}

	res := s.run("redrive", "event", "9900001")
	wantRun(t, res, ExitOK, `msg="redrive events" events=1`)
	if !strings.Contains(res.stdout, "1 failed webhook events made pending again") {
		t.Errorf("stdout: %q", res.stdout)
	}
	res = s.run("redrive", "event", "9900001")
	wantRun(t, res, ExitFailure, `no failed event "9900001"`)
	res = s.run("redrive", "event", "a", "b")
	wantRun(t, res, ExitUsage, "one event id at most")
}
