package main

import (
	"github.com/feebridge/feebridge/alma/almatest"
	sim "github.com/feebridge/feebridge/examples/district"
)

// jobEndNames are the names of the fake Alma's export jobs, as feesync's
// config names them (alma.export_job, alma.credit_export_job) under
// -job-end.
func jobEndNames() (export, credits string) {
	return almatest.ExportJobName(sim.Profile), almatest.CreditExportJobName(sim.Profile)
}

var _ sim.JobEndStarter = jobRuns{}

// JobEndStarts returns the jobs that the JOB_END deliveries journaled
// since the last call asked to start (reconcile.Jobs.JobEndStarts): what
// feesync serve's runJobEndStarts runs as they come.
func (r jobRuns) JobEndStarts() []string {
	ch := r.d.currentJobs().JobEndStarts()
	var out []string
	for {
		select {
		case job := <-ch:
			out = append(out, job)
		default:
			return out
		}
	}
}
