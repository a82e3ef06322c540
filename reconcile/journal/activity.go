package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Activity is what the journal knows of a job's inbound folder: when the
// job first ran with a watch on it (see [Journal.NoteRun]) and when it
// last saw a new file there. Either is zero when unknown.
type Activity struct {
	FirstRun time.Time
	LastFile time.Time
}

// NoteRun records at as the first run of job, unless one is recorded.
func (j *Journal) NoteRun(ctx context.Context, job string, at time.Time) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO job_runs (job, first_run) VALUES (?, ?) ON CONFLICT DO NOTHING`, job, formatTime(j.at(at)))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Activity returns the first run of job and when the newest of its files
// was first decided (a duplicate or a failed file counts: it was
// delivered).
func (j *Journal) Activity(ctx context.Context, job string) (Activity, error) {
	var first, last sql.NullString
	err := j.db.QueryRowContext(ctx, `SELECT (SELECT first_run FROM job_runs WHERE job = ?),
		(SELECT MAX(decided_at) FROM files WHERE job = ?)`, job, job).Scan(&first, &last)
	if err != nil {
		return Activity{}, fmt.Errorf("journal: %w", err)
	}
	var a Activity
	if first.Valid {
		a.FirstRun = parseTime(first.String)
	}
	if last.Valid {
		a.LastFile = parseTime(last.String)
	}
	return a, nil
}
