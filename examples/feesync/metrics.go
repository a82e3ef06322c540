package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// recordRun appends r to the journal's run history (reconcile.RecordRun),
// so that the status page, /readyz and /metrics see every run, whoever
// started it; with the Alma calls counted by the tally of ctx (see
// runOnce). A dry run is not recorded. A failure to record is logged,
// never the run's.
func (m *Main) recordRun(ctx context.Context, r *jobRun) {
	if r.DryRun || m.setup == nil || m.setup.Journal == nil {
		return
	}
	who := "cli"
	if m.cmd.name == "serve" {
		who = "serve"
	}
	rec := reconcile.RunRecord{Job: r.Job, Who: who, Started: r.Start, Ended: r.Start.Add(r.Duration), Err: r.Err,
		Result: reconcile.RunResult{Files: r.Files, Records: r.Records, Total: r.amount,
			Rejected: r.Rejected, Failed: r.Failed}, Partial: r.Partial}
	if _, err := reconcile.RecordRun(ctx, m.setup.Journal, rec); err != nil {
		m.logger.Warn("run history", "job", r.Job, "err", err.Error())
	}
}

// almaMetrics counts this process's calls to Alma, for /metrics; the
// config.Options.AlmaObserve of the jobs.
func (m *Main) almaMetrics() *metrics.Alma {
	if m.almaCalls == nil {
		m.almaCalls = metrics.NewAlma(m.Now)
	}
	return m.almaCalls
}

// metricsHandler serves /metrics from its own registry: the journal's
// metrics (every run, whoever started it) and this process's Alma calls.
func (m *Main) metricsHandler() http.Handler {
	reg := metrics.NewRegistry(m.setup.Journal, m.almaMetrics(), m.logger)
	if m.setup.Quota != nil {
		reg.MustRegister(metrics.NewQuotaCollector(m.setup.Quota))
	}
	if m.cmd.name == "serve" {
		reg.MustRegister(leaseCollector{m})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// readyz answers 503 with the reason when the journal cannot be written,
// when a job's last run failed, or when a scheduled job is overdue by more
// than its period; 200 otherwise.
func (m *Main) readyz(started time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		reasons := m.unready(ctx, started)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// A standby is ready: it answers webhooks. The leases follow.
		leases := strings.Join(m.leaseLines(ctx), "\n")
		if len(reasons) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(reasons, "\n"))
			fmt.Fprintln(w, leases)
			return
		}
		fmt.Fprintln(w, "ok")
		fmt.Fprintln(w, leases)
	}
}

// unready lists what makes the service not ready, in plain words.
func (m *Main) unready(ctx context.Context, started time.Time) []string {
	j := m.setup.Journal
	if err := j.Writable(ctx); err != nil {
		return []string{"the journal cannot be written: " + err.Error()}
	}
	sum, err := j.RunSummary(ctx)
	if err != nil {
		return []string{"the journal cannot be read: " + err.Error()}
	}
	last := map[string]journal.Run{}
	var reasons []string
	for _, s := range sum {
		last[s.Job] = s.Last
		if s.Last.Outcome == journal.RunFailed {
			reasons = append(reasons, fmt.Sprintf("job %s: its last run (%s) failed: %s",
				s.Job, s.Last.Started.In(m.config.Location()).Format(time.RFC3339), s.Last.Error))
		}
	}
	now := m.Now()
	for _, s := range m.schedules() {
		if s.spec == "" {
			continue
		}
		sched, err := config.CronParser().Parse(string(s.spec))
		if err != nil {
			continue
		}
		from := started
		if l, ok := last[s.job]; ok {
			from = l.Started
		}
		due := sched.Next(from.In(m.config.Location()))
		period := sched.Next(due).Sub(due)
		if now.Sub(due) > period {
			reasons = append(reasons, fmt.Sprintf("job %s is overdue: due %s, period %s",
				s.job, due.Format(time.RFC3339), period))
		}
	}
	return reasons
}
