package journal

import (
	"context"
	"fmt"
	"time"
)

// Event is a webhook event as the journal keeps it: a record of kind
// event (its key the event id; UserID, Barcode and Ref, the loan id, say
// what it is about), with the attempts made to handle it and when the next
// one is due. Its Outcome is pending until it is handled (done) or fails
// for good (failed); Code then says why ("permanent", "gave_up").
type Event struct {
	Record
	Attempts int       // attempts made to handle it so far
	Next     time.Time // when the next attempt is due, while pending
}

// eventColumns reads an event: the record's columns, then attempts and
// next_at.
const eventColumns = recordColumns + `, r.attempts, r.next_at`

func scanEvent(s scanner) (Event, error) {
	var ev Event
	var next string
	r, err := scanRecord(withMore{s, []any{&ev.Attempts, &next}})
	if err != nil {
		return ev, err
	}
	ev.Record, ev.Next = r, parseTime(next)
	return ev, nil
}

// withMore scans a row into a record's columns, then into more: the
// columns an event has beyond a record's.
type withMore struct {
	s    scanner
	more []any
}

func (w withMore) Scan(dest ...any) error { return w.s.Scan(append(dest, w.more...)...) }

// AddEvent journals the webhook event r (its Kind is set to event) as
// pending, due at once, unless the journal already has an event with its
// key: then it changes nothing and returns false. It fails only when the
// database does.
func (j *Journal) AddEvent(ctx context.Context, r Record) (added bool, err error) {
	now := formatTime(j.at(r.Updated))
	res, err := j.exec(ctx, `INSERT INTO records(kind, key, outcome, user_id, barcode, ref, payload,
			created_at, updated_at, next_at) VALUES ('event', ?, 'pending', ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(kind, key) DO NOTHING`, r.Key, r.UserID, r.Barcode, r.Ref, r.Payload, now, now, now)
	if err != nil {
		return false, fmt.Errorf("journal: add event %s: %w", r.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("journal: add event %s: %w", r.Key, err)
	}
	return n == 1, nil
}

// GetEvent returns the event with the id key, and false if there is none.
func (j *Journal) GetEvent(ctx context.Context, key string) (Event, bool, error) {
	evs, err := j.queryEvents(ctx, `WHERE r.kind = 'event' AND r.key = ?`, key)
	if err != nil || len(evs) == 0 {
		return Event{}, false, err
	}
	return evs[0], true, nil
}

// DueEvents returns at most limit pending events whose next attempt is
// due at at, the longest due first (then by key).
func (j *Journal) DueEvents(ctx context.Context, at time.Time, limit int) ([]Event, error) {
	return j.queryEvents(ctx, `WHERE r.kind = 'event' AND r.outcome = 'pending' AND r.next_at <= ?
		ORDER BY r.next_at, r.key LIMIT ?`, formatTime(at), limit)
}

// NextEvent returns when the earliest pending event is due, and false
// when no event is pending.
func (j *Journal) NextEvent(ctx context.Context) (time.Time, bool, error) {
	var next string
	err := j.db.QueryRowContext(ctx, `SELECT COALESCE(MIN(next_at), '') FROM records
		WHERE kind = 'event' AND outcome = 'pending'`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("journal: next event: %w", err)
	}
	if next == "" {
		return time.Time{}, false, nil
	}
	return parseTime(next), true, nil
}

// PutEvent writes what an attempt made of the event ev: its outcome,
// reason and code, its attempts and next attempt, at ev.Updated (the
// journal's clock when zero). The event must be journaled already.
func (j *Journal) PutEvent(ctx context.Context, ev Event) error {
	next := ""
	if !ev.Next.IsZero() {
		next = formatTime(ev.Next)
	}
	_, err := j.exec(ctx, `UPDATE records SET outcome = ?, reason = ?, code = ?, attempts = ?, next_at = ?,
		updated_at = ? WHERE kind = 'event' AND key = ?`,
		ev.Outcome, ev.Reason, ev.Code, ev.Attempts, next, formatTime(j.at(ev.Updated)), ev.Key)
	if err != nil {
		return fmt.Errorf("journal: write event %s: %w", ev.Key, err)
	}
	return nil
}

// RetryEvents makes the failed events pending again, due at at, with
// their attempts counted afresh: the one with the id key, or every failed
// event when key is empty. It returns how many it changed.
func (j *Journal) RetryEvents(ctx context.Context, key string, at time.Time) (int, error) {
	ts := formatTime(j.at(at))
	res, err := j.exec(ctx, `UPDATE records SET outcome = 'pending', attempts = 0, next_at = ?, updated_at = ?
		WHERE kind = 'event' AND outcome = 'failed' AND (? = '' OR key = ?)`, ts, ts, key, key)
	if err != nil {
		return 0, fmt.Errorf("journal: retry events: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (j *Journal) queryEvents(ctx context.Context, where string, args ...any) ([]Event, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM records r LEFT JOIN files f ON f.id = r.file_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("journal: events: %w", err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
