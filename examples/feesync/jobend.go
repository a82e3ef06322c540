package main

import (
	"context"
	"sync"

	"github.com/feebridge/feebridge/reconcile"
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
// once the last has finished.
func (m *Main) runJobEndStarts(ctx context.Context, jobs *reconcile.Jobs) {
	starts := jobs.JobEndStarts()
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-starts:
			m.runServed(ctx, jobs, job, "JOB_END of the export")
		}
	}
}
