package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile"
)

// JobEndCollector reads from the journal, at scrape time, the JOB_END
// deliveries of Alma's jobs: feebridge_alma_job_end_total{job,status},
// job being the Alma job's name and status the one it ended with
// (COMPLETED_SUCCESS, COMPLETED_FAILED, CANCELLED…); and
// feebridge_alma_export_count_mismatch_total, the exports the count check
// refused.
type JobEndCollector struct {
	j        *reconcile.Journal
	logger   *slog.Logger
	ends     *prometheus.Desc
	mismatch *prometheus.Desc
}

// NewJobEndCollector returns the collector of j's job ends; scrape errors
// go to logger.
func NewJobEndCollector(j *reconcile.Journal, logger *slog.Logger) *JobEndCollector {
	return &JobEndCollector{j: j, logger: logger,
		ends: prometheus.NewDesc("feebridge_alma_job_end_total",
			"JOB_END deliveries of Alma's jobs in the journal, by the job's name and the status it ended with.", []string{"job", "status"}, nil),
		mismatch: prometheus.NewDesc("feebridge_alma_export_count_mismatch_total",
			"Export files not applied because they held other counts than their JOB_END announced.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *JobEndCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ends
	ch <- c.mismatch
}

// Collect implements prometheus.Collector: it queries the journal.
func (c *JobEndCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	counts, err := c.j.JobEndCounts(ctx)
	if err != nil {
		c.logger.Warn("metrics: job ends", "err", err.Error())
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.ends, prometheus.CounterValue, float64(n.Count), n.Name, n.Status)
	}
	all, err := c.j.AllJobEnds(ctx)
	if err != nil {
		c.logger.Warn("metrics: job ends", "err", err.Error())
		return
	}
	bad := 0
	for _, e := range all {
		if e.Result == reconcile.JobEndDisagreed {
			bad++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.mismatch, prometheus.CounterValue, float64(bad))
}
