package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Alert is one open problem that was alerted: a job failing, a run
// holding records, a schedule overdue.
type Alert struct {
	// Key names the problem, such as "failed:charges".
	Key string
	// Summary is what the alert said.
	Summary string
	// Opened is when it was first seen, Seen when last.
	Opened, Seen time.Time
	// Count is how many times it was seen while open.
	Count int
}

// OpenAlert records that the problem key is seen at at. It returns true
// when the problem was not open (the caller alerts), false when it was
// (only its count and last sighting change).
func (j *Journal) OpenAlert(ctx context.Context, key, summary string, at time.Time) (opened bool, err error) {
	ts := formatTime(j.at(at))
	res, err := j.db.ExecContext(ctx, `INSERT INTO alerts (key, summary, opened_at, seen_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(key) DO NOTHING`, key, summary, ts, ts)
	if err != nil {
		return false, fmt.Errorf("journal: open alert %s: %w", key, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := j.db.ExecContext(ctx, `UPDATE alerts SET seen_at = ?, count = count + 1 WHERE key = ?`, ts, key); err != nil {
		return false, fmt.Errorf("journal: open alert %s: %w", key, err)
	}
	return false, nil
}

// CloseAlert removes the open problem key and returns it, with true; false
// when none was open under key.
func (j *Journal) CloseAlert(ctx context.Context, key string) (Alert, bool, error) {
	a := Alert{Key: key}
	var opened, seen string
	err := j.db.write(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `DELETE FROM alerts WHERE key = ? RETURNING summary, opened_at, seen_at, count`, key).
			Scan(&a.Summary, &opened, &seen, &a.Count)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, false, nil
	}
	if err != nil {
		return Alert{}, false, fmt.Errorf("journal: close alert %s: %w", key, err)
	}
	a.Opened, a.Seen = parseTime(opened), parseTime(seen)
	return a, true, nil
}

// Alerts returns the open problems, by key.
func (j *Journal) Alerts(ctx context.Context) ([]Alert, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT key, summary, opened_at, seen_at, count FROM alerts ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("journal: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var opened, seen string
		if err := rows.Scan(&a.Key, &a.Summary, &opened, &seen, &a.Count); err != nil {
			return nil, fmt.Errorf("journal: alerts: %w", err)
		}
		a.Opened, a.Seen = parseTime(opened), parseTime(seen)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: alerts: %w", err)
	}
	return out, nil
}
