package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile"
)

// QuotaCollector reads the quota gate of the jobs at scrape time:
// feebridge_alma_daily_reserve (the calls kept for the work that cannot
// wait; absent while unknown, a percentage with no day's quota seen yet),
// feebridge_alma_quota_low (1 while the work that can wait is deferred,
// below the reserve or after a 429 DAILY_THRESHOLD) and
// feebridge_alma_paused_until_timestamp_seconds (when feesync calls Alma
// again after a 429 DAILY_THRESHOLD; 0 when not paused). A nil gate
// gives nothing.
type QuotaCollector struct {
	g                    *reconcile.QuotaGate
	reserve, low, paused *prometheus.Desc
}

// NewQuotaCollector returns the collector of g.
func NewQuotaCollector(g *reconcile.QuotaGate) *QuotaCollector {
	return &QuotaCollector{g: g,
		reserve: prometheus.NewDesc("feebridge_alma_daily_reserve",
			"Calls of Alma's daily API quota kept for the work that cannot wait (alma.daily_reserve).", nil, nil),
		low: prometheus.NewDesc("feebridge_alma_quota_low",
			"1 while the work that can wait is deferred: Alma's daily quota is below the reserve, or spent.", nil, nil),
		paused: prometheus.NewDesc("feebridge_alma_paused_until_timestamp_seconds",
			"When feesync calls Alma again after a 429 DAILY_THRESHOLD (Alma's midnight); 0 when not paused.", nil, nil)}
}

// Describe sends the descriptions of the metrics.
func (c *QuotaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.reserve
	ch <- c.low
	ch <- c.paused
}

// Collect sends the gate's figures.
func (c *QuotaCollector) Collect(ch chan<- prometheus.Metric) {
	if c.g == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := c.g.Status(ctx)
	if st.Reserve >= 0 {
		ch <- prometheus.MustNewConstMetric(c.reserve, prometheus.GaugeValue, float64(st.Reserve))
	}
	low, paused := 0.0, 0.0
	if st.Low {
		low = 1
	}
	if !st.Paused.IsZero() {
		paused = float64(st.Paused.Unix())
	}
	ch <- prometheus.MustNewConstMetric(c.low, prometheus.GaugeValue, low)
	ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused)
}
