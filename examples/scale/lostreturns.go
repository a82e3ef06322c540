package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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
	if err := workDirs(ctx, cfg.dir); err != nil {
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
	jobs, closeJobs, err := openJobs(ctx, cfg.dir, clock.Now, client)
	if err != nil {
		return res, err
	}
	defer closeJobs()

	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	// Events are handed in by cfg.workers at once, as webhook deliveries
	// arrive; an event whose handling failed (ErrRedeliver) is handed in
	// again at the end, as Alma delivers it again.
	var (
		mu    sync.Mutex
		again []reconcile.LoanEvent
	)
	handle := func(evs []reconcile.LoanEvent) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.workers)
		for _, ev := range evs {
			g.Go(func() error {
				err := jobs.LoanReturned(gctx, ev)
				if errors.Is(err, reconcile.ErrRedeliver) {
					mu.Lock()
					again = append(again, ev)
					mu.Unlock()
					return nil
				}
				return err
			})
		}
		return g.Wait()
	}
	err = handle(events)
	for round := 0; err == nil && len(again) > 0 && round < 3; round++ {
		evs := again
		again = nil
		res.Retried += len(evs)
		err = handle(evs)
	}
	if merr := m.done(&res, cfg.memProfile); err == nil {
		err = merr
	}
	if err != nil {
		return res, err
	}
	res.Calls, res.Calls429 = int(counter.calls.Load()), int(counter.tooMany.Load())
	if len(again) > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d events still failing after 3 redeliveries", len(again)))
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
