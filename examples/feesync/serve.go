package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
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
// answers Alma's webhooks, /healthz and the status page until ctx ends.
// Then it stops taking work, lets running jobs see the cancellation and
// returns.
func (m *Main) serve(ctx context.Context) error {
	c := m.config
	jobs, err := m.openJobs(ctx, true)
	if err != nil {
		return err
	}
	board := &statusBoard{started: m.Now()}

	cr := cron.New(
		cron.WithLocation(c.Location()),
		cron.WithParser(config.CronParser()),
		cron.WithChain(cron.Recover(cronLogger{m.logger}), cron.SkipIfStillRunning(cronLogger{m.logger})),
	)
	m.overdue = m.watchOverdue(ctx, cr) // nil without [mail]
	scheduled, err := m.schedule(ctx, cr, jobs, board)
	if err != nil {
		return err
	}

	var srv *http.Server
	if c.Webhook.Listen == "" {
		m.logger.Warn("webhook.listen is not set: no webhook listener, so lost items that come back are only found by the daily report")
	} else {
		secret, err := c.WebhookSecret().Load(m.Getenv)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle(c.Webhook.Path, alma.NewWebhookHandler([]byte(secret.Reveal()), m.loanReturned(board),
			&alma.WebhookOptions{Logger: m.logger}))
		mux.HandleFunc("GET /healthz", m.healthz)
		mux.HandleFunc("GET /readyz", m.readyz(board.started))
		mux.Handle("GET /metrics", m.metricsHandler())
		mux.Handle("GET /{$}", &statusPage{m: m, board: board, cron: cr, scheduled: scheduled})
		ln, err := net.Listen("tcp", c.Webhook.Listen)
		if err != nil {
			return fmt.Errorf("webhook.listen: %w", err)
		}
		srv = &http.Server{
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
		m.logger.Info("listening", "addr", ln.Addr().String(), "webhook", c.Webhook.Path)
		if m.Listening != nil {
			m.Listening(ln.Addr().String())
		}
	}

	// The webhook events journaled by the listener (and those left from
	// before a restart) are handled by one worker, with its own retries.
	events := make(chan error, 1)
	go func() { events <- jobs.RunEvents(ctx) }()

	cr.Start()
	for _, s := range scheduled {
		m.logger.Info("scheduled", "job", s.Job, "spec", s.Spec, "next", cr.Entry(s.id).Next.Format(time.RFC3339))
	}
	<-ctx.Done()
	m.logger.Info("stopping")
	stopped := cr.Stop()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			m.logger.Warn("http shutdown", "err", err.Error())
		}
	}
	<-stopped.Done()
	if err := <-events; err != nil {
		m.logger.Warn("webhook events", "err", err.Error())
	}
	return nil
}

// schedule adds the jobs that have a schedule to cr; each run is reported
// and added to board.
func (m *Main) schedule(ctx context.Context, cr *cron.Cron, jobs *reconcile.Jobs, board *statusBoard) ([]scheduledJob, error) {
	var scheduled []scheduledJob
	for _, s := range m.schedules() {
		if s.spec == "" {
			m.logger.Info("job not scheduled", "job", s.job)
			continue
		}
		id, err := cr.AddFunc(string(s.spec), func() {
			r := m.runOnce(ctx, jobs, s.job)
			m.report(r)
			board.add(r)
			m.overdue.after(ctx, r) // alerts.go: once per problem
		})
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
// deliver again only when the journal cannot take it), plus a line on the
// status page.
func (m *Main) loanReturned(board *statusBoard) func(context.Context, alma.Event) error {
	next := m.setup.WebhookCallback()
	return func(ctx context.Context, ev alma.Event) error {
		start := m.Now()
		err := next(ctx, ev)
		if ev.Type == alma.EventLoanReturned && ev.Loan != nil {
			board.add(&jobRun{Job: "webhook " + ev.Type, Start: start, Duration: m.Now().Sub(start), Records: 1, Err: err})
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

// statusPage is the small HTML page on /: the schedules, the last runs and
// the records held back.
type statusPage struct {
	m         *Main
	board     *statusBoard
	cron      *cron.Cron
	scheduled []scheduledJob
}

// maxHeldShown bounds the held records listed on the status page.
const maxHeldShown = 200

func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := p.m
	type next struct {
		Job, Spec string
		Next      time.Time
	}
	type held struct {
		Kind, Key, Student, Amount, Reason, Where string
		Since                                     time.Time
	}
	data := struct {
		Started   time.Time
		Now       time.Time
		Schedules []next
		Runs      []*jobRun
		Held      []held
		HeldTotal int
		HeldErr   string
	}{Started: p.board.started, Now: m.Now(), Runs: p.board.last()}
	for _, s := range p.scheduled {
		data.Schedules = append(data.Schedules, next{s.Job, s.Spec, p.cron.Entry(s.id).Next})
	}
	recs, err := m.setup.Journal.Records(r.Context(), "", reconcile.OutcomeRejected)
	if err != nil {
		data.HeldErr = err.Error()
	}
	data.HeldTotal = len(recs)
	for i, rec := range recs {
		if i == maxHeldShown {
			break
		}
		h := held{Kind: rec.Kind, Key: rec.Key, Student: maskIf(rec.UserID, !m.config.Log.ShowStudentIDs),
			Reason: rec.Reason, Since: rec.Created}
		if rec.Amount.Valid() {
			h.Amount = rec.Amount.String()
		}
		if rec.File != "" {
			h.Where = fmt.Sprintf("%s:%d", rec.File, rec.Line)
		}
		data.Held = append(data.Held, h)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := statusTmpl.Execute(w, data); err != nil {
		m.logger.Warn("status page", "err", err.Error())
	}
}

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format("2006-01-02 15:04:05 MST")
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>feesync status</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.bad{color:#a00}</style>
</head><body>
<h1>feesync</h1>
<p>Running since {{when .Started}}; now {{when .Now}}.</p>
<h2>Schedules</h2>
<table><tr><th>Job</th><th>Schedule</th><th>Next run</th></tr>
{{range .Schedules}}<tr><td>{{.Job}}</td><td><code>{{.Spec}}</code></td><td>{{when .Next}}</td></tr>
{{else}}<tr><td colspan="3">No job is scheduled.</td></tr>{{end}}</table>
<h2>Last runs</h2>
<table><tr><th>Job</th><th>Started</th><th>Took</th><th>Files</th><th>Records</th><th>Total</th><th>Held back</th><th>Result</th></tr>
{{range .Runs}}<tr><td>{{.Job}}</td><td>{{when .Start}}</td><td>{{.Duration}}</td><td>{{.Files}}</td><td>{{.Records}}</td><td>{{.Total}}</td><td>{{.Held}}</td>
<td>{{if .Err}}<span class="bad">{{.Err}}</span>{{else}}ok{{end}}</td></tr>
{{else}}<tr><td colspan="8">No run since the start.</td></tr>{{end}}</table>
<h2>Held records ({{.HeldTotal}})</h2>
{{if .HeldErr}}<p class="bad">{{.HeldErr}}</p>{{end}}
<table><tr><th>Kind</th><th>Key</th><th>Student</th><th>Amount</th><th>Where</th><th>Reason</th><th>Since</th></tr>
{{range .Held}}<tr><td>{{.Kind}}</td><td>{{.Key}}</td><td>{{.Student}}</td><td>{{.Amount}}</td><td>{{.Where}}</td><td>{{.Reason}}</td><td>{{when .Since}}</td></tr>
{{else}}<tr><td colspan="7">Nothing is held.</td></tr>{{end}}</table>
{{if gt .HeldTotal (len .Held)}}<p>Only the first {{len .Held}} are shown.</p>{{end}}
</body></html>
`))

// cronLogger passes the scheduler's messages to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err.Error())...)
}
