package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
)

// Alma counts the calls one process makes to Alma's API, for
// feebridge_alma_requests_total{op,status}, and keeps the quota Alma last
// said was left, for feebridge_alma_api_remaining. Its Observe method is
// an alma.ClientOptions.Observe. It is safe for concurrent use.
type Alma struct {
	now      func() time.Time
	requests *prometheus.CounterVec

	mu        sync.Mutex
	remaining int64 // -1 before an answer said
	at        time.Time
}

// NewAlma returns an Alma that tells the time of each answer by now (nil:
// time.Now), to compare it with the runs of other processes.
func NewAlma(now func() time.Time) *Alma {
	if now == nil {
		now = time.Now
	}
	return &Alma{now: now, remaining: -1,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feebridge_alma_requests_total",
			Help: "HTTP attempts this process made to Alma's API, by operation and HTTP status (0: no answer).",
		}, []string{"op", "status"})}
}

// Observe counts one HTTP attempt; see alma.ClientOptions.Observe.
func (a *Alma) Observe(_ context.Context, c alma.Call) {
	a.requests.WithLabelValues(c.Op, strconv.Itoa(c.Status)).Inc()
	if c.Remaining < 0 {
		return
	}
	a.mu.Lock()
	a.remaining, a.at = c.Remaining, a.now()
	a.mu.Unlock()
}

// Remaining returns the quota Alma last said was left to this process,
// and when; ok is false before an answer said.
func (a *Alma) Remaining() (n int64, at time.Time, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.remaining, a.at, a.remaining >= 0
}

// collector is a's metrics, with the remaining quota taken from the
// journal's run history when a run there heard from Alma later than this
// process did (a run started by cron or the command line).
func (a *Alma) collector(j *reconcile.Journal, logger *slog.Logger) prometheus.Collector {
	return &almaCollector{a: a, j: j, logger: logger, remaining: prometheus.NewDesc("feebridge_alma_api_remaining",
		"Calls left in the institution's daily Alma API quota, as Alma's newest answer said (X-Exl-Api-Remaining).", nil, nil)}
}

type almaCollector struct {
	a         *Alma
	j         *reconcile.Journal
	logger    *slog.Logger
	remaining *prometheus.Desc
}

func (c *almaCollector) Describe(ch chan<- *prometheus.Desc) {
	c.a.requests.Describe(ch)
	ch <- c.remaining
}

func (c *almaCollector) Collect(ch chan<- prometheus.Metric) {
	c.a.requests.Collect(ch)
	n, at, ok := c.a.Remaining()
	if c.j != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jn, jat, jok, err := c.j.AlmaRemaining(ctx)
		if err != nil {
			c.logger.Warn("metrics", "err", err.Error())
		}
		if jok && (!ok || jat.After(at)) {
			n, ok = jn, true
		}
	}
	if ok {
		ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, float64(n))
	}
}
