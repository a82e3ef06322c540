package almaport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
)

// gate holds every call to Alma until it is opened, and tells when the
// first call is held.
type gate struct {
	next      http.RoundTripper
	open      chan struct{}
	held      chan struct{} // closed when the first call is held
	once      sync.Once
	completed atomic.Int64 // calls that went through
}

func newGate(next http.RoundTripper) *gate {
	if next == nil {
		next = http.DefaultTransport
	}
	return &gate{next: next, open: make(chan struct{}), held: make(chan struct{})}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.once.Do(func() { close(g.held) })
	select {
	case <-g.open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	g.completed.Add(1)
	return g.next.RoundTrip(r)
}

// burstDistrict is a district whose n students each returned a lost item,
// with feesync's jobs over the journal and an Alma client whose calls the
// gate holds (its rate limit high, so that the handling after the release
// is quick). The returns' webhook
// deliveries are queued in the fake Alma, not sent.
type burstDistrict struct {
	*sim.District
	jobs    *reconcile.Jobs
	journal *reconcile.Journal
	gate    *gate
	lost    []fees.Fee
}

func newBurstDistrict(t testing.TB, n int) *burstDistrict {
	t.Helper()
	ctx := context.Background()
	b := &burstDistrict{}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w, err := sim.Open(ctx, &sim.Options{Dir: t.TempDir(), Seed: 3, Start: start,
		Webhook: func(ctx context.Context, ev alma.Event) error { return almaport.WebhookCallback(b.jobs)(ctx, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	b.District = w
	if b.lost, _, err = w.LostAndFound(ctx, n, time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	b.gate = newGate(w.Alma().Client().Transport)
	client, err := alma.NewClient(w.Alma().URL(), w.Secrets().APIKey, &alma.ClientOptions{
		HTTPClient: &http.Client{Transport: b.gate}, RatePerSecond: 500, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b.journal, err = reconcile.OpenJournal(ctx, filepath.Join(t.TempDir(), "journal.db"), &reconcile.JournalOptions{Now: w.Clock().Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.journal.Close() })
	b.jobs, err = reconcile.New(reconcile.Deps{Journal: b.journal, Alma: almaport.AlmaAPI{Client: client}},
		&reconcile.Options{Now: w.Clock().Now, WaiveReason: sim.WaiveReason})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver posts the signed deliveries all at once to the district's
// listener and returns the status and the time to the answer of each.
func (b *burstDistrict) deliver(t testing.TB, hooks []almatest.WebhookDelivery) ([]int, []time.Duration) {
	t.Helper()
	status := make([]int, len(hooks))
	took := make([]time.Duration, len(hooks))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, h := range hooks {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, b.WebhookURL(), bytes.NewReader(h.Body))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set(alma.SignatureHeader, h.Signature)
			<-start
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			took[i] = time.Since(t0)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	return status, took
}

// TestBurstIsAnsweredWhileAlmaHolds (issue 15, case 9): 50 lost items
// come back at once. Every call to Alma is held until the test releases
// it, and the events worker is inside one of them; still, all 50 signed
// deliveries are answered 200, since the listener only journals. Once
// Alma is released, the worker waives every lost-item fee exactly once.
// No time is asserted: were an answer to wait for Alma, the test would
// hang instead.
func TestBurstIsAnsweredWhileAlmaHolds(t *testing.T) {
	const n = 50
	b := newBurstDistrict(t, n)
	hooks := b.Alma().Webhooks()
	if len(hooks) != n {
		t.Fatalf("%d deliveries queued, want %d", len(hooks), n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	worker := make(chan error, 1)
	go func() { worker <- b.jobs.RunEvents(ctx) }()

	// The first delivery, so that the worker calls Alma and is held.
	if st, _ := b.deliver(t, hooks[:1]); st[0] != http.StatusOK {
		t.Fatalf("first delivery: %d", st[0])
	}
	<-b.gate.held
	status, _ := b.deliver(t, hooks)
	for i, s := range status {
		if s != http.StatusOK {
			t.Errorf("delivery %d answered %d", i, s)
		}
	}
	if c := b.gate.completed.Load(); c != 0 {
		t.Fatalf("%d calls to Alma went through before the release", c)
	}
	close(b.gate.open)
	cancel()
	if err := <-worker; err != nil {
		t.Fatal(err)
	}
	// What the worker left when it was stopped.
	if _, err := b.jobs.HandleEvents(t.Context()); err != nil {
		t.Fatal(err)
	}
	done, err := b.journal.Records(t.Context(), reconcile.KindEvent, reconcile.OutcomeDone)
	if err != nil || len(done) != n {
		t.Fatalf("%d events done, want %d (%v)", len(done), n, err)
	}
	for _, f := range b.lost {
		got, _ := b.Alma().Fee(f.ID)
		waivers := 0
		for _, tr := range b.Alma().Transactions(f.ID) {
			if tr.Type == "WAIVE" {
				waivers++
			}
		}
		if got.Status != fees.StatusClosed || waivers != 1 {
			t.Errorf("fee %s: %s, %d waivers", f.ID, got.Status, waivers)
		}
	}
}

// BenchmarkWebhookBurst measures the answers to a burst of 50 signed
// deliveries of new events, with every call to Alma held and the events
// worker inside one: it reports the median and the slowest answer.
//
//	go test ./reconcile/almaport -run '^$' -bench WebhookBurst -benchtime 20x
func BenchmarkWebhookBurst(b *testing.B) {
	const n = 50
	d := newBurstDistrict(b, n)
	hooks := d.Alma().Webhooks()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	go d.jobs.RunEvents(ctx)
	secret := []byte(d.Secrets().Webhook)
	var all []time.Duration
	round := 0
	for b.Loop() {
		round++
		// New event ids each round, so that every delivery is journaled.
		burst := make([]almatest.WebhookDelivery, n)
		for i, h := range hooks {
			var body map[string]any
			if err := json.Unmarshal(h.Body, &body); err != nil {
				b.Fatal(err)
			}
			body["id"] = fmt.Sprintf("%s-%d", h.ID, round)
			raw, err := json.Marshal(body)
			if err != nil {
				b.Fatal(err)
			}
			burst[i] = almatest.WebhookDelivery{Body: raw, Signature: alma.Sign(secret, raw)}
		}
		status, took := d.deliver(b, burst)
		for i, s := range status {
			if s != http.StatusOK {
				b.Fatalf("delivery %d answered %d", i, s)
			}
		}
		all = append(all, took...)
	}
	close(d.gate.open)
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
}

// TestLoanNotFoundFailsForGood (issue 15, case 11): Alma answers 400
// 401651 for the loan of a return (its student is unknown to Alma): the
// delivery is answered 200, so Alma does not deliver it again; the one
// attempt fails for good, no retry follows, and the daily report lists it
// with what staff should do.
func TestLoanNotFoundFailsForGood(t *testing.T) {
	ctx := t.Context()
	d := newDistrict(t)
	body := []byte(`{"id":"9900001","action":"LOAN","institution":{"value":"01FEEBRIDGE_INST"},"time":"2026-03-02T08:00:00.000Z",` +
		`"event":{"value":"LOAN_RETURNED"},"item_loan":{"loan_id":"2300001","user_id":"NOBODY","item_barcode":"B77",` +
		`"loan_status":"ACTIVE","loan_date":"2026-02-02T08:00:00.000Z","due_date":"2026-02-16T08:00:00Z"}}`)
	req, err := http.NewRequest(http.MethodPost, d.WebhookURL(), bytes.NewReader(body))
	d.must(err)
	req.Header.Set(alma.SignatureHeader, alma.Sign([]byte(d.Secrets().Webhook), body))
	resp, err := http.DefaultClient.Do(req)
	d.must(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery answered %d, want 200", resp.StatusCode)
	}
	res, err := d.jobs.HandleEvents(ctx)
	if err != nil || res.Failed != 1 {
		t.Fatalf("attempt: %+v, %v", res, err)
	}
	ev, _, err := d.journal.GetEvent(ctx, "9900001")
	d.must(err)
	if ev.Outcome != reconcile.OutcomeFailed || ev.Code != reconcile.EventPermanent || !strings.Contains(ev.Reason, "401651") {
		t.Errorf("event: %+v", ev)
	}
	d.Clock().Advance(6 * time.Hour)
	if res, err := d.jobs.HandleEvents(ctx); err != nil || res.Attempts != 0 {
		t.Errorf("retried: %+v, %v", res, err)
	}
	rep, err := d.jobs.BuildReport(ctx, d.Clock().Now())
	d.must(err)
	var csv bytes.Buffer
	d.must(rep.WriteCSV(&csv))
	if len(rep.FailedEvents) != 1 || !strings.Contains(csv.String(), "feesync redrive event 9900001") {
		t.Errorf("report: %d failed events\n%s", len(rep.FailedEvents), csv.String())
	}
}
