package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NoteQuotaPeak keeps remaining as the peak of day (a date in Alma's
// zone, "2006-01-02") when it is higher than the peak kept: the highest
// X-Exl-Api-Remaining heard on a day is close to that day's quota.
func (j *Journal) NoteQuotaPeak(ctx context.Context, day string, remaining int64) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO alma_quota_days (day, peak) VALUES (?, ?)
		ON CONFLICT(day) DO UPDATE SET peak = CASE WHEN excluded.peak > alma_quota_days.peak THEN excluded.peak ELSE alma_quota_days.peak END`, day, remaining)
	if err != nil {
		return fmt.Errorf("journal: alma quota: %w", err)
	}
	return nil
}

// QuotaPeak returns the newest day kept before the day before (both
// "2006-01-02") and its peak; ok is false when none is kept.
func (j *Journal) QuotaPeak(ctx context.Context, before string) (day string, peak int64, ok bool, err error) {
	err = j.db.QueryRowContext(ctx, `SELECT day, peak FROM alma_quota_days WHERE day < ? ORDER BY day DESC LIMIT 1`,
		before).Scan(&day, &peak)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", 0, false, nil
	case err != nil:
		return "", 0, false, fmt.Errorf("journal: alma quota: %w", err)
	}
	return day, peak, true, nil
}

// QuotaNote is the last time a job deferred work, or paused, for Alma's
// daily quota.
type QuotaNote struct {
	Job       string
	At        time.Time
	Remaining int64     // the calls Alma said were left
	Reserve   int64     // the reserve kept for the work that cannot wait
	Until     time.Time // when the pause ends; zero for a deferral
	What      string    // what was deferred or stopped, in plain words
}

// PutQuotaNote keeps n as the last note of its job, replacing the one
// kept.
func (j *Journal) PutQuotaNote(ctx context.Context, n QuotaNote) error {
	until := ""
	if !n.Until.IsZero() {
		until = formatTime(n.Until)
	}
	_, err := j.db.ExecContext(ctx, `INSERT INTO alma_quota_notes (job, at, remaining, reserve, until, what)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(job) DO UPDATE SET at = excluded.at, remaining = excluded.remaining,
		reserve = excluded.reserve, until = excluded.until, what = excluded.what`, n.Job, formatTime(j.at(n.At)), n.Remaining, n.Reserve, until, n.What)
	if err != nil {
		return fmt.Errorf("journal: alma quota note: %w", err)
	}
	return nil
}

// QuotaNotes returns the notes kept at or after since, oldest first.
func (j *Journal) QuotaNotes(ctx context.Context, since time.Time) ([]QuotaNote, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT job, at, remaining, reserve, until, what FROM alma_quota_notes
		WHERE at >= ? ORDER BY at, job`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("journal: alma quota notes: %w", err)
	}
	defer rows.Close()
	var out []QuotaNote
	for rows.Next() {
		var n QuotaNote
		var at, until string
		if err := rows.Scan(&n.Job, &at, &n.Remaining, &n.Reserve, &until, &n.What); err != nil {
			return nil, fmt.Errorf("journal: alma quota notes: %w", err)
		}
		n.At = parseTime(at)
		if until != "" {
			n.Until = parseTime(until)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: alma quota notes: %w", err)
	}
	return out, nil
}
