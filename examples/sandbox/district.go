package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
	"github.com/feebridge/feebridge/transport"
)

// The waive reason and comment feesync's lost-returns handler is
// configured with.
const (
	waiveReason  = sim.WaiveReason
	waiveComment = sim.WaiveComment
)

// feesReport is the path of the open fees Analytics report the fake Alma
// serves and feesync's config names (alma.fees_report).
const feesReport = "/shared/Feebridge District/Reports/feebridge open fees"

// district is feesync's side of the simulated district: the journal, the
// jobs and the Alma client, built as a feesync process builds them, over
// the world of package examples/district (the fake Alma, the library's
// FTP server, PeopleSoft's folders and ledger, the people).
type district struct {
	s      *Sandbox
	log    *slog.Logger
	sim    *sim.District
	clock  *almatest.ManualClock
	faults *faults // nil without -faults

	client    *alma.Client
	almaCalls *metrics.Alma   // the client's calls, as serve's /metrics counts them
	flowCalls flowCalls       // the client's calls per flow (calls.go)
	library   *transport.Drop // feesync's access to the library's folder, over FTP
	bursar    *transport.Drop // PeopleSoft's inbound and outbound folders

	mu      sync.Mutex // guards journal and jobs, which a restart replaces
	journal *reconcile.Journal
	jobs    *reconcile.Jobs
	// ha, with -instances, is the feesync instances: journal and jobs
	// are then the active one's.
	ha *instances

	closers []func() error
}

// faults is the district's fault injection, as feesync's side uses it: the
// fault hook of the jobs, and the failures before a job runs.
type faults struct{ *sim.Faults }

func (f *faults) kill(step string) error { return f.Kill(step) }

func newDistrict(ctx context.Context, s *Sandbox, logger *slog.Logger) (*district, error) {
	d := &district{s: s, log: logger}
	var tamper func(ctx context.Context, task string) error
	if s.tamper != nil {
		tamper = func(ctx context.Context, task string) error { return s.tamper(ctx, d, task) }
	}
	hook := d.webhook
	if s.noWebhookListener {
		hook = nil
	}
	w, err := sim.Open(ctx, &sim.Options{
		Dir: s.dir, Students: s.Students, Days: s.Days, Seed: s.Seed, Start: s.Start, Faults: s.Faults,
		Logger: logger, Out: s.Stdout, Webhook: hook, BeforeTask: tamper, JobEnd: s.JobEnd,
		Transport: s.Transport, Bursar: s.Bursar, JobFailed: s.jobFailed,
		Analytics: &almatest.AnalyticsOptions{FeesReportPath: feesReport},
	})
	if err != nil {
		return nil, err
	}
	d.sim = w
	d.onClose(w.Close)
	d.clock, d.library, d.bursar = w.Clock(), w.Library(), w.Bursar()
	if w.Faults() != nil {
		d.faults = &faults{w.Faults()}
	}
	if s.Instances > 1 {
		d.ha = newInstances(d)
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

// open builds feesync's Alma client and starts its jobs.
func (d *district) open(ctx context.Context) error {
	timeout := 10 * time.Second
	if d.faults != nil {
		timeout = d.faults.AlmaTimeout()
	}
	// Each call counts for the run that makes it (its run history) and
	// for the metrics, as in feesync.
	d.almaCalls = metrics.NewAlma(d.clock.Now)
	hc := &http.Client{Timeout: timeout, Transport: d.s.almaTransport}
	var err error
	d.client, err = alma.NewClient(d.sim.Alma().URL(), d.sim.Secrets().APIKey, &alma.ClientOptions{
		HTTPClient: hc,
		Observe: config.ObserveAlma(func(ctx context.Context, c alma.Call) {
			d.flowCalls.observe(ctx, c)
			d.almaCalls.Observe(ctx, c)
		}),
		Timeout:       timeout,
		RatePerSecond: math.Inf(1),
		MaxRetries:    6,
		Currency:      d.sim.Currency(),
		Logger:        d.log.With("system", "alma"),
		Now:           d.clock.Now,
		// The clock is simulated: waiting between retries would only
		// slow the run down.
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		return err
	}

	// The journal, created once as `feesync init` does for a new site
	// (the jobs refuse to start without one), and the jobs.
	j, err := reconcile.CreateJournal(ctx, d.journalPath(), &reconcile.JournalOptions{Now: d.clock.Now})
	if err != nil {
		return err
	}
	if err := j.Close(); err != nil {
		return err
	}
	if err := d.start(ctx); err != nil {
		return err
	}
	d.onClose(func() error {
		if d.ha != nil {
			return d.ha.close()
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.journal.Close()
	})
	return nil
}

// start opens the journal and builds the jobs, as a feesync process does
// when it starts: through reconcile/config, from a config built here, with
// the sandbox's clock, drops and Alma client. With -instances, each
// instance is such a process, started by the instances (instances.go).
func (d *district) start(ctx context.Context) error {
	if d.ha != nil {
		return d.ha.start(ctx)
	}
	hook := func(string) error { return nil }
	if d.faults != nil {
		hook = d.faults.kill
	}
	setup, err := d.openSetup(ctx, "", hook)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.journal, d.jobs = setup.Journal, setup.Jobs
	d.mu.Unlock()
	return nil
}

// openSetup opens the journal and builds the jobs of one feesync process,
// named instance ("" for the process's own name), with the fault hook.
func (d *district) openSetup(ctx context.Context, instance string, hook func(step string) error) (*config.Setup, error) {
	cfg := d.s.baseConfig()
	cfg.Serve.Instance = instance
	cfg.Journal = d.journalPath()
	cfg.Waive.Reason, cfg.Waive.Comment = waiveReason, waiveComment
	cfg.Refunds = refundConfig()
	// The district's four colleges, each library's fees routed to its
	// college's business unit (README, "Several colleges in one district").
	// Banner's and Colleague's layouts name no business unit: there the
	// district runs as one college.
	if (sim.Options{Bursar: d.s.Bursar}).Routes() {
		cfg.Colleges = sim.Colleges()
		cfg.PeopleSoft.SeparateFiles = d.s.CollegeFiles
	}
	if d.s.Bursar != "" {
		cfg.Bursar = d.s.Bursar
	}
	// One student at a time: Alma's fake draws its faults in the order
	// the calls arrive, and the same seed must give the same week.
	cfg.Alma.Workers = 1
	// The nightly reconciliation reads Alma Analytics' open fees report
	// and asks Alma about the students it disagrees with (README, "The
	// Analytics report for the nightly reconciliation").
	cfg.Alma.FeesReport = feesReport
	// The simulated Alma and PeopleSoft write each file whole (an atomic
	// put) before a job lists it: nothing to wait for, and the week's
	// timing and output stay as they were.
	cfg.Library.Settle, cfg.PeopleSoft.Settle = 0, 0
	cfg.PeopleSoft.ResultsFolder = resultsFolder
	if d.s.JobEnd {
		cfg.Alma.ExportJob, cfg.Alma.CreditExportJob = jobEndNames()
	}
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
		// One student's events at a time: the order of Alma's calls,
		// and so of the faults it draws, is that of the events.
		EventWorkers: 1,
	}
	if d.faults != nil || d.ha != nil {
		opts.FaultHook = hook
	}
	return config.Open(ctx, cfg, opts)
}

// restart closes the journal and starts again, as after a killed process.
func (d *district) restart(ctx context.Context) error {
	if d.ha != nil {
		return d.ha.restart(ctx, d.ha.active)
	}
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

// webhook is the callback of the webhook listener, as feesync serve's:
// a loan return is journaled, as a pending event of the jobs running now,
// and answered at once.
func (d *district) webhook(ctx context.Context, ev alma.Event) error {
	if d.ha != nil {
		return d.ha.webhook(ctx, ev)
	}
	return almaport.WebhookCallback(d.currentJobs())(ctx, ev)
}

// HandleEvents handles the journaled webhook events that are due, when
// the district says (after Alma's deliveries): what feesync serve's
// events worker does as they arrive. A failed attempt leaves its event
// pending, for a later call; only a failure of the journal is an error.
func (r jobRuns) HandleEvents(ctx context.Context) (res reconcile.EventsResult, err error) {
	ctx = withFlow(ctx, flowLostReturns)
	if r.d.ha == nil {
		return r.d.currentJobs().HandleEvents(ctx)
	}
	var herr error
	if herr = r.d.ha.do(ctx, "events", func(ctx context.Context) {
		res, err = r.d.currentJobs().HandleEvents(ctx)
	}); herr != nil {
		return res, herr
	}
	return res, err
}

// run runs one of feesync's jobs. Under -faults a run that fails (a job
// killed at a step, an FTP or Alma failure beyond the retries) is treated
// as a crashed process: the journal is closed and opened again and the job
// runs again, until it succeeds. Each run, failed or not, is recorded in
// the journal's run history, as feesync records its own.
func (d *district) run(ctx context.Context, name string, fn func(ctx context.Context, jobs *reconcile.Jobs) (reconcile.RunResult, error)) error {
	for attempt := 1; ; attempt++ {
		if d.faults != nil {
			d.faults.BeforeJob()
		}
		runCtx, _ := reconcile.WithAlmaTally(withFlow(ctx, name))
		started := d.clock.Now()
		var res reconcile.RunResult
		var err error
		if d.ha == nil {
			res, err = fn(runCtx, d.currentJobs())
		} else if herr := d.ha.do(runCtx, name, func(ctx context.Context) {
			res, err = fn(ctx, d.currentJobs())
		}); herr != nil {
			return fmt.Errorf("%s job: %w", name, herr)
		}
		rec := reconcile.RunRecord{Job: name, Who: "sandbox", Started: started, Ended: d.clock.Now(), Result: res, Err: err}
		if _, rerr := reconcile.RecordRun(runCtx, d.currentJournal(), rec); rerr != nil {
			return fmt.Errorf("%s job: run history: %w", name, rerr)
		}
		if err == nil || d.faults == nil || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("%s job: %w", name, err)
			}
			return nil
		}
		if attempt >= 200 {
			return fmt.Errorf("%s job: still failing after %d restarts: %w", name, attempt, err)
		}
		d.sim.Restarted(errors.Is(err, sim.ErrKilled))
		d.log.Warn("sandbox: job failed; restarting feesync", "job", name, "attempt", attempt, "err", err)
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
	fmt.Fprintf(w, "  Alma (fake)      %s  REST API, daily and hourly jobs, webhooks\n", d.sim.Alma().URL())
	if d.sim.SFTP() != nil {
		fmt.Fprintf(w, "  library SFTP     %s  where Alma exports and imports; feesync uses the SFTP client, host key pinned\n", d.sim.LibraryURL())
	} else {
		fmt.Fprintf(w, "  library FTP      ftp://%s/  where Alma exports and imports; feesync uses the FTP client\n", d.sim.FTP().Addr)
	}
	if b := d.s.Bursar; b != "" && b != peoplesoft.BursarPeopleSoft {
		fmt.Fprintf(w, "  PeopleSoft       plays %s: inbound/ and outbound/ folders, a simulated ledger, %s's built-in layouts\n", b, b)
	} else {
		fmt.Fprintf(w, "  PeopleSoft       inbound/ and outbound/ folders and a simulated student ledger\n")
	}
	hooks := d.sim.WebhookURL()
	if hooks == "" {
		hooks = "the consortium's listener"
	}
	journalName := "journal.db"
	if d.s.Journal != "" {
		journalName = "journal " + journal.Redact(d.s.Journal)
	}
	fmt.Fprintf(w, "  feesync          its jobs on their default schedules, %s, webhooks on %s\n", journalName, hooks)
	if d.ha != nil {
		fmt.Fprintf(w, "  instances        %d feesync instances on that journal, the holder of the active lease (%s) running the jobs;\n"+
			"                   the active one killed %d times, as SIGKILL\n", d.s.Instances, d.ha.lease, d.s.Kills)
	}
	fmt.Fprintf(w, "  files            in %s\n", dir)
	fmt.Fprintf(w, "Times are those of the simulated clock; amounts are in %s.\n", d.sim.Currency())
}

// refundConfig is the district's [refunds] policy (R8): the simulator's
// policies, with the ratio of its terms of use in Alma.
func refundConfig() map[string]config.RefundConfig {
	ratio := int(sim.RefundRatio)
	out := map[string]config.RefundConfig{}
	for typ, action := range sim.RefundPolicies {
		out[string(typ)] = config.RefundConfig{Policy: string(action), Ratio: &ratio}
	}
	return out
}

// journalPath is feesync's journal: -journal, or journal.db in the work
// folder.
func (d *district) journalPath() string {
	if d.s.Journal != "" {
		return d.s.Journal
	}
	return filepath.Join(d.s.dir, "journal.db")
}
