package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// recordRun appends r to the journal's run history, so that the status
// page, /readyz and /metrics see every run, whoever started it. A dry run
// is not recorded. A failure to record is logged, never the run's.
func (m *Main) recordRun(ctx context.Context, r *jobRun) {
	if r.DryRun || m.setup == nil || m.setup.Journal == nil {
		return
	}
	run := journal.Run{Job: r.Job, Started: r.Start, Ended: r.Start.Add(r.Duration),
		Files: r.Files, Records: r.Records, Held: r.Held(), Amount: r.Total, Who: "cli", Outcome: journal.RunOK}
	if m.cmd.name == "serve" {
		run.Who = "serve"
	}
	switch {
	case r.Err != nil:
		run.Outcome, run.Error = journal.RunFailed, r.Err.Error()
	case run.Held > 0:
		run.Outcome = journal.RunHeld
	}
	if _, err := m.setup.Journal.AddRun(context.WithoutCancel(ctx), run); err != nil {
		m.logger.Warn("run history", "job", r.Job, "err", err.Error())
	}
}

// journalCollector reads the metrics that the journal knows at scrape
// time, so runs made by cron or the command line count as much as serve's.
type journalCollector struct {
	j        *reconcile.Journal
	logger   *slog.Logger
	lastOK   *prometheus.Desc
	runs     *prometheus.Desc
	records  *prometheus.Desc
	held     *prometheus.Desc
	amount   *prometheus.Desc
	webhooks *prometheus.Desc
	bytes    *prometheus.Desc
}

func newJournalCollector(j *reconcile.Journal, logger *slog.Logger) *journalCollector {
	return &journalCollector{j: j, logger: logger,
		lastOK: prometheus.NewDesc("feebridge_job_last_success_timestamp_seconds",
			"When the newest run of the job that did not fail ended (Unix seconds).", []string{"job"}, nil),
		runs: prometheus.NewDesc("feebridge_job_runs_total",
			"Runs of the job in the journal's run history, by outcome (ok, held, failed).", []string{"job", "outcome"}, nil),
		records: prometheus.NewDesc("feebridge_records_total",
			"Records the job's runs handled (outcome ok) or held back (outcome held).", []string{"job", "outcome"}, nil),
		held: prometheus.NewDesc("feebridge_held_records",
			"Records the journal holds back now, by kind.", []string{"kind"}, nil),
		amount: prometheus.NewDesc("feebridge_amount_total",
			"The amounts the runs of each flow moved, summed (currency units).", []string{"flow"}, nil),
		webhooks: prometheus.NewDesc("feebridge_webhook_events_total",
			"Webhook events in the journal, by type and outcome.", []string{"type", "outcome"}, nil),
		bytes: prometheus.NewDesc("feebridge_journal_bytes",
			"The size of the journal's database.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *journalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lastOK, c.runs, c.records, c.held, c.amount, c.webhooks, c.bytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it queries the journal.
func (c *journalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		c.logger.Warn("metrics", "err", err.Error())
	}
}

func (c *journalCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	sum, err := c.j.RunSummary(ctx)
	if err != nil {
		return err
	}
	for _, s := range sum {
		if !s.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastOK, prometheus.GaugeValue, float64(s.LastSuccess.Unix()), s.Job)
		}
		for _, o := range []string{journal.RunOK, journal.RunHeld, journal.RunFailed} {
			ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(s.Outcomes[o]), s.Job, o)
		}
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(s.Records), s.Job, "ok")
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(s.Held), s.Job, "held")
		switch s.Job {
		case jobCharges, jobPayments, jobCredits:
			ch <- prometheus.MustNewConstMetric(c.amount, prometheus.CounterValue, s.Amount, s.Job)
		}
	}
	held, err := c.j.Records(ctx, "", reconcile.OutcomeRejected)
	if err != nil {
		return err
	}
	byKind := map[string]int{reconcile.KindCharge: 0, reconcile.KindCredit: 0, reconcile.KindPayment: 0}
	for _, r := range held {
		byKind[r.Kind]++
	}
	for k, n := range byKind {
		ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(n), k)
	}
	events, err := c.j.Records(ctx, reconcile.KindEvent, "")
	if err != nil {
		return err
	}
	byOutcome := map[string]int{}
	for _, r := range events {
		byOutcome[r.Outcome]++
	}
	for o, n := range byOutcome {
		ch <- prometheus.MustNewConstMetric(c.webhooks, prometheus.CounterValue, float64(n), "loan_returned", o)
	}
	size, err := c.j.Size(ctx)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(size))
	return nil
}

// metricsHandler serves /metrics from its own registry.
func (m *Main) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newJournalCollector(m.setup.Journal, m.logger))
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
		if len(reasons) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(reasons, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
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
