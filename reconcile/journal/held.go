package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// The outcomes of a held record that was closed without going through.
// Neither is held any more: the report, [Journal.ListHeld] and
// [Journal.Held] (what a re-drive takes) leave them out, and a record of
// the same key that comes later is decided as if the key were new. Each
// closing is kept in the audit trail ([Journal.Closures]).
const (
	// OutcomeDismissed: an operator dismissed the held record, with a
	// reason ([Journal.Dismiss]).
	OutcomeDismissed = "dismissed"
	// OutcomeSuperseded: a held line (a record held under its place in
	// the file, with [Record.ForKey]) whose key later went through from
	// another file.
	OutcomeSuperseded = "superseded"
)

// The actions of the audit trail of held records.
const (
	ActionDismissed  = "dismissed"  // closed by an operator
	ActionSuperseded = "superseded" // the same key went through later
)

// ActorFeebridge is who closes a held record that a later one superseded.
const ActorFeebridge = "feebridge"

// ErrNotHeld is returned by [Journal.Dismiss] for a key that no held
// record has.
var ErrNotHeld = errors.New("journal: no held record")

// Closure is one entry of the audit trail of held records: a held record
// closed (dismissed or superseded), with what it was held for.
type Closure struct {
	Kind, Key string
	Action    string // ActionDismissed or ActionSuperseded
	By        string // who: the operator, or ActorFeebridge
	Reason    string // why it was closed
	At        time.Time
	// What the held record was: its file and line, student, amount, and
	// the code and reason it was held for, and when.
	FileID     int64
	File       string
	Line       int
	UserID     string
	Amount     fees.Money
	Code       string
	HeldReason string
	HeldAt     time.Time
}

// dayFormat is how the journal writes a record's own date (column dated).
const dayFormat = "2006-01-02"

// formatDay is t's day as the journal writes it; "" for the zero time.
func formatDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dayFormat)
}

// parseDay reads what formatDay wrote, as a day in UTC; zero for "".
func parseDay(s string) time.Time {
	t, _ := time.Parse(dayFormat, s)
	return t
}

// ListHeld returns the records held now (outcome rejected) of kind ("" for
// any), newest first. It fails only when the database does.
func (j *Journal) ListHeld(ctx context.Context, kind string) ([]Record, error) {
	return queryRecords(ctx, j.db, `WHERE r.outcome = 'rejected' AND (? = '' OR r.kind = ?)
		ORDER BY r.updated_at DESC, r.kind, r.key`, kind, kind)
}

// Closures returns the audit trail of the held records of kind ("" for
// any) that were closed, newest first. It fails only when the database
// does.
func (j *Journal) Closures(ctx context.Context, kind string) ([]Closure, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT h.kind, h.key, h.action, h.actor, h.reason, h.at,
		COALESCE(h.file_id, 0), COALESCE(f.name, ''), h.line, h.user_id, h.amount, h.currency, h.code, h.held_reason, h.held_at
		FROM held_log h LEFT JOIN files f ON f.id = h.file_id
		WHERE ? = '' OR h.kind = ? ORDER BY h.at DESC, h.id DESC`, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("journal: audit trail of held records: %w", err)
	}
	defer rows.Close()
	var out []Closure
	for rows.Next() {
		var c Closure
		var at, heldAt, cur string
		var amount int64
		if err := rows.Scan(&c.Kind, &c.Key, &c.Action, &c.By, &c.Reason, &at, &c.FileID, &c.File, &c.Line,
			&c.UserID, &amount, &cur, &c.Code, &c.HeldReason, &heldAt); err != nil {
			return nil, fmt.Errorf("journal: audit trail of held records: %w", err)
		}
		c.At, c.HeldAt, c.Amount = parseTime(at), parseTime(heldAt), amountOf(amount, cur)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Dismiss closes the held record of kind ("" for any kind) and key: its
// outcome becomes dismissed and the dismissal (by whom, why, when: the
// journal's clock) goes to the audit trail, in one transaction. It returns
// the record as it was held. It fails with an error wrapping [ErrNotHeld]
// when no record of that key is held (saying what the key is, when the
// journal knows it), when kind is "" and records of several kinds are held
// under key, when by or reason is empty, and when the database fails.
func (j *Journal) Dismiss(ctx context.Context, kind, key, by, reason string) (Record, error) {
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" {
		return Record{}, fmt.Errorf("journal: dismiss %s: who and why are both required", key)
	}
	tx, err := j.begin(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	recs, err := queryRecords(ctx, tx, `WHERE r.key = ? AND (? = '' OR r.kind = ?) ORDER BY r.kind`, key, kind, kind)
	if err != nil {
		return Record{}, err
	}
	var held []Record
	var other []string
	for _, r := range recs {
		if r.Outcome == OutcomeRejected {
			held = append(held, r)
		} else {
			other = append(other, r.Kind+" "+r.Outcome)
		}
	}
	switch {
	case len(held) == 0 && len(other) > 0:
		return Record{}, fmt.Errorf("%w under key %s: it is %s", ErrNotHeld, key, strings.Join(other, ", "))
	case len(held) == 0:
		return Record{}, fmt.Errorf("%w under key %s: the journal has no record of that key", ErrNotHeld, key)
	case len(held) > 1:
		return Record{}, fmt.Errorf("journal: dismiss %s: held as %d kinds of record; say which", key, len(held))
	}
	r := held[0]
	now := formatTime(j.now())
	if err := logClosure(ctx, tx, r.Kind, r.Key, ActionDismissed, by, reason, now); err != nil {
		return Record{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE records SET outcome = 'dismissed', updated_at = ? WHERE kind = ? AND key = ?`,
		now, r.Kind, r.Key); err != nil {
		return Record{}, fmt.Errorf("journal: dismiss %s %s: %w", r.Kind, r.Key, err)
	}
	if err := tx.Commit(); err != nil {
		return Record{}, fmt.Errorf("journal: dismiss %s %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// logClosure copies the held record of kind and key into the audit trail,
// closed by action; nothing when it is not held.
func logClosure(ctx context.Context, q querier, kind, key, action, by, reason, at string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO held_log(kind, key, action, actor, reason, at, file_id, line,
		user_id, amount, currency, code, held_reason, held_at)
		SELECT kind, key, ?, ?, ?, ?, file_id, line, user_id, amount, currency, code, reason, updated_at
		FROM records WHERE kind = ? AND key = ? AND outcome = 'rejected'`, action, by, reason, at, kind, key)
	if err != nil {
		return fmt.Errorf("journal: audit trail of %s %s: %w", kind, key, err)
	}
	return nil
}

// wentThrough reports whether outcome is a record that went through.
func wentThrough(outcome string) bool {
	return outcome == OutcomeCharged || outcome == OutcomeCredited || outcome == OutcomeForwarded || outcome == OutcomeRefunded
}

// logSuperseded writes to the audit trail the held records that records
// queued in the view replace under the same key: they are superseded by
// the upsert that follows. It runs before the queue is written.
func (v *view) logSuperseded(ctx context.Context) error {
	at := formatTime(v.now)
	for _, r := range v.superseding {
		if err := logClosure(ctx, v.q, r.Kind, r.Key, ActionSuperseded, ActorFeebridge,
			wentThroughReason(r, v.file.Name), at); err != nil {
			return err
		}
	}
	v.superseding = v.superseding[:0]
	return nil
}

func wentThroughReason(r Record, file string) string {
	return fmt.Sprintf("%s %s %s from %s line %d", r.Kind, r.Key, r.Outcome, file, r.Line)
}

// supersedeLines closes the held lines of other files whose ForKey is the
// key of a record of recs that went through: one query per kind of record
// in recs, and a write only for the lines it finds.
func (v *view) supersedeLines(ctx context.Context, recs []Record) error {
	byKind := map[string][]string{}
	through := map[recordKey]Record{}
	for _, r := range recs {
		if wentThrough(r.Outcome) && knownKind(r.Kind) {
			byKind[r.Kind] = append(byKind[r.Kind], r.Key)
			through[recordKey{r.Kind, r.Key}] = r
		}
	}
	for kind, keys := range byKind {
		var lines []Record
		// One probe of the small partial index records_for_key per key,
		// named so that SQLite never scans the records instead.
		err := v.query(ctx, `SELECT r.key, r.for_key FROM json_each(?) k
			JOIN records r INDEXED BY records_for_key ON r.kind = '`+kind+`' AND r.for_key = k.value
			WHERE r.for_key != '' AND r.outcome = 'rejected'
			AND COALESCE(r.file_id, 0) != `+strconv.FormatInt(v.file.ID, 10), keys,
			func(rows *sql.Rows) error {
				r := Record{Kind: kind}
				lines = append(lines, r)
				return rows.Scan(&lines[len(lines)-1].Key, &lines[len(lines)-1].ForKey)
			})
		if err != nil {
			return err
		}
		at := formatTime(v.now)
		for _, l := range lines {
			reason := wentThroughReason(through[recordKey{kind, l.ForKey}], v.file.Name)
			if err := logClosure(ctx, v.q, kind, l.Key, ActionSuperseded, ActorFeebridge, reason, at); err != nil {
				return err
			}
			if _, err := v.q.ExecContext(ctx, `UPDATE records SET outcome = 'superseded', updated_at = ?
				WHERE kind = ? AND key = ?`, at, kind, l.Key); err != nil {
				return fmt.Errorf("journal: supersede %s %s: %w", kind, l.Key, err)
			}
			delete(v.records, recordKey{kind, l.Key})
		}
	}
	return nil
}
