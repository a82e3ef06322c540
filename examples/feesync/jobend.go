package main

import (
	"context"
	"sync"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// jobGates serialise the runs of each job within feesync serve: a run the
// schedule starts and one a JOB_END starts never overlap; the second
// waits for the first and then finds nothing new (the first claimed the
// file). Across processes the journal's job lock does the same.
type jobGates struct {
	mu    sync.Mutex
	gates map[string]*sync.Mutex
}

func (g *jobGates) gate(job string) *sync.Mutex {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = map[string]*sync.Mutex{}
	}
	if g.gates[job] == nil {
		g.gates[job] = &sync.Mutex{}
	}
	return g.gates[job]
}

// runServed runs job once as serve runs it, on its schedule or at a
// JOB_END: one run of a job at a time, reported, recorded in the run
// history, and followed by the overdue alerts.
func (m *Main) runServed(ctx context.Context, jobs *reconcile.Jobs, job, why string) {
	mu := m.gates.gate(job)
	mu.Lock()
	defer mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if why != "" {
		m.logger.Info("job started by Alma", "job", job, "why", why)
	}
	r := m.runOnce(ctx, jobs, job)
	m.report(r)
	m.overdue.after(ctx, r) // alerts.go: once per problem
}

// runJobEndStarts runs the jobs that Alma's JOB_END asks for
// (reconcile.Jobs.JobEndStarts) as they come, until ctx ends; it returns
// once the last has finished. It also reads the journal every poll for
// the job ends that another instance received (a standby journals the
// JOB_ENDs posted to it, and only the active instance runs jobs), and
// those left waiting when this instance took over, and starts their
// jobs once.
func (m *Main) runJobEndStarts(ctx context.Context, jobs *reconcile.Jobs, poll time.Duration) {
	starts := jobs.JobEndStarts()
	seen := map[string]time.Time{}
	t := time.NewTicker(max(poll, time.Second))
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case job := <-starts:
				seen[job] = m.Now()
				m.runServed(ctx, jobs, job, "JOB_END of the export")
				continue
			case <-t.C:
			}
		}
		due, err := jobEndsToStart(ctx, m.setup.Journal, seen)
		if err != nil && ctx.Err() == nil {
			m.logger.Warn("job ends in the journal", "err", err.Error())
		}
		for _, job := range due {
			m.runServed(ctx, jobs, job, "JOB_END journaled by another instance")
		}
	}
}

// waitingJobEnds is what jobEndsToStart reads of the journal.
type waitingJobEnds interface {
	WaitingJobEnds(ctx context.Context, job string) ([]journal.JobEnd, error)
}

// jobEndsToStart returns the jobs (charges, credits) with a job end
// waiting for its file that was received after seen[job], and moves
// seen[job] to the latest of them: each job end starts its job once.
func jobEndsToStart(ctx context.Context, store waitingJobEnds, seen map[string]time.Time) ([]string, error) {
	var due []string
	for _, job := range []string{reconcile.JobCharges, reconcile.JobCredits} {
		ends, err := store.WaitingJobEnds(ctx, job)
		if err != nil {
			return due, err
		}
		latest := seen[job]
		for _, e := range ends {
			if e.Received.After(latest) {
				latest = e.Received
			}
		}
		if latest.After(seen[job]) {
			seen[job] = latest
			due = append(due, job)
		}
	}
	return due, nil
}
