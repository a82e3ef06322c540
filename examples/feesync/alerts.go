package main

import (
	"context"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// overdueMargin is how long past its period a job may go without a run
// that succeeds before feesync serve alerts that it is overdue.
const overdueMargin = 30 * time.Minute

// overdueCheck is how often feesync serve looks for overdue jobs.
const overdueCheck = "*/10 * * * *"

// alerter is the [mail] section's alerter, or nil when the config has no
// [mail] section (then nothing is alerted and the journal is not told).
func (m *Main) alerter() *reconcile.Alerter {
	if m.setup == nil || m.setup.Mailer == nil {
		return nil
	}
	return &reconcile.Alerter{Store: m.setup.Journal, Mailer: m.setup.Mailer, To: m.setup.MailTo,
		Now: m.Now, Logger: m.logger}
}

// alertAfter alerts on run r (a failure, records held) or resolves what r
// shows to be over; see reconcile.Alerter.
func (m *Main) alertAfter(ctx context.Context, r *jobRun) {
	a := m.alerter()
	if a == nil || r.DryRun {
		return
	}
	if err := a.AfterRun(ctx, reconcile.RunOutcome{Job: r.Job, Err: r.Err, Held: r.Held()}); err != nil {
		m.logger.Warn("alert", "job", r.Job, "err", err.Error())
	}
}

// overdueWatch alerts when a scheduled job has not succeeded for longer
// than its period plus overdueMargin. It reads the last successes from the
// journal's run history, so that a run made by cron or the command line
// counts, and remembers those of this process too (should recording one
// have failed).
type overdueWatch struct {
	m       *Main
	started time.Time
	mu      sync.Mutex
	periods map[string]time.Duration
	last    map[string]time.Time // this process's
}

// watchOverdue starts the check of overdue jobs on cr, every ten minutes;
// nil when no mail is configured.
func (m *Main) watchOverdue(ctx context.Context, cr *cron.Cron) *overdueWatch {
	if m.alerter() == nil {
		return nil
	}
	w := &overdueWatch{m: m, started: m.Now(), periods: map[string]time.Duration{}, last: map[string]time.Time{}}
	c := m.config.Schedules
	for job, spec := range map[string]config.CronSpec{jobCharges: c.Charges, jobPayments: c.Payments,
		jobCredits: c.Credits, jobReconcile: c.Reconcile, jobReport: c.Report} {
		if sch, err := spec.Schedule(); err == nil {
			w.periods[job] = period(sch, w.started)
		}
	}
	if _, err := cr.AddFunc(overdueCheck, func() { w.check(ctx) }); err != nil {
		m.logger.Warn("overdue check not scheduled", "err", err.Error())
	}
	return w
}

// period is the longest gap between two of the next runs of sch after t
// (a day's schedule gives 24 h; "5 9-17 * * 1-5" the weekend).
func period(sch cron.Schedule, t time.Time) time.Duration {
	var longest time.Duration
	prev := sch.Next(t)
	for range 8 {
		next := sch.Next(prev)
		longest = max(longest, next.Sub(prev))
		prev = next
	}
	return longest
}

// after is called after each scheduled run: it alerts on the run and
// notes its success.
func (w *overdueWatch) after(ctx context.Context, r *jobRun) {
	if w == nil {
		return
	}
	if r.Err == nil {
		w.mu.Lock()
		w.last[r.Job] = r.Start
		w.mu.Unlock()
	}
	w.m.alertAfter(ctx, r)
}

// check alerts for each job overdue, and resolves those no longer.
func (w *overdueWatch) check(ctx context.Context) {
	a := w.m.alerter()
	last := w.lastSuccesses(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	for job, p := range w.periods {
		if t := w.last[job]; t.After(last[job]) {
			last[job] = t
		}
		if err := a.Overdue(ctx, job, last[job], w.started, p, overdueMargin); err != nil {
			w.m.logger.Warn("alert", "job", job, "err", err.Error())
		}
	}
}

// lastSuccesses reads when each job last succeeded from the journal's run
// history, whoever ran it; empty when it cannot be read (logged).
func (w *overdueWatch) lastSuccesses(ctx context.Context) map[string]time.Time {
	last := map[string]time.Time{}
	sum, err := w.m.setup.Journal.RunSummary(ctx)
	if err != nil {
		w.m.logger.Warn("overdue check: run history", "err", err.Error())
		return last
	}
	for _, s := range sum {
		last[s.Job] = s.LastSuccess
	}
	return last
}
