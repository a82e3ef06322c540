// Package metrics exports feebridge's Prometheus metrics: what the
// journal knows (the run history of every job, whoever ran it; the
// records held; the webhook events; the journal's size) read at scrape
// time, and the calls one process made to Alma's API.
//
// A program serves them from a registry of its own:
//
//	am := metrics.NewAlma(time.Now)   // its Observe goes in alma.ClientOptions
//	reg := metrics.NewRegistry(journal, am, logger)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// NewRegistry returns a registry with the journal's metrics over j and,
// when a is not nil, the Alma metrics of a. Errors met at scrape time are
// logged to logger (nil: discarded) and leave their metrics out.
func NewRegistry(j *reconcile.Journal, a *Alma, logger *slog.Logger) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	Register(reg, j, a, logger)
	return reg
}

// Register registers on reg what NewRegistry's registry holds: the
// journal's metrics over j and, when a is not nil, the Alma metrics of a.
// A deployment of many institutions registers each one's through a
// registerer that adds its label (package reconcile/institutions).
func Register(reg prometheus.Registerer, j *reconcile.Journal, a *Alma, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg.MustRegister(NewJournalCollector(j, logger))
	reg.MustRegister(NewJobEndCollector(j, logger)) // jobends.go
	if a != nil {
		reg.MustRegister(a.collector(j, logger))
	}
}

// flows are the jobs whose runs move money, for feebridge_amount_total.
var flows = map[string]bool{reconcile.JobCharges: true, reconcile.JobPayments: true, reconcile.JobCredits: true}

// JournalCollector reads the metrics that the journal knows at scrape
// time, so runs made by cron or the command line count as much as those
// of the process that serves them.
type JournalCollector struct {
	j        *reconcile.Journal
	logger   *slog.Logger
	lastOK   *prometheus.Desc
	runs     *prometheus.Desc
	records  *prometheus.Desc
	held     *prometheus.Desc
	amount   *prometheus.Desc
	webhooks *prometheus.Desc
	bytes    *prometheus.Desc
	refused  *prometheus.Desc
}

// NewJournalCollector returns the collector of j's metrics; scrape errors
// go to logger.
func NewJournalCollector(j *reconcile.Journal, logger *slog.Logger) *JournalCollector {
	return &JournalCollector{j: j, logger: logger,
		lastOK: prometheus.NewDesc("feebridge_job_last_success_timestamp_seconds",
			"When the newest run of the job that did not fail ended (Unix seconds).", []string{"job"}, nil),
		runs: prometheus.NewDesc("feebridge_job_runs_total",
			"Runs of the job in the journal's run history, by outcome (ok, held, partial, failed).", []string{"job", "outcome"}, nil),
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
		refused: prometheus.NewDesc("feebridge_bursar_refused_lines_total",
			"Lines of the bursar's load results held: refused by its load (sent, refused by PeopleSoft), or naming no line sent.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *JournalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lastOK, c.runs, c.records, c.held, c.amount, c.webhooks, c.bytes, c.refused} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it queries the journal.
func (c *JournalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		c.logger.Warn("metrics", "err", err.Error())
	}
}

func (c *JournalCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
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
		if flows[s.Job] {
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
	if err := c.collectRefused(ctx, ch); err != nil {
		return err
	}
	size, err := c.j.Size(ctx)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(size))
	return nil
}

// collectRefused counts the lines held from the bursar's load results,
// summed over the results files the journal knows: a line refused stays
// counted after it is re-driven.
func (c *JournalCollector) collectRefused(ctx context.Context, ch chan<- prometheus.Metric) error {
	files, err := c.j.Files(ctx, reconcile.JobResults)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range files {
		n += f.Rejected
	}
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(n))
	return nil
}
