package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// The jobs feesync runs, by the name used in `feesync run NAME`, in the
// config's [schedules] and on the status page.
const (
	jobCharges   = "charges"
	jobPayments  = "payments"
	jobCredits   = "credits"
	jobReport    = "report"
	jobReconcile = "reconcile"
	jobResults   = "results"
)

// jobRun is what one run of a job did, for the summary line, the exit
// code and the journal's run history (which the status page shows).
type jobRun struct {
	Job      string
	Start    time.Time
	Duration time.Duration
	DryRun   bool

	Files     int
	Records   int
	Skipped   int
	Confirmed int // the results job's: lines the bursar's load posted
	Total     string
	amount    fees.Money // Total, for the run history
	Outputs   []string
	Rejected  []reconcile.Rejection
	Failed    []reconcile.FileFailure
	// Waiting are the files left for a later run: not yet complete, or
	// changed while read (see reconcile.ClaimRule).
	Waiting []reconcile.FileFailure

	Exceptions    int    // the report's
	Partial       string // the report's: why it was written without Alma; "" when whole
	Students      int    // the reconciliation's: compared, and left out as quiet
	Quiet         int
	Disagreements []reconcile.Disagreement
	Err           error
}

// Held reports how many records or files the run held back.
func (r *jobRun) Held() int { return len(r.Rejected) + len(r.Failed) }

// needsAlma tells which jobs call Alma's API.
func needsAlma(job string) bool { return job == jobReport || job == jobReconcile }

// runJob returns the body of `feesync run NAME` and `feesync reconcile`.
func runJob(name string) func(*Main, context.Context) error {
	return func(m *Main, ctx context.Context) error {
		jobs, err := m.openJobs(ctx, needsAlma(name))
		if err != nil {
			return err
		}
		r := m.runOnce(ctx, jobs, name)
		m.report(r)
		m.alertAfter(ctx, r)
		return r.exitErr()
	}
}

// runOnce runs job name once and describes the run.
func (m *Main) runOnce(ctx context.Context, jobs *reconcile.Jobs, name string) *jobRun {
	r := &jobRun{Job: name, Start: m.Now(), DryRun: m.dryRun}
	ctx, _ = reconcile.WithAlmaTally(ctx) // the run's Alma calls, for its history
	m.logger.Info("job start", "job", name, "dry_run", m.dryRun)
	var res reconcile.RunResult
	var err error
	switch name {
	case jobCharges:
		res, err = jobs.Charges(ctx)
	case jobPayments:
		res, err = jobs.Payments(ctx)
	case jobCredits:
		res, err = jobs.Credits(ctx)
	case jobResults:
		if m.config.PeopleSoft.ResultsFolder == "" {
			err = errors.New("run results: peoplesoft.results_folder is not set in the config: the load's results are not read")
			break
		}
		res, err = jobs.Results(ctx)
	case jobReport:
		var rr reconcile.ReportResult
		rr, err = jobs.Report(ctx)
		r.Exceptions = rr.Report.Exceptions()
		r.Partial = rr.Report.PartialReason
		r.Outputs = rr.Files
		r.Files = len(rr.Files)
	case jobReconcile:
		var rec reconcile.Reconciliation
		rec, err = jobs.Reconcile(ctx, nil)
		r.Records = rec.Fees
		r.Students, r.Quiet = rec.Students, rec.Quiet
		r.Disagreements = rec.Disagreements
	default:
		err = fmt.Errorf("unknown job %q", name)
	}
	r.fill(res)
	r.Duration = m.Now().Sub(r.Start)
	if reconcile.IsQuota(err) && r.Partial == "" {
		// Deferred for Alma's daily quota, not failed: the next run does it.
		r.Partial, err = err.Error(), nil
	}
	r.Err = m.config.FolderError(err)
	m.recordRun(ctx, r)
	return r
}

// redrive sends again the records the journal holds as rejected, of the
// kinds named (charge, credit, payment; all three by default); "redrive
// event [ID]" runs the failed webhook events again instead.
func (m *Main) redrive(ctx context.Context) error {
	if len(m.args) > 0 && m.args[0] == reconcile.KindEvent {
		return m.redriveEvents(ctx, m.args[1:])
	}
	kinds := m.args
	if len(kinds) > 0 && !isKind(kinds[0]) {
		return m.redriveKeys(ctx, m.args)
	}
	if len(kinds) == 0 {
		kinds = []string{reconcile.KindCharge, reconcile.KindCredit, reconcile.KindPayment}
	}
	for _, k := range kinds {
		switch k {
		case reconcile.KindCharge, reconcile.KindCredit, reconcile.KindPayment, reconcile.KindRefund:
		default:
			return usagef("redrive: %q is not charge, credit, payment, refund or event", k)
		}
	}
	jobs, err := m.openJobs(ctx, false)
	if err != nil {
		return err
	}
	return m.redriveKinds(kinds, func(k string) (reconcile.RunResult, error) { return jobs.Redrive(ctx, k) })
}

// redriveKinds runs redrive for each kind in turn, reports each run, and
// returns their failures joined, or a RejectedError when records were
// held again.
func (m *Main) redriveKinds(kinds []string, redrive func(kind string) (reconcile.RunResult, error)) error {
	var errs []error
	held := 0
	for _, k := range kinds {
		r := &jobRun{Job: "redrive " + k, Start: m.Now(), DryRun: m.dryRun}
		res, err := redrive(k)
		r.fill(res)
		r.Duration = m.Now().Sub(r.Start)
		r.Err = m.config.FolderError(err)
		m.report(r)
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
		held += r.Held()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if held > 0 {
		return &RejectedError{Command: "redrive", Rejected: held}
	}
	return nil
}

// redriveEvents makes the failed webhook events pending again, the one
// named or all, for the events worker of feesync serve to handle (at
// once, when serve runs; else when it next starts).
func (m *Main) redriveEvents(ctx context.Context, ids []string) error {
	if len(ids) > 1 {
		return usagef("redrive event: one event id at most, got %d", len(ids))
	}
	id := ""
	if len(ids) == 1 {
		id = ids[0]
	}
	jobs, err := m.openJobs(ctx, false)
	if err != nil {
		return err
	}
	n, err := jobs.RedriveEvents(ctx, id)
	if err != nil {
		return err
	}
	m.logger.Info("redrive events", "events", n, "event", id, "dry_run", m.dryRun)
	fmt.Fprintf(m.Stdout, "%d failed webhook events made pending again; feesync serve handles them\n", n)
	if id != "" && n == 0 {
		return fmt.Errorf("redrive event: the journal has no failed event %q (unknown, pending or done)", id)
	}
	return nil
}

func (r *jobRun) fill(res reconcile.RunResult) {
	if res.Files > 0 || res.Records > 0 || res.Outputs != nil || res.Rejected != nil || res.Failed != nil {
		r.Files, r.Records, r.Skipped = res.Files, res.Records, res.Skipped
		r.Outputs, r.Rejected, r.Failed = res.Outputs, res.Rejected, res.Failed
	}
	r.Waiting, r.Confirmed = res.Waiting, res.Confirmed
	if res.Total.Valid() {
		r.Total = res.Total.String()
		r.amount = res.Total
	}
}

// report lists the run's rejections on stderr as FILE:LINE: KEY: reason,
// its failed files as FILE: failed: reason, and logs the summary line.
// With format = "json" each of those is a log record instead, so that
// stderr stays JSON throughout.
func (m *Main) report(r *jobRun) {
	for _, rj := range r.Rejected {
		m.rejected(rj.File, rj.Line, rj.Key, rj.Reason)
	}
	for _, f := range r.Failed {
		if m.jsonLog() {
			m.logger.Warn("file failed", "job", r.Job, "file", f.File, "reason", f.Reason)
			continue
		}
		fmt.Fprintf(m.Stderr, "%s: failed: %s\n", f.File, f.Reason)
	}
	for _, f := range r.Waiting {
		if m.jsonLog() {
			m.logger.Info("file waiting", "job", r.Job, "file", f.File, "reason", f.Reason)
			continue
		}
		fmt.Fprintf(m.Stderr, "%s: waiting: %s\n", f.File, f.Reason)
	}
	m.printDisagreements(r.Disagreements)
	attrs := []any{"job", r.Job, "dry_run", r.DryRun, "files", r.Files, "records", r.Records, "skipped", r.Skipped}
	if r.Total != "" {
		attrs = append(attrs, "total", r.Total)
	}
	attrs = append(attrs, "rejected", len(r.Rejected), "failed_files", len(r.Failed))
	if len(r.Waiting) > 0 {
		attrs = append(attrs, "waiting_files", len(r.Waiting))
	}
	if r.Job == jobResults {
		// The lines the load posted; those it refused are the rejected.
		attrs = append(attrs, "confirmed", r.Confirmed)
	}
	attrs = append(attrs, "duration", r.Duration.Round(time.Millisecond).String())
	switch r.Job {
	case jobReport:
		attrs = append(attrs, "exceptions", r.Exceptions)
		if r.Partial != "" {
			attrs = append(attrs, "partial", r.Partial)
		}
	case jobReconcile:
		attrs = append(attrs, "students", r.Students, "quiet", r.Quiet, "disagreements", len(r.Disagreements))
	}
	if len(r.Outputs) > 0 {
		attrs = append(attrs, "outputs", strings.Join(r.Outputs, ","))
	}
	if r.Err != nil {
		m.logger.Error("job failed", append(attrs, "err", r.Err.Error())...)
		return
	}
	if r.Partial != "" {
		m.logger.Warn("job done: partial report", attrs...)
		return
	}
	m.logger.Info("job done", attrs...)
}

// rejected lists one record held back: FILE:LINE: KEY: reason on stderr,
// or a log record when the log is JSON.
func (m *Main) rejected(file string, line int, key, reason string) {
	if m.jsonLog() {
		m.logger.Warn("record rejected", "file", file, "line", line, "key", key, "reason", reason)
		return
	}
	if key == "" {
		key = "-"
	}
	fmt.Fprintf(m.Stderr, "%s:%d: %s: %s\n", file, line, key, reason)
}

// exitErr is the error a command returns for the run: its failure, a
// *RejectedError when it held records or files back (or, for reconcile,
// found disagreements), or nil.
func (r *jobRun) exitErr() error {
	switch {
	case errors.Is(r.Err, reconcile.ErrLocked):
		return fmt.Errorf("%s: another run of this job is in progress: %w", r.Job, r.Err)
	case r.Err != nil:
		return fmt.Errorf("%s: %w", r.Job, r.Err)
	case r.Held() > 0:
		return &RejectedError{Command: "run " + r.Job, Rejected: r.Held()}
	case len(r.Disagreements) > 0:
		return &RejectedError{Command: r.Job, Rejected: len(r.Disagreements), What: "disagreements between Alma and the bursar"}
	}
	return nil
}

// maskIf is fees.MaskID(id) when mask is set, else id.
func maskIf(id string, mask bool) string {
	if mask {
		return fees.MaskID(id)
	}
	return id
}

// openJobs opens the jobs of the config (reconcile/config does it all);
// withAlma adds the Alma API, which needs the API key. Everything opened
// is closed by m.Close.
func (m *Main) openJobs(ctx context.Context, withAlma bool) (*reconcile.Jobs, error) {
	var quietAfter time.Duration // reconcile's default
	cfg := m.config
	if m.all {
		quietAfter = -1
		// Fee by fee: the open fees report shows open fees only, and as
		// of Analytics' last refresh.
		c := *m.config
		c.Alma.FeesReport = ""
		cfg = &c
	}
	setup, err := config.Open(ctx, cfg, &config.Options{
		Getenv:     m.Getenv,
		Now:        m.Now,
		Logger:     m.logger,
		DryRun:     m.dryRun,
		QuietAfter: quietAfter,
		NoAlma:     !withAlma,
		Sleep:      m.Sleep,
		// This process's calls to Alma, for /metrics.
		AlmaObserve: m.almaMetrics().Observe,
	})
	if err != nil {
		return nil, err
	}
	m.onClose(setup.Close)
	m.setup = setup
	return setup.Jobs, nil
}

// logAttr is a slog attribute list helper for errors that may be nil.
func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String("err", err.Error())
}
