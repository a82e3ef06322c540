package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// FileRecord is one row of the journal's files table.
type FileRecord struct {
	ID          int64
	Job         string
	Name        string
	SHA256      string
	Status      string
	Output      string
	Records     int
	Rejected    int
	Total       fees.Money
	Reason      string
	DuplicateOf int64
	Decided     time.Time
	Updated     time.Time
	Input       string // for a re-drive: the held records it took
}

const fileColumns = `id, job, name, sha256, status, output, records, rejected, total, currency, reason,
	COALESCE(duplicate_of, 0), decided_at, updated_at, input`

func scanFile(s scanner) (FileRecord, error) {
	var f FileRecord
	var total int64
	var cur, decided, updated string
	err := s.Scan(&f.ID, &f.Job, &f.Name, &f.SHA256, &f.Status, &f.Output, &f.Records, &f.Rejected, &total, &cur,
		&f.Reason, &f.DuplicateOf, &decided, &updated, &f.Input)
	if err != nil {
		return f, err
	}
	if c := fees.Currency(cur); c.Valid() {
		f.Total = fees.FromMinor(total, c)
	}
	f.Decided, f.Updated = parseTime(decided), parseTime(updated)
	return f, nil
}

// Files returns the files a job has seen (all jobs when job is ""), in the
// order they were first seen. It fails only when the database does.
func (j *Journal) Files(ctx context.Context, job string) ([]FileRecord, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+fileColumns+` FROM files WHERE ? = '' OR job = ? ORDER BY id`, job, job)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []FileRecord
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// FilesBySHA returns the files of job with the content of SHA-256 sha
// (hex), best first: a published or done one before others, then in the
// order they were first seen. It fails only when the database does.
func (j *Journal) FilesBySHA(ctx context.Context, job, sha string) ([]FileRecord, error) {
	return fileBySHA(ctx, j.db, job, sha)
}

func fileBySHA(ctx context.Context, q querier, job, sha string) ([]FileRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+fileColumns+` FROM files WHERE job = ? AND sha256 = ?
		ORDER BY CASE status WHEN 'published' THEN 0 WHEN 'done' THEN 0 WHEN 'publishing' THEN 1 ELSE 2 END, id`, job, sha)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []FileRecord
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// AddFile inserts f as a new row of the files table and returns its id.
// f.ID is ignored; f.Updated is the time of the write and f.Decided the
// time of the decision, both the journal's clock when zero. It fails when
// the database does.
func (j *Journal) AddFile(ctx context.Context, f FileRecord) (int64, error) {
	var id int64
	err := j.db.write(ctx, func(q querier) error {
		var err error
		id, err = insertFile(ctx, q, f, j.at(f.Updated))
		return err
	})
	return id, err
}

// UpdateFile writes f over the row f.ID: its status, output, counts,
// total, reason and decision time, at f.Updated (the journal's clock when
// zero; so is a zero f.Decided). It fails when the database does.
func (j *Journal) UpdateFile(ctx context.Context, f FileRecord) error {
	return updateFile(ctx, j.db, f, j.at(f.Updated))
}

func insertFile(ctx context.Context, q querier, f FileRecord, now time.Time) (int64, error) {
	total, cur := minor(f.Total)
	var dup any
	if f.DuplicateOf != 0 {
		dup = f.DuplicateOf
	}
	decided := f.Decided
	if decided.IsZero() {
		decided = now
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO files(job, name, sha256, status, output, records, rejected, total, currency,
			reason, duplicate_of, decided_at, updated_at, input) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.Job, f.Name, f.SHA256, f.Status, f.Output, f.Records, f.Rejected, total, cur, f.Reason, dup,
		formatTime(decided), formatTime(now), f.Input).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("journal: file %s: %w", f.Name, err)
	}
	return id, nil
}

func updateFile(ctx context.Context, q querier, f FileRecord, now time.Time) error {
	total, cur := minor(f.Total)
	decided := f.Decided
	if decided.IsZero() {
		decided = now
	}
	_, err := q.ExecContext(ctx, `UPDATE files SET status = ?, output = ?, records = ?, rejected = ?, total = ?,
			currency = ?, reason = ?, decided_at = ?, updated_at = ? WHERE id = ?`,
		f.Status, f.Output, f.Records, f.Rejected, total, cur, f.Reason, formatTime(decided), formatTime(now), f.ID)
	if err != nil {
		return fmt.Errorf("journal: file %s: %w", f.Name, err)
	}
	return nil
}
