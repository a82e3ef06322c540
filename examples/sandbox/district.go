package main

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/localdrop"
	"github.com/feebridge/feebridge/wire"
)

// The names the sandbox gives to Alma's side and PeopleSoft's side.
const (
	profile      = "BURSAR"          // Alma's bursar integration profile
	waiveReason  = "LOST_ITEM_FOUND" // the waive reason of returned lost items
	waiveComment = "Lost item was found"
	webhookPath  = "/webhooks/alma"
)

// district is everything the sandbox runs in one process: the fake Alma
// on 127.0.0.1, the library's FTP server, PeopleSoft's folders and ledger,
// the journal, feesync's jobs and the webhook listener.
type district struct {
	s      *Sandbox
	log    *slog.Logger
	clock  *almatest.ManualClock
	cur    fees.Currency
	rng    *rand.Rand // the students' and staff's choices
	faults *faults    // nil without -faults

	alma     *almatest.Server
	client   *alma.Client
	ftp      *ftptest.Server
	almaSide *transport.Drop // Alma's own access to the library's folder
	library  *transport.Drop // feesync's access, over FTP
	bursar   *transport.Drop // PeopleSoft's inbound and outbound folders
	ledger   *bursar
	hook     *http.Server

	secrets    secrets
	webhookURL string

	mu      sync.Mutex // guards journal and jobs, which a restart replaces
	journal *reconcile.Journal
	jobs    *reconcile.Jobs

	closers []func() error

	// The simulation's state and record.
	students []student
	loans    []*loan
	byCode   map[string]*loan // by item barcode
	reserved map[string]string
	plans    []*plan
	actions  []action             // today's payments and waivers
	credits  map[string]time.Time // waivers whose credit has not reached PeopleSoft yet
	stats    stats
	today    *day
	days     []*day
}

// secrets are the three secrets a real deployment keeps out of argv and
// logs: they are real, random and non-empty here too, so that a test can
// check that none of them reaches a log line.
type secrets struct {
	apiKey, ftpPassword, webhook string
}

// newSecrets draws the three secrets from the system's random source, as
// a district's administrator would: nothing in the output depends on them.
func newSecrets() secrets {
	return secrets{apiKey: "l7xx" + crand.Text(), ftpPassword: crand.Text(), webhook: crand.Text()}
}

func newDistrict(ctx context.Context, s *Sandbox, logger *slog.Logger) (*district, error) {
	d := &district{
		s: s, log: logger, cur: fees.USD,
		clock:    almatest.NewManualClock(s.Start.AddDate(0, 0, -40)),
		rng:      rand.New(rand.NewPCG(uint64(s.Seed), 0x5a4d)),
		byCode:   map[string]*loan{},
		reserved: map[string]string{},
	}
	d.secrets = newSecrets()
	if s.Faults > 0 {
		d.faults = newFaults(s.Faults, s.Seed)
	}
	if err := d.open(ctx); err != nil {
		return d, err
	}
	return d, nil
}

func (d *district) onClose(fn func() error) { d.closers = append(d.closers, fn) }

func (d *district) close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	d.closers = nil
	return errors.Join(errs...)
}

func (d *district) open(ctx context.Context) error {
	dir := d.s.dir
	for _, sub := range []string{"library", "peoplesoft/inbound/loaded", "peoplesoft/outbound", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}

	// The webhook listener, so that Alma can be told where to deliver.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	webhookURL := "http://" + ln.Addr().String() + webhookPath
	d.webhookURL = webhookURL

	// Alma, with its API key and webhook secret.
	almaFaults := almatest.Faults{PerSecond: -1} // a week of calls in seconds would break any per-second limit
	if d.faults != nil {
		almaFaults = d.faults.alma()
	}
	d.alma = almatest.NewServer(&almatest.Options{
		Clock: d.clock, Seed: d.s.Seed, APIKey: d.secrets.apiKey, Currency: d.cur,
		WebhookURL: webhookURL, WebhookSecret: []byte(d.secrets.webhook),
		Profiles: []almatest.ExportProfile{{Name: profile}},
		Faults:   almaFaults,
	})
	d.onClose(func() error { d.alma.Close(); return nil })
	timeout := 10 * time.Second
	if d.faults != nil {
		timeout = d.faults.almaTimeout
	}
	d.client, err = alma.NewClient(d.alma.URL(), d.secrets.apiKey, &alma.ClientOptions{
		Timeout:       timeout,
		RatePerSecond: math.Inf(1),
		MaxRetries:    6,
		Currency:      d.cur,
		Logger:        d.log.With("system", "alma"),
		Now:           d.clock.Now,
		// The clock is simulated: waiting between retries would only
		// slow the run down.
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		return err
	}

	// The library's FTP server, and Alma's own access to its folder.
	d.ftp, err = ftptest.Start(filepath.Join(dir, "library"), &ftptest.Options{User: "alma-bursar", Password: d.secrets.ftpPassword})
	if err != nil {
		return err
	}
	d.onClose(d.ftp.Close)
	fast := &localdrop.Options{NoSync: true}
	if d.almaSide, err = localdrop.Open(filepath.Join(dir, "library"), fast); err != nil {
		return err
	}
	d.onClose(d.almaSide.Close)
	for _, f := range []string{"exports", "credits", "imports", "reports"} {
		if err := d.almaSide.MkdirAll(ctx, f); err != nil {
			return err
		}
	}
	cfg := d.ftp.Config()
	cfg.Logger = d.log.With("drop", "library")
	cfg.Drop = &transport.DropOptions{Logger: d.log.With("drop", "library"),
		Retry: &transport.Retry{Attempts: 8, Backoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Jitter: 0.5}}
	if d.faults != nil {
		d.library, err = d.faults.library(ctx, d.ftp, cfg)
		d.onClose(d.faults.close)
	} else {
		d.library, err = ftpdrop.Open(ctx, cfg)
	}
	if err != nil {
		return err
	}
	d.onClose(d.library.Close)

	// PeopleSoft's folders and ledger.
	if d.bursar, err = localdrop.Open(filepath.Join(dir, "peoplesoft"), &localdrop.Options{NoSync: true,
		Drop: &transport.DropOptions{Logger: d.log.With("drop", "peoplesoft")}}); err != nil {
		return err
	}
	d.onClose(d.bursar.Close)
	d.ledger = newBursar(d.bursar, d.clock.Now, d.cur, d.s.Seed)

	// The journal and the jobs.
	if err := d.start(ctx); err != nil {
		return err
	}
	d.onClose(func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.journal.Close()
	})

	// The webhook listener, as feesync serve mounts it.
	mux := http.NewServeMux()
	mux.Handle(webhookPath, alma.NewWebhookHandler([]byte(d.secrets.webhook), d.webhook,
		&alma.WebhookOptions{Logger: d.log.With("system", "webhook")}))
	d.hook = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go d.hook.Serve(ln)
	d.onClose(func() error { return d.hook.Close() })
	return nil
}

// start opens the journal and builds the jobs, as a feesync process does
// when it starts: through reconcile/config, from a config built here, with
// the sandbox's clock, drops and Alma client.
func (d *district) start(ctx context.Context) error {
	cfg := config.Default()
	cfg.Journal = filepath.Join(d.s.dir, "journal.db")
	cfg.Waive.Reason, cfg.Waive.Comment = waiveReason, waiveComment
	opts := &config.Options{
		Now:     d.clock.Now,
		Logger:  d.log.With("system", "feesync"),
		TempDir: filepath.Join(d.s.dir, "tmp"),
		// The sandbox's reconciliation is its proof: it compares every
		// student, also those settled and quiet for 30 days (-days 40).
		QuietAfter: -1,
		Library:    d.library,
		Bursar:     d.bursar,
		AlmaClient: d.client,
	}
	if d.faults != nil {
		opts.FaultHook = d.faults.kill
	}
	setup, err := config.Open(ctx, cfg, opts)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.journal, d.jobs = setup.Journal, setup.Jobs
	d.mu.Unlock()
	return nil
}

// restart closes the journal and starts again, as after a killed process.
func (d *district) restart(ctx context.Context) error {
	d.mu.Lock()
	err := d.journal.Close()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	return d.start(ctx)
}

func (d *district) currentJobs() *reconcile.Jobs {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.jobs
}

func (d *district) currentJournal() *reconcile.Journal {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.journal
}

// webhook is the callback of the webhook listener: loan returns go to the
// lost-returns handler of the jobs running now.
func (d *district) webhook(ctx context.Context, ev alma.Event) error {
	return wire.WebhookCallback(d.currentJobs())(ctx, ev)
}

// run runs one of feesync's jobs. Under -faults a run that fails (a job
// killed at a step, an FTP or Alma failure beyond the retries) is treated
// as a crashed process: the journal is closed and opened again and the job
// runs again, until it succeeds.
func (d *district) run(ctx context.Context, name string, fn func(ctx context.Context, jobs *reconcile.Jobs) error) error {
	for attempt := 1; ; attempt++ {
		if d.faults != nil {
			d.faults.beforeJob()
		}
		err := fn(ctx, d.currentJobs())
		if err == nil || d.faults == nil || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("%s job: %w", name, err)
			}
			return nil
		}
		if attempt >= 200 {
			return fmt.Errorf("%s job: still failing after %d restarts: %w", name, attempt, err)
		}
		d.stats.restarts++
		d.today.restarts++
		d.log.Warn("sandbox: job failed; restarting feesync", "job", name, "attempt", attempt, "err", err)
		if errors.Is(err, errKilled) {
			d.stats.kills++
		}
		if err := d.restart(ctx); err != nil {
			return err
		}
	}
}

// intro prints what runs where.
func (d *district) intro() {
	w := d.s.Stdout
	dir := d.s.dir
	if d.s.tempDir {
		dir = "a temporary folder"
	}
	fmt.Fprintf(w, "A simulated week at a district: %d students, %d days from %s, seed %d",
		d.s.Students, d.s.Days, d.s.Start.Format("Monday 2 January 2006"), d.s.Seed)
	if d.faults != nil {
		fmt.Fprintf(w, ", faults at rate %g", d.s.Faults)
	}
	fmt.Fprintf(w, ".\n")
	fmt.Fprintf(w, "  Alma (fake)      %s  REST API, daily and hourly jobs, webhooks\n", d.alma.URL())
	fmt.Fprintf(w, "  library FTP      ftp://%s/  where Alma exports and imports; feesync uses the FTP client\n", d.ftp.Addr)
	fmt.Fprintf(w, "  PeopleSoft       inbound/ and outbound/ folders and a simulated student ledger\n")
	fmt.Fprintf(w, "  feesync          its jobs on their default schedules, journal.db, webhooks on %s\n", d.webhookURL)
	fmt.Fprintf(w, "  files            in %s\n", dir)
	fmt.Fprintf(w, "Times are those of the simulated clock; amounts are in %s.\n", d.cur)
}
