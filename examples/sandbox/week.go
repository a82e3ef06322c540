package main

import (
	"context"

	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// week plays the days on the simulated clock (package examples/district),
// with feesync's jobs on their schedules.
func (d *district) week(ctx context.Context) error {
	// feesync's default schedules; what Alma, PeopleSoft, the students
	// and the staff do around them is the district's own.
	return d.sim.Week(ctx, jobRuns{d}, sim.Schedules{
		Charges: config.ChargesSchedule, Payments: config.PaymentsSchedule, Credits: config.CreditsSchedule,
		Reconcile: config.ReconcileSchedule, Report: config.ReportSchedule, Results: config.ResultsSchedule,
	})
}

// summary prints the table per flow and the reconciliation, and reports
// whether the week ended reconciled.
func (d *district) summary(ctx context.Context) (bool, error) {
	return d.sim.Summary(ctx, jobRuns{d})
}

// jobRuns are feesync's jobs as the district runs them: each run through
// run, which restarts feesync when a fault stopped the job.
type jobRuns struct{ d *district }

var _ sim.Feesync = jobRuns{}

func (r jobRuns) Charges(ctx context.Context) (reconcile.RunResult, error) {
	return r.d.chargesJob(ctx)
}
func (r jobRuns) Payments(ctx context.Context) (reconcile.RunResult, error) {
	return r.d.paymentsJob(ctx)
}
func (r jobRuns) Credits(ctx context.Context) (reconcile.RunResult, error) {
	return r.d.creditsJob(ctx)
}
func (r jobRuns) Report(ctx context.Context) (reconcile.ReportResult, error) {
	return r.d.reportJob(ctx)
}
func (r jobRuns) Reconcile(ctx context.Context, b reconcile.BursarBalances) (reconcile.Reconciliation, error) {
	return r.d.reconcileJob(ctx, b)
}
func (r jobRuns) Journal() *reconcile.Journal { return r.d.currentJournal() }

// ---- feesync's jobs -------------------------------------------------------

func (d *district) chargesJob(ctx context.Context) (res reconcile.RunResult, err error) {
	err = d.run(ctx, "charges", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Charges(ctx)
		return res, err
	})
	return res, err
}

func (d *district) paymentsJob(ctx context.Context) (res reconcile.RunResult, err error) {
	err = d.run(ctx, "payments", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Payments(ctx)
		return res, err
	})
	return res, err
}

func (d *district) creditsJob(ctx context.Context) (res reconcile.RunResult, err error) {
	err = d.run(ctx, "credits", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Credits(ctx)
		return res, err
	})
	return res, err
}

func (d *district) reconcileJob(ctx context.Context, b reconcile.BursarBalances) (rec reconcile.Reconciliation, err error) {
	err = d.run(ctx, "reconcile", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		rec, err = j.Reconcile(ctx, b)
		return reconcile.RunResult{Records: rec.Fees}, err // as feesync records it
	})
	return rec, err
}

func (d *district) reportJob(ctx context.Context) (res reconcile.ReportResult, err error) {
	err = d.run(ctx, "report", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Report(ctx)
		return reconcile.RunResult{Files: len(res.Files)}, err // as feesync records it
	})
	return res, err
}
