package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/reconcile/instance"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// activeLease is the name of the lease the active instance holds.
const activeLease = instance.DefaultLease

// serveInstance runs active (the schedules, the events worker, the
// JOB_END starts) whenever this instance holds the "active" lease, until
// ctx ends, as package reconcile/instance runs an instance: a standby's
// listener answers webhooks (journaling the events for the active one's
// worker) while it waits for the lease, trying it when the holder's
// expires and at least every lease/3; the active instance renews it every
// lease/3 and becomes a standby again when it finds it taken over. On
// ctx's end a held lease is released.
func (m *Main) serveInstance(ctx context.Context, store instance.Store, lease time.Duration, active func(ctx context.Context) error) error {
	in := &instance.Instance{Store: store, TTL: lease, Now: m.Now, Logger: m.logger, OnRole: m.setActive}
	return in.Serve(ctx, active)
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
