package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// serve runs the jobs on their schedules and, when webhook.listen is set,
// answers Alma's webhooks, /healthz, /readyz, /metrics and the status page
// until ctx ends.
// Then it stops taking work, lets running jobs see the cancellation and
// returns.
func (m *Main) serve(ctx context.Context) error {
	if m.configDir != "" {
		return m.serveConfigDir(ctx) // many institutions: configdir.go
	}
	c := m.config
	jobs, err := m.openJobs(ctx, true)
	if err != nil {
		return err
	}
	started := m.Now()
	srv, err := m.listen(jobs, started) // nil without webhook.listen
	if err != nil {
		return err
	}
	// The schedules, the events worker and the JOB_END starts run on
	// the active instance only (ha.go).
	err = m.serveInstance(ctx, m.setup.Journal, c.Serve.Lease.D(), func(ctx context.Context) error { return m.runActive(ctx, jobs) })
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			m.logger.Warn("http shutdown", "err", err.Error())
		}
	}
	return err
}

// runActive runs the jobs on their schedules, the worker of the webhook
// events and the JOB_END starts until ctx ends, then stops taking work
// and lets running jobs see the cancellation.
func (m *Main) runActive(ctx context.Context, jobs *reconcile.Jobs) error {
	c := m.config
	cr := cron.New(
		cron.WithLocation(c.Location()),
		cron.WithParser(config.CronParser()),
		cron.WithChain(cron.Recover(cronLogger{m.logger}), cron.SkipIfStillRunning(cronLogger{m.logger})),
	)
	m.overdue = m.watchOverdue(ctx, cr) // nil without [mail]
	scheduled, err := m.schedule(ctx, cr, jobs)
	if err != nil {
		return err
	}
	// The webhook events journaled by the listeners (and those left from
	// before a restart) are handled by one worker, with its own retries.
	events := make(chan error, 1)
	go func() { events <- jobs.RunEvents(ctx) }()
	// The jobs Alma's JOB_END starts at once (jobend.go).
	jobEnds := make(chan struct{})
	go func() { m.runJobEndStarts(ctx, jobs, c.Serve.Lease.D()/3); close(jobEnds) }()

	cr.Start()
	for _, s := range scheduled {
		m.logger.Info("scheduled", "job", s.Job, "spec", s.Spec, "next", cr.Entry(s.id).Next.Format(time.RFC3339))
	}
	<-ctx.Done()
	m.logger.Info("stopping")
	stopped := cr.Stop()
	<-stopped.Done()
	<-jobEnds
	if err := <-events; err != nil {
		m.logger.Warn("webhook events", "err", err.Error())
	}
	return nil
}

// listen starts the listener on webhook.listen: Alma's webhooks,
// /healthz, /readyz, and the status page (with its search) and /metrics,
// behind the status token when one is set. Without webhook.listen it
// returns nil and logs a warning.
func (m *Main) listen(jobs *reconcile.Jobs, started time.Time) (*http.Server, error) {
	c := m.config
	if c.Webhook.Listen == "" {
		m.logger.Warn("webhook.listen is not set: no webhook listener, so lost items that come back are only found by the daily report")
		return nil, nil
	}
	secret, err := c.WebhookSecret().Load(m.Getenv)
	if err != nil {
		return nil, err
	}
	token, err := c.LoadStatusToken(m.Getenv)
	if err != nil {
		return nil, err
	}
	if token.IsZero() {
		m.logger.Warn("no status token (webhook.status_token_env): the status page and /metrics are open to whoever reaches the listener; keep it behind the reverse proxy's authentication")
	}
	mux := http.NewServeMux()
	mux.Handle(c.Webhook.Path, alma.NewWebhookHandler([]byte(secret.Reveal()), m.loanReturned(),
		&alma.WebhookOptions{Logger: m.logger}))
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.HandleFunc("GET /readyz", m.readyz(started))
	// The status page, its search and the metrics show student-related
	// figures: behind the token when one is set (status.go).
	page := newStatusPage(m, jobs, started)
	mux.Handle("GET /metrics", requireToken(token.Reveal(), m.metricsHandler()))
	mux.Handle("GET /{$}", requireToken(token.Reveal(), page))
	ln, err := net.Listen("tcp", c.Webhook.Listen)
	if err != nil {
		return nil, fmt.Errorf("webhook.listen: %w", err)
	}
	page.listen = ln.Addr().String()
	srv := m.startHTTP(ln, mux)
	m.logger.Info("listening", "addr", ln.Addr().String(), "webhook", c.Webhook.Path)
	if m.Listening != nil {
		m.Listening(ln.Addr().String())
	}
	return srv, nil
}

// schedule adds the jobs that have a schedule to cr; each run is reported
// (runOnce records it in the journal's run history, which the status page
// shows).
func (m *Main) schedule(ctx context.Context, cr *cron.Cron, jobs *reconcile.Jobs) ([]scheduledJob, error) {
	var scheduled []scheduledJob
	for _, s := range m.schedules() {
		if s.spec == "" {
			m.logger.Info("job not scheduled", "job", s.job)
			continue
		}
		id, err := cr.AddFunc(string(s.spec), func() { m.runServed(ctx, jobs, s.job, "") })
		if err != nil {
			return nil, fmt.Errorf("schedules.%s: %w", s.job, err)
		}
		scheduled = append(scheduled, scheduledJob{Job: s.job, Spec: string(s.spec), id: id})
	}
	return scheduled, nil
}

// jobSchedule is a job and its schedule from the config ("" when none).
type jobSchedule struct {
	job  string
	spec config.CronSpec
}

// schedules lists the jobs with their schedules, in the config's order.
func (m *Main) schedules() []jobSchedule {
	c := m.config
	return []jobSchedule{
		{jobCharges, c.Schedules.Charges},
		{jobPayments, c.Schedules.Payments},
		{jobCredits, c.Schedules.Credits},
		{jobResults, c.Schedules.Results},
		{jobReconcile, c.Schedules.Reconcile},
		{jobReport, c.Schedules.Report},
	}
}

// scheduledJob is one job in the cron.
type scheduledJob struct {
	Job, Spec string
	id        cron.EntryID
}

// loanReturned is the webhook callback: the setup's, which journals a
// loan return as a pending event for the events worker (and asks Alma to
// deliver again only when the journal cannot take it), plus a log line.
// The status page counts the events from the journal.
func (m *Main) loanReturned() func(context.Context, alma.Event) error {
	next := m.setup.WebhookCallback()
	return func(ctx context.Context, ev alma.Event) error {
		err := next(ctx, ev)
		if ev.Type == alma.EventLoanReturned && ev.Loan != nil {
			m.logger.Info("loan returned", "event", ev.ID, "user", ev.Loan.UserID, "item", ev.Loan.ItemBarcode, errAttr(err))
		}
		return err
	}
}

// healthz answers 200 when the journal answers.
func (m *Main) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := m.setup.Journal.Ping(ctx); err != nil {
		http.Error(w, "journal: unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// cronLogger passes the scheduler's messages to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err.Error())...)
}

// startHTTP serves mux on ln in a goroutine of its own, with the
// listener's timeouts, its errors in the log; Shutdown stops it.
func (m *Main) startHTTP(ln net.Listener, mux http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("http server", "err", err.Error())
		}
	}()
	return srv
}
