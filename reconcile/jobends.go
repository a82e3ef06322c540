package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// Alma tells when one of its jobs ends (a JOB_END webhook), with the job's
// status and counters. When the job is the export to bursar (or the
// export of credits) named in Options.ExportJob (CreditExportJob) and it
// ended well, [Jobs.ReceiveJobEnd] journals it and asks for the charges
// (credits) job to run at once ([Jobs.JobEndStarts]); the job's own
// schedule stays as the fallback, and whichever run comes second finds
// nothing new, since the first claimed the file.
//
// The counts of the job end (the users and the fines and fees it
// exported) are checked against the export file the job then reads: a
// file that holds fewer or more records, or users, is not applied. It
// goes to failed/ with both counts in its reason, nothing of it charged.
// Which file a job end stands for: the one whose name carries the job
// instance's id (Alma names its files <profile>-<id>-<time>.xml); else,
// for a name of Alma's form, the earliest job end still waiting that
// ended no earlier than the time in the name (those that ended before it
// can no longer have a file of their own and are set aside as stale);
// for a name of another form, the earliest job end still waiting. A file
// no job end stands for (none configured, or the event never came) is
// applied as before, without a count check.

// JobEnd is a JOB_END as the journal keeps it; see [journal.JobEnd].
type JobEnd = journal.JobEnd

// The results of a job end's count check; see package journal.
const (
	JobEndAgreed    = journal.JobEndAgreed
	JobEndDisagreed = journal.JobEndDisagreed
	JobEndNoFile    = journal.JobEndNoFile
	JobEndStale     = journal.JobEndStale
)

// JobEndEvent is the end of one of Alma's jobs, as a JOB_END webhook
// tells it.
type JobEndEvent struct {
	EventID    string // the delivery's id
	InstanceID string // this run of the job
	JobID      string // the job, the same every run
	Name       string
	Status     string // such as COMPLETED_SUCCESS
	StatusDesc string
	// Succeeded says the job ended well; Failed that it failed or was
	// cancelled (a job with nothing to do is neither).
	Succeeded, Failed bool
	Started, Ended    time.Time
	// Users and Records are the users and the fines and fees the job
	// exported; -1 when it did not say.
	Users, Records int64
	Counters       map[string]int64
}

// jobEndStore is what the job ends need of the journal, beyond Store; a
// store without it keeps no job ends and checks no counts.
type jobEndStore interface {
	AddJobEnd(ctx context.Context, e journal.JobEnd) (bool, error)
	GetJobEnd(ctx context.Context, instance string) (journal.JobEnd, bool, error)
	JobEndOfFile(ctx context.Context, job, name string) (journal.JobEnd, bool, error)
	WaitingJobEnds(ctx context.Context, job string) ([]journal.JobEnd, error)
	SetJobEndResult(ctx context.Context, instance, file string, users, records int64, result string) error
	JobEnds(ctx context.Context, from, to time.Time) ([]journal.JobEnd, error)
}

// jobOfEnd is the feesync job the Alma job of e feeds: JobCharges for
// Options.ExportJob, JobCredits for CreditExportJob, matched on the job's
// name (without regard to case) or on its id; "" for another job.
func (j *Jobs) jobOfEnd(name, jobID string) string {
	for _, c := range []struct{ want, job string }{{j.opts.ExportJob, JobCharges}, {j.opts.CreditExportJob, JobCredits}} {
		w := strings.TrimSpace(c.want)
		if w != "" && (strings.EqualFold(w, strings.TrimSpace(name)) || w == jobID) {
			return c.job
		}
	}
	return ""
}

// ReceiveJobEnd journals the end of an Alma job and returns the feesync
// job to start now (JobCharges, JobCredits), or "" when none: the job is
// not one feesync follows, it did not end well, it exported nothing, or
// the journal had the event already (Alma delivering it again). The job
// to start is also sent on [Jobs.JobEndStarts]. A job that failed or was
// cancelled is logged and journaled for the report and the metrics. It
// fails when the journal does, or, wrapping [ErrPermanent], for an event
// without an instance id. In a dry run nothing is journaled or started.
func (j *Jobs) ReceiveJobEnd(ctx context.Context, ev JobEndEvent) (start string, err error) {
	if ev.InstanceID == "" {
		return "", Permanent(errors.New("reconcile: job end without an instance id"))
	}
	js, ok := j.deps.Journal.(jobEndStore)
	if !ok {
		return "", errors.New("reconcile: job ends: the journal keeps none")
	}
	job := j.jobOfEnd(ev.Name, ev.JobID)
	e := journal.JobEnd{InstanceID: ev.InstanceID, EventID: ev.EventID, Job: job, JobID: ev.JobID, Name: ev.Name,
		Status: ev.Status, StatusDesc: ev.StatusDesc, Users: ev.Users, Records: ev.Records, Counters: ev.Counters,
		Started: ev.Started, Ended: ev.Ended, Received: j.opts.Now(), FileUsers: -1, FileRecords: -1}
	if e.Counters == nil {
		e.Counters = map[string]int64{}
	}
	if !ev.Succeeded || ev.Records <= 0 {
		e.Result = JobEndNoFile // no file to check: none, or no count
	}
	level := slog.LevelInfo
	if ev.Failed {
		level = slog.LevelWarn
	}
	j.log.LogAttrs(ctx, level, "reconcile: Alma job ended", slog.String("job", ev.Name), slog.String("instance", ev.InstanceID),
		slog.String("status", ev.Status), slog.Int64("records", ev.Records), slog.Int64("users", ev.Users), slog.String("starts", job))
	if j.opts.DryRun {
		return "", nil
	}
	added, err := js.AddJobEnd(ctx, e)
	if err != nil || !added || job == "" || !ev.Succeeded || ev.Records == 0 {
		return "", err
	}
	select {
	case j.starts <- job:
	default: // a start is pending already; that run reads every file
	}
	return job, nil
}

// JobEndStarts delivers the feesync jobs that a job end asked to start
// at once (JobCharges, JobCredits). A long-running process runs each
// through the path its schedule uses, so that the two never overlap.
func (j *Jobs) JobEndStarts() <-chan string { return j.starts }

// countCheck is what a job end says a file holds, and what the file was
// seen to hold.
type countCheck struct {
	end   journal.JobEnd
	file  string
	users map[string]bool
	recs  int64
}

func (c *countCheck) saw(user string) {
	c.recs++
	c.users[user] = true
}

// CountMismatchError is why a file that disagrees with its job end's
// counts was not applied.
type CountMismatchError struct {
	File, Job, Instance        string
	WantRecords, WantUsers     int64 // -1: the job did not say
	RecordsInFile, UsersInFile int64
}

func (e *CountMismatchError) Error() string {
	want := fmt.Sprintf("%d fines and fees", e.WantRecords)
	if e.WantUsers >= 0 {
		want += fmt.Sprintf(" of %d users", e.WantUsers)
	}
	return fmt.Sprintf("%s: Alma's job %q (instance %s) said it exported %s, but the file holds %d records of %d users: "+
		"not applied, nothing of it charged; check the export in Alma (Monitor Jobs) and run it again",
		e.File, e.Job, e.Instance, want, e.RecordsInFile, e.UsersInFile)
}

// mismatch returns the error of a file that disagrees with its job end,
// or nil.
func (c *countCheck) mismatch() error {
	users := int64(len(c.users))
	if c.recs == c.end.Records && (c.end.Users < 0 || users == c.end.Users) {
		return nil
	}
	return &CountMismatchError{File: c.file, Job: c.end.Name, Instance: c.end.InstanceID,
		WantRecords: c.end.Records, WantUsers: c.end.Users, RecordsInFile: c.recs, UsersInFile: users}
}

// expectCounts finds the job end that the file name of job stands for
// (see the rule above), ties it to the file, and returns the check to
// make; nil when none stands for it.
func (j *Jobs) expectCounts(ctx context.Context, job, name string) (*countCheck, error) {
	js, ok := j.deps.Journal.(jobEndStore)
	if !ok {
		return nil, nil
	}
	e, found, err := js.JobEndOfFile(ctx, job, name)
	if err != nil || found && e.Records < 0 {
		return nil, err
	}
	if !found {
		if e, found, err = j.pickJobEnd(ctx, js, job, name); err != nil || !found {
			return nil, err
		}
		if !j.opts.DryRun {
			if err := js.SetJobEndResult(ctx, e.InstanceID, name, -1, -1, ""); err != nil {
				return nil, err
			}
		}
	}
	return &countCheck{end: e, file: name, users: map[string]bool{}}, nil
}

// pickJobEnd chooses among the job ends of job waiting for their file.
func (j *Jobs) pickJobEnd(ctx context.Context, js jobEndStore, job, name string) (journal.JobEnd, bool, error) {
	waiting, err := js.WaitingJobEnds(ctx, job)
	if err != nil || len(waiting) == 0 {
		return journal.JobEnd{}, false, err
	}
	var id string
	var at time.Time
	if j.opts.FileJobID != nil {
		id, at = j.opts.FileJobID(name)
	}
	if id == "" {
		return waiting[0], true, nil
	}
	for _, e := range waiting {
		if e.InstanceID == id {
			return e, true, nil
		}
	}
	for _, e := range waiting {
		if !e.Ended.IsZero() && e.Ended.Before(at) {
			// It ended before this file was written: its own file came
			// before the event, or never.
			if !j.opts.DryRun {
				if err := js.SetJobEndResult(ctx, e.InstanceID, "", -1, -1, JobEndStale); err != nil {
					return journal.JobEnd{}, false, err
				}
			}
			continue
		}
		return e, true, nil
	}
	return journal.JobEnd{}, false, nil
}

// recordCounts writes the outcome of the check c after the decision of
// its file ended with err: agreed, disagreed, or (any other error) left
// for the next try.
func (j *Jobs) recordCounts(ctx context.Context, c *countCheck, err error) error {
	if c == nil || j.opts.DryRun {
		return nil
	}
	var cm *CountMismatchError
	result := JobEndAgreed
	switch {
	case errors.As(err, &cm):
		result = JobEndDisagreed
	case err != nil:
		return nil
	}
	return c.endResult(ctx, j.deps.Journal.(jobEndStore), result)
}

func (c *countCheck) endResult(ctx context.Context, js jobEndStore, result string) error {
	return js.SetJobEndResult(ctx, c.end.InstanceID, c.file, int64(len(c.users)), c.recs, result)
}

// FailedAlmaJobs returns the job ends received in [from, to) of jobs that
// failed or were cancelled, for the report.
func (j *Jobs) FailedAlmaJobs(ctx context.Context, from, to time.Time) ([]JobEnd, error) {
	js, ok := j.deps.Journal.(jobEndStore)
	if !ok {
		return nil, nil
	}
	es, err := js.JobEnds(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []JobEnd
	for _, e := range es {
		if JobEndFailed(e.Status) {
			out = append(out, e)
		}
	}
	return out, nil
}

// JobEndFailed reports whether an Alma job that ended with status failed
// or was cancelled: it neither completed (COMPLETED_SUCCESS,
// COMPLETED_WARNING) nor had nothing to do (COMPLETED_NO_BULKS).
func JobEndFailed(status string) bool {
	switch status {
	case "COMPLETED_SUCCESS", "COMPLETED_WARNING", "COMPLETED_NO_BULKS":
		return false
	}
	return true
}
