package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// activeLease is the name of the lease the active instance holds.
const activeLease = "active"

// leaseHolder is what serveInstance needs of the journal.
type leaseHolder interface {
	TakeLease(ctx context.Context, name string, ttl time.Duration) (journal.Lease, error)
	RenewLease(ctx context.Context, l journal.Lease, ttl time.Duration) (journal.Lease, error)
	ReleaseLease(ctx context.Context, l journal.Lease)
}

// serveInstance runs active (the schedules, the events worker, the
// JOB_END starts) whenever this instance holds the "active" lease, until
// ctx ends. Without it the instance is a standby: its listener answers
// webhooks (journaling the events for the active one's worker) while it
// polls for the lease every lease/3. The active instance renews the lease
// every lease/3; when a renewal finds it taken over (the instance was
// paused or cut off past the lease), active's context is cancelled at
// once, its journal writes are fenced by the lease meanwhile, and the
// instance becomes a standby again. On ctx's end a held lease is
// released, so that a standby takes over at its next poll.
func (m *Main) serveInstance(ctx context.Context, store leaseHolder, lease time.Duration, active func(ctx context.Context) error) error {
	poll := max(lease/3, 10*time.Millisecond)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		l, err := store.TakeLease(ctx, activeLease, lease)
		switch {
		case err == nil:
			m.setActive(true, l)
			err = m.activeTerm(ctx, store, l, lease, t, active)
			m.setActive(false, journal.Lease{})
			if err != nil {
				return err
			}
		case errors.Is(err, journal.ErrLocked):
		case ctx.Err() != nil:
		default:
			m.logger.Warn("standby: cannot take the active lease", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// activeTerm runs active under the lease l until ctx ends or the lease is
// lost, renewing it at every tick of t.
func (m *Main) activeTerm(ctx context.Context, store leaseHolder, l journal.Lease, lease time.Duration, t *time.Ticker,
	active func(ctx context.Context) error) error {
	m.logger.Info("active: this instance holds the active lease", "instance", l.Instance, "token", l.Token)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- active(journal.WithFence(actx, l)) }()
	for {
		select {
		case err := <-done:
			store.ReleaseLease(context.WithoutCancel(ctx), l)
			return err
		case <-t.C:
		}
		renewed, err := store.RenewLease(ctx, l, lease)
		switch {
		case errors.Is(err, journal.ErrLeaseLost):
			m.logger.Error("active lease lost: stopping the jobs, now a standby", "err", err.Error())
			cancel(fmt.Errorf("feesync: %w", err))
			<-done
			return nil
		case err != nil && ctx.Err() == nil:
			m.logger.Warn("active lease: renewal failed, trying again", "err", err.Error())
		case err == nil:
			l = renewed
		}
	}
}

// setActive records whether this instance is the active one, with its
// lease, for /readyz and the metrics.
func (m *Main) setActive(active bool, l journal.Lease) {
	m.haMu.Lock()
	defer m.haMu.Unlock()
	m.haActive, m.haLease = active, l
}

// isActive reports whether this instance is the active one.
func (m *Main) isActive() bool {
	m.haMu.Lock()
	defer m.haMu.Unlock()
	return m.haActive
}

// leaseLines says, for /readyz, which instance this is, whether it is
// active, and who holds which lease, with tokens and expiries.
func (m *Main) leaseLines(ctx context.Context) []string {
	role := "standby"
	if m.isActive() {
		role = "active"
	}
	lines := []string{fmt.Sprintf("instance %s: %s", m.config.InstanceName(), role)}
	leases, err := m.setup.Journal.Leases(ctx)
	if err != nil {
		return append(lines, "leases: "+err.Error())
	}
	for _, l := range leases {
		lines = append(lines, fmt.Sprintf("lease %s: instance %q (%s), token %d, expires %s",
			l.Name, l.Instance, l.Owner, l.Token, l.Expires.Format(time.RFC3339Nano)))
	}
	return lines
}

// leaseCollector is the metrics of the instances: feebridge_lease_held
// (1 per lease held, by lease and instance, from the journal) and
// feebridge_instance_active (1 when this instance is the active one).
type leaseCollector struct{ m *Main }

var (
	leaseHeldDesc = prometheus.NewDesc("feebridge_lease_held",
		"1 for each lease held in the journal, by lease and the instance that holds it.", []string{"lease", "instance"}, nil)
	instanceActiveDesc = prometheus.NewDesc("feebridge_instance_active",
		"1 when this feesync serve instance holds the active lease (runs the schedules and the events worker), 0 on a standby.", []string{"instance"}, nil)
)

func (c leaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- leaseHeldDesc
	ch <- instanceActiveDesc
}

func (c leaseCollector) Collect(ch chan<- prometheus.Metric) {
	active := 0.0
	if c.m.isActive() {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(instanceActiveDesc, prometheus.GaugeValue, active, c.m.config.InstanceName())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leases, err := c.m.setup.Journal.Leases(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(leaseHeldDesc, err)
		return
	}
	for _, l := range leases {
		ch <- prometheus.MustNewConstMetric(leaseHeldDesc, prometheus.GaugeValue, 1, l.Name, l.Instance)
	}
}
