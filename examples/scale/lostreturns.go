package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// countingTransport counts the HTTP calls the Alma client makes, and how
// many of them were answered 429.
type countingTransport struct {
	next           http.RoundTripper
	calls, tooMany atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.calls.Add(1)
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.tooMany.Add(1)
	}
	return resp, err
}

// runLostReturns plays n returned lost items at a fake Alma that answers
// cfg.rate429 of the calls with 429 and enforces its per-second threshold,
// hands every return event to the lost-returns handler through a client
// limited to cfg.rate calls per second, and checks that every lost-item
// fee was waived exactly once.
func runLostReturns(ctx context.Context, cfg config, n int) (result, error) {
	res := result{Rate: cfg.rate, Events: n}
	if err := workDirs(ctx, cfg.dir, ""); err != nil {
		return res, err
	}
	// The district's world (package examples/district): n students each
	// lose a book; the lost-item fees go to the bursar in the evening
	// export; the next morning every book comes back.
	world, err := district.Open(ctx, &district.Options{Seed: 11, Start: exportAt, SeededAPIKey: true})
	if err != nil {
		return res, err
	}
	defer world.Close()
	clock, srv := world.Clock(), world.Alma()
	clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	lost, returns, err := world.LostAndFound(ctx, n, exportAt)
	if err != nil {
		return res, err
	}
	events := make([]reconcile.LoanEvent, n)
	for i, r := range returns {
		events[i] = reconcile.LoanEvent{ID: "return-" + r.Loan, Type: reconcile.EventLoanReturned, LoanID: r.Loan,
			UserID: r.User, ItemBarcode: r.Barcode}
	}
	res.LostFees = len(lost)

	srv.SetFaults(almatest.Faults{RateLimit429: cfg.rate429, PerSecond: cfg.perSecond})
	httpClient := srv.Client()
	counter := &countingTransport{next: httpClient.Transport}
	if counter.next == nil {
		counter.next = http.DefaultTransport
	}
	client, err := alma.NewClient(srv.URL(), srv.APIKey(), &alma.ClientOptions{
		HTTPClient:    &http.Client{Transport: counter, Timeout: 30 * time.Second},
		RatePerSecond: cfg.rate,
		Burst:         1,
	})
	if err != nil {
		return res, err
	}
	// The jobs come from a config built in code, as the file jobs' do;
	// the client that counts the calls is the one the jobs use.
	jobs, closeJobs, err := openJobs(ctx, cfg.dir, "", clock.Now, client, cfg.workers)
	if err != nil {
		return res, err
	}
	defer closeJobs()
	if err := journalExports(ctx, jobs, world, srv, cfg.dir, len(lost)); err != nil {
		return res, err
	}

	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	before := srv.CallStats()
	// The events take the durable path of feesync serve: each is
	// journaled as the webhook listener does when its delivery arrives,
	// then the jobs handle them from the journal, cfg.workers students at
	// once. An event that failed is due again after its backoff: the
	// clock moves on an hour and the due ones are handled again, up to
	// 3 rounds.
	for _, ev := range events {
		if _, err = jobs.ReceiveEvent(ctx, ev); err != nil {
			break
		}
	}
	var run reconcile.EventsResult
	if err == nil {
		run, err = jobs.HandleEvents(ctx)
	}
	for round := 0; err == nil && run.Retrying > 0 && round < 3; round++ {
		res.Retried += run.Retrying
		clock.Advance(time.Hour)
		run, err = jobs.HandleEvents(ctx)
	}
	if merr := m.done(&res, cfg.memProfile); err == nil {
		err = merr
	}
	if err != nil {
		return res, err
	}
	res.Calls, res.Calls429 = int(counter.calls.Load()), int(counter.tooMany.Load())
	res.callsPerReturn(srv.CallStats().Sub(before), srv, returns)
	if run.Retrying+run.Failed > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d events still failing after 3 rounds of retries, %d failed for good",
			run.Retrying, run.Failed))
	}

	// Every lost-item fee: closed, nothing left, and exactly one waiver.
	for _, f := range lost {
		got, ok := srv.Fee(f.ID)
		if !ok {
			res.Problems = append(res.Problems, fmt.Sprintf("fee %s is gone", f.ID))
			continue
		}
		waivers := 0
		for _, t := range srv.Transactions(f.ID) {
			if t.Type == "WAIVE" {
				waivers++
			}
		}
		switch {
		case waivers == 1 && got.Status == fees.StatusClosed && got.Balance.IsZero():
			res.WaivedOnce++
		case waivers == 0:
			res.Problems = append(res.Problems, fmt.Sprintf("fee %s (%s of %s) was not waived: %s, balance %s",
				f.ID, f.Type, f.UserID, got.Status, got.Balance))
		default:
			res.Problems = append(res.Problems, fmt.Sprintf("fee %s (%s of %s) has %d waivers, status %s, balance %s",
				f.ID, f.Type, f.UserID, waivers, got.Status, got.Balance))
		}
	}
	if len(res.Problems) > 10 {
		k := len(res.Problems)
		res.Problems = append(res.Problems[:10], fmt.Sprintf("and %d more", k-10))
	}
	return res, nil
}
