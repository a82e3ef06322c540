package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// The outcomes of a [Run].
const (
	RunOK     = "ok"     // the run ended without error and held nothing
	RunHeld   = "held"   // the run ended, holding records or files back
	RunFailed = "failed" // the run ended with an error
	// RunPartial: the run ended having done part of its work, such as a
	// report written from the journal alone while Alma could not be reached.
	RunPartial = "partial"
)

// Run is one run of a job, as the run history keeps it.
type Run struct {
	ID      int64
	Job     string
	Started time.Time
	Ended   time.Time
	Outcome string // RunOK, RunHeld or RunFailed
	Files   int
	Records int
	Held    int
	Amount  string // the run's total, a decimal; "" when it has none
	Error   string
	Who     string // what started it: "serve", "cli" or "sandbox"
	// AlmaCalls is how many HTTP attempts the run made to Alma's API.
	AlmaCalls int
	// AlmaRemaining is the calls left in the institution's daily quota,
	// as Alma's last answer to the run said (X-Exl-Api-Remaining); -1
	// when no answer said.
	AlmaRemaining int64
}

// AddRun appends r to the run history and returns its id.
func (j *Journal) AddRun(ctx context.Context, r Run) (int64, error) {
	var id int64
	err := j.db.write(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `INSERT INTO runs
		(job, started, ended, outcome, files, records, held, amount, error, who, alma_calls, alma_remaining)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Job, formatTime(r.Started), formatTime(r.Ended), r.Outcome,
			r.Files, r.Records, r.Held, r.Amount, r.Error, r.Who, r.AlmaCalls, r.AlmaRemaining).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("journal: run of %s: %w", r.Job, err)
	}
	return id, nil
}

// Runs returns the newest runs of job (of every job when job is ""),
// newest first, at most limit of them (all when limit <= 0).
func (j *Journal) Runs(ctx context.Context, job string, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = math.MaxInt64 // SQLite's LIMIT -1; PostgreSQL refuses a negative limit
	}
	rows, err := j.db.QueryContext(ctx, `SELECT id, job, started, ended, outcome, files, records, held, amount, error, who,
		alma_calls, alma_remaining
		FROM runs WHERE ? = '' OR job = ? ORDER BY id DESC LIMIT ?`, job, job, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, ended string
		if err := rows.Scan(&r.ID, &r.Job, &started, &ended, &r.Outcome, &r.Files, &r.Records,
			&r.Held, &r.Amount, &r.Error, &r.Who, &r.AlmaCalls, &r.AlmaRemaining); err != nil {
			return nil, fmt.Errorf("journal: runs: %w", err)
		}
		r.Started, r.Ended = parseTime(started), parseTime(ended)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: runs: %w", err)
	}
	return out, nil
}

// JobRuns sums up the history of one job.
type JobRuns struct {
	Job         string
	Last        Run            // the newest run
	LastSuccess time.Time      // the end of the newest run that did not fail; zero if none
	Outcomes    map[string]int // runs by outcome
	Records     int            // records of every run
	Held        int            // records or files held back, summed over every run
	// Amount is the runs' totals summed, each without its sign (a credits
	// run's total is negative), so that it only grows: for metrics only,
	// never for money.
	Amount float64
}

// RunSummary sums the run history up by job, in the order of the jobs'
// names.
func (j *Journal) RunSummary(ctx context.Context) ([]JobRuns, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT job, outcome, COUNT(*), SUM(records), SUM(held), COALESCE(SUM(ABS(CAST(NULLIF(amount, '') AS DOUBLE PRECISION))), 0),
		MAX(CASE WHEN outcome != 'failed' THEN ended END), MAX(id)
		FROM runs GROUP BY job, outcome ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("journal: runs: %w", err)
	}
	defer rows.Close()
	var out []JobRuns
	lastID := map[string]int64{}
	for rows.Next() {
		var job, outcome string
		var n, records, held int
		var amount float64
		var success *string
		var maxID int64
		if err := rows.Scan(&job, &outcome, &n, &records, &held, &amount, &success, &maxID); err != nil {
			return nil, fmt.Errorf("journal: runs: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Job != job {
			out = append(out, JobRuns{Job: job, Outcomes: map[string]int{}})
		}
		s := &out[len(out)-1]
		s.Outcomes[outcome] += n
		s.Records += records
		s.Held += held
		s.Amount += amount
		if success != nil {
			if t := parseTime(*success); t.After(s.LastSuccess) {
				s.LastSuccess = t
			}
		}
		if maxID > lastID[job] {
			lastID[job] = maxID
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: runs: %w", err)
	}
	rows.Close()
	for i := range out {
		last, err := j.Runs(ctx, out[i].Job, 1)
		if err != nil {
			return nil, err
		}
		if len(last) == 1 {
			out[i].Last = last[0]
		}
	}
	return out, nil
}

// AlmaRemaining returns what the newest run that heard from Alma was told
// of the day's quota (its AlmaRemaining) and when that run ended; ok is
// false when no run heard.
func (j *Journal) AlmaRemaining(ctx context.Context) (n int64, at time.Time, ok bool, err error) {
	var ended string
	err = j.db.QueryRowContext(ctx, `SELECT alma_remaining, ended FROM runs
		WHERE alma_remaining >= 0 ORDER BY id DESC LIMIT 1`).Scan(&n, &ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, time.Time{}, false, nil
	case err != nil:
		return 0, time.Time{}, false, fmt.Errorf("journal: runs: %w", err)
	}
	return n, parseTime(ended), true, nil
}

// Size returns the bytes the journal's database takes (pages in use and
// free), as SQLite counts them.
func (j *Journal) Size(ctx context.Context) (int64, error) {
	if j.db.pg != nil {
		return j.postgresSize(ctx)
	}
	var pages, size int64
	if err := j.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, fmt.Errorf("journal: size: %w", err)
	}
	if err := j.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, fmt.Errorf("journal: size: %w", err)
	}
	return pages * size, nil
}

// Writable checks that the journal can be written now: it opens a write
// transaction and rolls it back.
func (j *Journal) Writable(ctx context.Context) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: not writable: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = -1`); err != nil {
		return fmt.Errorf("journal: not writable: %w", err)
	}
	return nil
}
