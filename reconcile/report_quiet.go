package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// QuietFolder is an inbound folder that has had no new file for longer
// than its job's ExpectFilesWithin: the sender may have stopped, or
// writes somewhere else.
type QuietFolder struct {
	Job    string        // the job that reads the folder, e.g. "charges"
	Folder string        // the folder on its drop, e.g. "exports"
	Since  time.Time     // the newest file seen, or the job's first run when none was
	Within time.Duration // the job's ExpectFilesWithin
}

// activityStore is the part of a Store that tells when a job last saw a
// new file; journal.Journal has it. A Store without it watches nothing.
type activityStore interface {
	NoteRun(ctx context.Context, job string, at time.Time) error
	Activity(ctx context.Context, job string) (journal.Activity, error)
}

// inboundFolders are the watched jobs with their inbound folders.
func (o *Options) inboundFolders() []QuietFolder {
	return []QuietFolder{
		{Job: JobCharges, Folder: o.Folders.Exports},
		{Job: JobCredits, Folder: o.Folders.Credits},
		{Job: JobPayments, Folder: o.Folders.Payments},
	}
}

// quiet reports whether job's folder has been quiet for longer than
// within at now, and since when.
func quiet(ctx context.Context, st activityStore, job string, within time.Duration, now time.Time) (time.Time, bool, error) {
	a, err := st.Activity(ctx, job)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reconcile: %s: %w", job, err)
	}
	since := a.LastFile
	if since.IsZero() {
		since = a.FirstRun
	}
	if since.IsZero() {
		return since, false, nil
	}
	return since, now.Sub(since) > within, nil
}

// watchInbound notes the job's first run and logs a warning when its
// inbound folder dir has been quiet for longer than the job's
// ExpectFilesWithin. Jobs not watched, and stores that cannot tell, are
// left alone.
func (rn *runner) watchInbound(ctx context.Context, job, dir string) error {
	within := rn.opts.ExpectFilesWithin[job]
	st, ok := rn.store.(activityStore)
	if within <= 0 || !ok {
		return nil
	}
	now := rn.opts.Now()
	if !rn.opts.DryRun {
		if err := st.NoteRun(ctx, job, now); err != nil {
			return err
		}
	}
	since, late, err := quiet(ctx, st, job, within, now)
	if err != nil || !late {
		return err
	}
	rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: no new file in the inbound folder for longer than expected",
		slog.String("job", job), slog.String("folder", dir), slog.Time("since", since),
		slog.Duration("expect_files_within", within))
	return nil
}

// quietFolders lists the watched inbound folders quiet for longer than
// expected at at, for the report.
func (j *Jobs) quietFolders(ctx context.Context, at time.Time) ([]QuietFolder, error) {
	st, ok := j.deps.Journal.(activityStore)
	if !ok {
		return nil, nil
	}
	var out []QuietFolder
	for _, q := range j.opts.inboundFolders() {
		q.Within = j.opts.ExpectFilesWithin[q.Job]
		if q.Within <= 0 {
			continue
		}
		since, late, err := quiet(ctx, st, q.Job, q.Within, at)
		if err != nil {
			return nil, err
		}
		if late {
			q.Since = since
			out = append(out, q)
		}
	}
	return out, nil
}

// quietRows are the report's rows of the quiet folders.
func (r Report) quietRows() []reportRow {
	var out []reportRow
	for _, q := range r.Quiet {
		out = append(out, reportRow{Item: "No new file", Type: q.Job, File: q.Folder,
			What: fmt.Sprintf("No new %s file in the folder %s since %s (one is expected within %s).",
				q.Job, q.Folder, q.Since.Format("Monday 2 January 2006 15:04"), humanDuration(q.Within)),
			Do: "Check that the sender still delivers to this folder."})
	}
	return out
}

// humanDuration writes d in hours or days: "36 hours", "3 days".
func humanDuration(d time.Duration) string {
	h := int(d.Round(time.Hour) / time.Hour)
	switch {
	case h >= 48 && h%24 == 0:
		return fmt.Sprintf("%d days", h/24)
	case h == 1:
		return "1 hour"
	case h > 0:
		return fmt.Sprintf("%d hours", h)
	}
	return d.String()
}
