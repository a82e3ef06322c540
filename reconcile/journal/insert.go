package journal

import (
	"context"
	"fmt"
	"strings"
)

// InsertRows is how many records one statement of [View.Insert] writes.
const InsertRows = 64

// Insert records recs, records of one kind and outcome decided into this
// file (the bulk of a charges file), whose keys are new, in multi-row
// statements, and reports for each whether it was recorded: false when
// its key is in the journal already (or earlier in recs), and the record
// must then go through [View.Claim]. It fails when the database does.
func (v *view) Insert(ctx context.Context, recs []Record) ([]bool, error) {
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	done := make([]bool, len(recs))
	for start := 0; start < len(recs); start += InsertRows {
		batch := recs[start:min(start+InsertRows, len(recs))]
		if err := v.insert(ctx, batch, done[start:]); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// insert inserts batch in one statement and sets done[i] for each record
// inserted.
func (v *view) insert(ctx context.Context, batch []Record, done []bool) error {
	args := make([]any, 0, 4+11*len(batch))
	args = append(args, batch[0].Kind, batch[0].Outcome, v.file.ID, formatTime(v.now))
	for _, r := range batch {
		amount, cur := minor(r.Amount)
		args = append(args, r.Key, r.UserID, r.FeeID, string(r.FeeType), r.Barcode, amount, cur, r.Line, r.College, r.Owner, r.Output)
	}
	rows, err := v.q.QueryContext(ctx, v.insertQuery(len(batch)), args...)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	inserted := make(map[string]int, len(batch))
	for rows.Next() {
		var key string
		var line int
		if err := rows.Scan(&key, &line); err != nil {
			rows.Close()
			return fmt.Errorf("journal: %w", err)
		}
		inserted[key] = line
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	known := len(v.records) > 0 || len(v.charges) > 0 || len(v.byTxID) > 0
	for i, r := range batch {
		line, ok := inserted[r.Key]
		done[i] = ok && line == r.Line
		if done[i] && known {
			v.forget(r)
		}
	}
	return nil
}

// forget drops what the view knew of r's key, written behind its back.
func (v *view) forget(r Record) {
	delete(v.records, recordKey{r.Kind, r.Key})
	if r.Kind == KindCharge {
		delete(v.charges, r.Key)
		clear(v.byTxID)
	}
}

// insertQuery returns the statement that inserts n records. What the rows
// share is bound once, as parameters 1 to 4 (kind, outcome, file, time),
// and each row binds only its own ten values: SQLite's driver binds in
// time that grows with the number of parameters of a statement, so rows
// are kept lean. The output is left empty unless the record names its own
// (a file of several outputs): a record sent in a file is read with its
// file's output (see recordColumns).
func (v *view) insertQuery(n int) string {
	if n == InsertRows && v.insertSQL != "" {
		return v.insertSQL
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO records(kind, outcome, file_id, created_at, updated_at,
		key, user_id, fee_id, fee_type, barcode, amount, currency, line, college, owner, output) VALUES `)
	// A bare "?" takes the number after the largest one so far: 5, 6, …
	// in order, bound by position, while the driver looks the four
	// numbered ones up by name.
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?1, ?2, ?3, ?4, ?4, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT(kind, key) DO NOTHING RETURNING key, line")
	if n == InsertRows {
		v.insertSQL = b.String()
	}
	return b.String()
}
