package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Record is one row of the journal's records table: a record key and what
// was done with it.
type Record struct {
	Kind, Key string
	Outcome   string
	FileID    int64  // the input file's row in files, 0 if none
	File      string // the input file's name, when known
	Output    string // the output file it went into
	UserID    string
	FeeID     string
	FeeType   fees.Type
	Barcode   string
	Amount    fees.Money
	Ref       string // the charge a payment or credit is for: its charge key (see fees.ChargeKey)
	Channel   string
	Reason    string
	Code      string // the fees error code of a held record's refusal (fees.ErrorCode), when it has one
	Line      int
	Payload   string // the record as JSON, kept for rejected records so they can be re-driven
	// Date is the record's own date, when it has one the journal compares
	// (a payment's paid date, a day); zero when none, and in rows written
	// before the journal kept it.
	Date time.Time
	// ForKey is, for a record held under its place in the file (a line it
	// could not read whole), the key it was partly read as; "" when none.
	// A record that goes through later under that key, from another
	// file, supersedes it (see OutcomeSuperseded).
	ForKey string
	// College is, for a charge, the name of the college it was routed to
	// when it was decided (peoplesoft.College.Name); "" when the district
	// configures no colleges, and in rows written before the journal kept
	// it.
	College string
	// Owner is, for a charge, the code of the library that owns its fee
	// (Alma's owneredEntity), kept so that a charge re-driven from the
	// journal alone (one the bursar refused) goes to the same college;
	// "" when the export names none, and in rows written before the
	// journal kept it.
	Owner   string
	Created time.Time
	Updated time.Time
}

// recordColumns reads a record; the output of a record sent in a file is
// its file's output (charges journaled in bulk do not repeat it).
const recordColumns = `r.kind, r.key, r.outcome, COALESCE(r.file_id, 0), COALESCE(f.name, ''),
	CASE WHEN r.output = '' AND r.outcome IN ('charged', 'credited', 'forwarded') THEN COALESCE(f.output, '') ELSE r.output END, r.user_id,
	r.fee_id, r.fee_type, r.barcode, r.amount, r.currency, r.ref, r.channel, r.reason, r.code, r.line, r.payload,
	r.created_at, r.updated_at, r.dated, r.for_key, r.college, r.owner`

type scanner interface{ Scan(dest ...any) error }

func scanRecord(s scanner) (Record, error) {
	var r Record
	var typ, cur, created, updated, dated string
	var amount int64
	err := s.Scan(&r.Kind, &r.Key, &r.Outcome, &r.FileID, &r.File, &r.Output, &r.UserID, &r.FeeID, &typ,
		&r.Barcode, &amount, &cur, &r.Ref, &r.Channel, &r.Reason, &r.Code, &r.Line, &r.Payload, &created, &updated,
		&dated, &r.ForKey, &r.College, &r.Owner)
	if err != nil {
		return r, err
	}
	r.Date = parseDay(dated)
	r.FeeType = fees.Type(typ)
	r.Amount = amountOf(amount, cur)
	r.Created, r.Updated = parseTime(created), parseTime(updated)
	return r, nil
}

// Get returns the record of kind and key, and false if the journal has
// none. It fails only when the database does.
func (j *Journal) Get(ctx context.Context, kind, key string) (Record, bool, error) {
	return getRecord(ctx, j.db, kind, key)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryStrings returns the one column of text of every row of query.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func getRecord(ctx context.Context, q querier, kind, key string) (Record, bool, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+`
		FROM records r LEFT JOIN files f ON f.id = r.file_id WHERE r.kind = ? AND r.key = ?`, kind, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("journal: read %s %s: %w", kind, key, err)
	}
	return r, true, nil
}

// Records returns the records that match: kind and outcome may be empty
// for any. They come sorted by kind and key. It fails only when the
// database does.
func (j *Journal) Records(ctx context.Context, kind, outcome string) ([]Record, error) {
	return queryRecords(ctx, j.db, `WHERE (? = '' OR r.kind = ?) AND (? = '' OR r.outcome = ?) ORDER BY r.kind, r.key`,
		kind, kind, outcome, outcome)
}

func queryRecords(ctx context.Context, q querier, where string, args ...any) ([]Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM records r LEFT JOIN files f ON f.id = r.file_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// upsertRows is how many records one statement of putRecords writes.
const upsertRows = 32

// recordsSQL returns the statement that inserts n records; with upsert,
// one that replaces those already there.
func recordsSQL(n int, upsert bool) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO records(kind, key, outcome, file_id, output, user_id, fee_id, fee_type,
			barcode, amount, currency, ref, channel, reason, code, line, payload, created_at, updated_at,
			dated, for_key, college, owner) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	if upsert {
		b.WriteString(` ON CONFLICT(kind, key) DO UPDATE SET outcome = excluded.outcome, file_id = excluded.file_id,
			output = excluded.output, user_id = excluded.user_id, fee_id = excluded.fee_id,
			fee_type = excluded.fee_type, barcode = excluded.barcode, amount = excluded.amount,
			currency = excluded.currency, ref = excluded.ref, channel = excluded.channel,
			reason = excluded.reason, code = excluded.code, line = excluded.line, payload = excluded.payload,
			updated_at = excluded.updated_at, dated = excluded.dated, for_key = excluded.for_key,
			college = excluded.college, owner = excluded.owner`)
	}
	return b.String()
}

// The statements of putRecords and insertRecords: one record, and
// upsertRows records.
var (
	upsertStmts = [2]string{recordsSQL(1, true), recordsSQL(upsertRows, true)}
	insertStmts = [2]string{recordsSQL(1, false), recordsSQL(upsertRows, false)}
)

// putRecords inserts or replaces recs, which must have distinct keys,
// upsertRows to a statement.
func putRecords(ctx context.Context, q querier, recs []Record, now time.Time) error {
	return writeRecords(ctx, q, recs, now, upsertStmts)
}

// insertRecords inserts recs, which must have distinct keys that no
// record of the journal has (the database refuses a key it has), in
// less of PostgreSQL's time than putRecords: a plain insert skips the
// upsert's check of the key before the row is written.
func insertRecords(ctx context.Context, q querier, recs []Record, now time.Time) error {
	return writeRecords(ctx, q, recs, now, insertStmts)
}

// writeRecords writes recs by stmts, its statement for one record and
// for upsertRows.
func writeRecords(ctx context.Context, q querier, recs []Record, now time.Time, stmts [2]string) error {
	ts := formatTime(now)
	args := make([]any, 0, 23*min(len(recs), upsertRows))
	for len(recs) > 0 {
		n, query := 1, stmts[0]
		if len(recs) >= upsertRows {
			n, query = upsertRows, stmts[1]
		}
		args = args[:0]
		for _, r := range recs[:n] {
			amount, cur := minor(r.Amount)
			var fileID any
			if r.FileID != 0 {
				fileID = r.FileID
			}
			args = append(args, r.Kind, r.Key, r.Outcome, fileID, r.Output, r.UserID, r.FeeID, string(r.FeeType),
				r.Barcode, amount, cur, r.Ref, r.Channel, r.Reason, r.Code, r.Line, r.Payload, ts, ts,
				formatDay(r.Date), r.ForKey, r.College, r.Owner)
		}
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			if n == 1 {
				return fmt.Errorf("journal: write %s %s: %w", recs[0].Kind, recs[0].Key, err)
			}
			return fmt.Errorf("journal: write %d records from %s %s: %w", n, recs[0].Kind, recs[0].Key, err)
		}
		recs = recs[n:]
	}
	return nil
}

// amountOf is the Money of a journal's amount and currency columns; the
// zero Money when the currency is not one.
func amountOf(units int64, cur string) fees.Money {
	if c := fees.Currency(cur); c.Valid() {
		return fees.FromMinor(units, c)
	}
	return fees.Money{}
}

// minor returns m in minor units and its currency code; the zero Money is 0, "".
func minor(m fees.Money) (int64, string) {
	if !m.Valid() {
		return 0, ""
	}
	u, _ := m.MinorUnits()
	return u, string(m.Currency())
}

// Put inserts r, or replaces the record of its kind and key, as one
// statement of its own, at r.Updated (the journal's clock when zero). It
// fails only when the database does.
func (j *Journal) Put(ctx context.Context, r Record) error {
	return j.write(ctx, func(q querier) error { return putRecords(ctx, q, []Record{r}, j.at(r.Updated)) })
}

// Held returns the records of kind held (outcome rejected) with a payload
// to re-drive them from, in key order. Records held for being unreadable
// carry no payload and are not returned.
func (j *Journal) Held(ctx context.Context, kind string) ([]Record, error) {
	// The outcome is written out so that SQLite uses the partial index
	// records_held.
	return queryRecords(ctx, j.db, `WHERE r.kind = ? AND r.outcome = 'rejected' AND r.payload != '' ORDER BY r.key`, kind)
}

// Unpublished returns the charges decided into an output file that is not
// in place yet (its file neither published nor done), in key order.
func (j *Journal) Unpublished(ctx context.Context) ([]Record, error) {
	return queryRecords(ctx, j.db, `JOIN files o ON o.id = r.file_id
		WHERE r.kind = 'charge' AND r.outcome = 'charged' AND o.status NOT IN ('published', 'done') ORDER BY r.key`)
}

// Waived returns how many waivers were made for the webhook event
// eventID: the records of kind waiver and outcome waived whose key is the
// event id, "/", and a fee id.
func (j *Journal) Waived(ctx context.Context, eventID string) (int, error) {
	var n int
	err := j.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records
		WHERE kind = 'waiver' AND outcome = 'waived' AND substr(key, 1, ?) = ?`,
		len(eventID)+1, eventID+"/").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("journal: waivers of event %s: %w", eventID, err)
	}
	return n, nil
}
