package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The results of the count check of a job end (JobEnd.Result).
const (
	// JobEndWaiting: no file checked against it yet.
	JobEndWaiting = ""
	// JobEndAgreed: the file held the counts the job announced.
	JobEndAgreed = "agreed"
	// JobEndDisagreed: the file held other counts; it went to failed/.
	JobEndDisagreed = "disagreed"
	// JobEndNoFile: no file to check: the job failed, had nothing to
	// export, or sent no count.
	JobEndNoFile = "no_file"
	// JobEndStale: a newer file came before any file of this job end
	// (its file was applied before the event arrived, or never came).
	JobEndStale = "stale"
)

// JobEnd is one JOB_END delivery of an Alma job as the journal keeps it.
type JobEnd struct {
	InstanceID string // the job instance: this run of the job
	EventID    string // the webhook delivery's id
	// Job is the feesync job the Alma job feeds (charges, credits), or
	// "" for a job feesync does not follow.
	Job        string
	JobID      string // Alma's job, the same for every run
	Name       string
	Status     string
	StatusDesc string
	// Users and Records are the users and the fines and fees the job
	// said it exported; -1 when it sent no such counter.
	Users, Records int64
	// Counters are all the counters the job sent, by type code.
	Counters                 map[string]int64
	Started, Ended, Received time.Time

	// File is the export file checked against this job end ("" until
	// one is); FileUsers and FileRecords what it held (-1 until then),
	// and Result the outcome (the JobEnd… constants).
	File                   string
	FileUsers, FileRecords int64
	Result                 string
}

// AddJobEnd journals a job end, received at e.Received; false when the
// journal has one of its instance already (Alma delivering it again):
// nothing changes then.
func (j *Journal) AddJobEnd(ctx context.Context, e JobEnd) (added bool, err error) {
	counters, err := json.Marshal(e.Counters)
	if err != nil {
		return false, fmt.Errorf("journal: job end %s: %w", e.InstanceID, err)
	}
	res, err := j.db.ExecContext(ctx, `INSERT INTO job_ends (instance_id, event_id, job, job_id, name,
		status, status_desc, users, records, counters, started, ended, received, file, file_users, file_records, result)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.InstanceID, e.EventID, e.Job, e.JobID, e.Name, e.Status, e.StatusDesc, e.Users, e.Records, string(counters),
		formatTime(e.Started), formatTime(e.Ended), formatTime(j.at(e.Received)), e.File, e.FileUsers, e.FileRecords, e.Result)
	if err != nil {
		return false, fmt.Errorf("journal: job end %s: %w", e.InstanceID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("journal: job end %s: %w", e.InstanceID, err)
	}
	return n == 1, nil
}

const jobEndColumns = `instance_id, event_id, job, job_id, name, status, status_desc, users, records, counters,
	started, ended, received, file, file_users, file_records, result`

func scanJobEnd(sc interface{ Scan(...any) error }) (JobEnd, error) {
	var e JobEnd
	var counters, started, ended, received string
	if err := sc.Scan(&e.InstanceID, &e.EventID, &e.Job, &e.JobID, &e.Name, &e.Status, &e.StatusDesc, &e.Users, &e.Records,
		&counters, &started, &ended, &received, &e.File, &e.FileUsers, &e.FileRecords, &e.Result); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(counters), &e.Counters); err != nil {
		return e, fmt.Errorf("job end %s: counters: %w", e.InstanceID, err)
	}
	e.Started, e.Ended, e.Received = parseTime(started), parseTime(ended), parseTime(received)
	return e, nil
}

func (j *Journal) queryJobEnds(ctx context.Context, where string, args ...any) ([]JobEnd, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+jobEndColumns+` FROM job_ends WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: job ends: %w", err)
	}
	defer rows.Close()
	var out []JobEnd
	for rows.Next() {
		e, err := scanJobEnd(rows)
		if err != nil {
			return nil, fmt.Errorf("journal: job ends: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: job ends: %w", err)
	}
	return out, nil
}

// JobEnds returns the job ends received in [from, to), oldest first.
func (j *Journal) JobEnds(ctx context.Context, from, to time.Time) ([]JobEnd, error) {
	return j.queryJobEnds(ctx, `received >= ? AND received < ? ORDER BY received, instance_id`, formatTime(from), formatTime(to))
}

// AllJobEnds returns every job end the journal keeps, oldest first.
func (j *Journal) AllJobEnds(ctx context.Context) ([]JobEnd, error) {
	return j.queryJobEnds(ctx, `1 ORDER BY received, instance_id`)
}

// GetJobEnd returns the job end of the instance, and false if none.
func (j *Journal) GetJobEnd(ctx context.Context, instance string) (JobEnd, bool, error) {
	e, err := scanJobEnd(j.db.QueryRowContext(ctx, `SELECT `+jobEndColumns+` FROM job_ends WHERE instance_id = ?`, instance))
	if errors.Is(err, sql.ErrNoRows) {
		return JobEnd{}, false, nil
	}
	if err != nil {
		return JobEnd{}, false, fmt.Errorf("journal: job end %s: %w", instance, err)
	}
	return e, true, nil
}

// JobEndOfFile returns the job end of job that the file name was checked
// against, and false if none was.
func (j *Journal) JobEndOfFile(ctx context.Context, job, name string) (JobEnd, bool, error) {
	es, err := j.queryJobEnds(ctx, `job = ? AND file = ? ORDER BY received DESC LIMIT 1`, job, name)
	if err != nil || len(es) == 0 {
		return JobEnd{}, false, err
	}
	return es[0], true, nil
}

// WaitingJobEnds returns the job ends of job that wait for their file
// (a count and no file yet), the earliest ended first.
func (j *Journal) WaitingJobEnds(ctx context.Context, job string) ([]JobEnd, error) {
	return j.queryJobEnds(ctx, `job = ? AND file = '' AND result = '' AND records >= 0 ORDER BY ended, received, instance_id`, job)
}

// SetJobEndResult writes the file checked against the job end of the
// instance, what it held and the outcome (a JobEnd… constant).
func (j *Journal) SetJobEndResult(ctx context.Context, instance, file string, users, records int64, result string) error {
	res, err := j.db.ExecContext(ctx, `UPDATE job_ends SET file = ?, file_users = ?, file_records = ?, result = ?
		WHERE instance_id = ?`, file, users, records, result, instance)
	if err != nil {
		return fmt.Errorf("journal: job end %s: %w", instance, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("journal: job end %s: not journaled", instance)
	}
	return nil
}

// JobEndCount is how many job ends of one Alma job name ended with one
// status.
type JobEndCount struct {
	Name, Status string
	Count        int64
}

// JobEndCounts counts the job ends the journal keeps, by name and
// status.
func (j *Journal) JobEndCounts(ctx context.Context) ([]JobEndCount, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT name, status, COUNT(*) FROM job_ends GROUP BY name, status ORDER BY name, status`)
	if err != nil {
		return nil, fmt.Errorf("journal: job end counts: %w", err)
	}
	defer rows.Close()
	var out []JobEndCount
	for rows.Next() {
		var c JobEndCount
		if err := rows.Scan(&c.Name, &c.Status, &c.Count); err != nil {
			return nil, fmt.Errorf("journal: job end counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
