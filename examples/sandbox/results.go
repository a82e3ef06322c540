package main

import (
	"context"

	"github.com/feebridge/feebridge/reconcile"
)

// resultsFolder is where the simulated PeopleSoft leaves the results of
// each load, on its drop: the week's students unknown to PeopleSoft at
// first have their charges refused there (examples/district, refusals.go).
const resultsFolder = "results"

// Results runs feesync's results job, as `feesync run results` does.
func (r jobRuns) Results(ctx context.Context) (res reconcile.RunResult, err error) {
	err = r.d.run(ctx, "results", func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Results(ctx)
		return res, err
	})
	return res, err
}

// Redrive sends the held records of kind again, as `feesync redrive KIND`
// does.
func (r jobRuns) Redrive(ctx context.Context, kind string) (res reconcile.RunResult, err error) {
	err = r.d.run(ctx, "redrive-"+kind, func(ctx context.Context, j *reconcile.Jobs) (reconcile.RunResult, error) {
		res, err = j.Redrive(ctx, kind)
		return res, err
	})
	return res, err
}
