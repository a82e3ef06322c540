package reconcile

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// The outcomes of a run in the run history; see [RecordRun].
const (
	RunOK      = journal.RunOK
	RunHeld    = journal.RunHeld
	RunFailed  = journal.RunFailed
	RunPartial = journal.RunPartial
)

// RunRecorder keeps the run history: a *Journal is one.
type RunRecorder interface {
	AddRun(ctx context.Context, r journal.Run) (int64, error)
}

// RunRecord is one run of a job, as its runner describes it to
// [RecordRun].
type RunRecord struct {
	Job     string // the job's name: "charges", "report", …
	Who     string // what started it: "serve", "cli", "sandbox"
	Started time.Time
	Ended   time.Time
	// Result is what the run did. The report puts the files it wrote in
	// Files, the reconciliation the fees it compared in Records.
	Result RunResult
	Err    error // the run's error; nil when it ended
	// Partial says why the run did only part of its work (a report written
	// without Alma); "" when it did all of it.
	Partial string
}

// Run is the row of the run history that r becomes: its outcome is
// failed when r.Err is set, held when it held records or files back,
// partial when r.Partial says why it did only part of its work, ok
// otherwise; its amount is the result's total ("" when it has none).
func (r RunRecord) Run() journal.Run {
	run := journal.Run{Job: r.Job, Started: r.Started, Ended: r.Ended, Who: r.Who, Outcome: RunOK,
		Files: r.Result.Files, Records: r.Result.Records, Held: len(r.Result.Rejected) + len(r.Result.Failed),
		AlmaRemaining: -1}
	if r.Result.Total.Valid() {
		run.Amount = r.Result.Total.Amount()
	}
	switch {
	case IsQuota(r.Err):
		// Alma's daily quota: the work waits for it (quota.go).
		run.Outcome, run.Error = RunPartial, r.Err.Error()
	case r.Err != nil:
		run.Outcome, run.Error = RunFailed, r.Err.Error()
	case run.Held > 0:
		run.Outcome = RunHeld
	case r.Partial != "":
		run.Outcome, run.Error = RunPartial, r.Partial
	}
	return run
}

// RecordRun appends run r to the run history kept by to, so that the
// status page, health checks and metrics see every run, whoever started
// it. When ctx carries an [AlmaTally] (see [WithAlmaTally]), the run's
// Alma calls and the quota left are recorded with it.
func RecordRun(ctx context.Context, to RunRecorder, r RunRecord) (journal.Run, error) {
	run := r.Run()
	if t := almaTallyOf(ctx); t != nil {
		run.AlmaCalls, run.AlmaRemaining = t.Calls(), t.Remaining()
	}
	id, err := to.AddRun(context.WithoutCancel(ctx), run)
	run.ID = id
	return run, err
}

// AlmaTally counts the calls one run makes to Alma's API and keeps the
// quota its last answer said was left. It is safe for concurrent use.
type AlmaTally struct {
	calls     atomic.Int64
	remaining atomic.Int64
}

type almaTallyKey struct{}

// WithAlmaTally returns a context for one run that carries a new tally:
// the Alma client's observer adds each call made with it ([CountAlmaCall])
// and [RecordRun] records what it counted.
func WithAlmaTally(ctx context.Context) (context.Context, *AlmaTally) {
	t := &AlmaTally{}
	t.remaining.Store(-1)
	return context.WithValue(ctx, almaTallyKey{}, t), t
}

func almaTallyOf(ctx context.Context) *AlmaTally {
	t, _ := ctx.Value(almaTallyKey{}).(*AlmaTally)
	return t
}

// CountAlmaCall adds one call to Alma to the tally ctx carries, if any;
// remaining is what its answer said was left of the day's quota, -1 when
// it said nothing.
func CountAlmaCall(ctx context.Context, remaining int64) {
	t := almaTallyOf(ctx)
	if t == nil {
		return
	}
	t.calls.Add(1)
	if remaining >= 0 {
		t.remaining.Store(remaining)
	}
}

// Calls returns how many calls the tally counted.
func (t *AlmaTally) Calls() int { return int(t.calls.Load()) }

// Remaining returns the quota the last answer counted said was left; -1
// when none said.
func (t *AlmaTally) Remaining() int64 { return t.remaining.Load() }
