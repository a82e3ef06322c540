package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Disagreement is one difference the newest reconciliation found between
// Alma and the bursar.
type Disagreement struct {
	Found         time.Time // when the reconciliation that found it ran
	UserID        string
	FeeID         string // empty for a student's total
	FeeType       fees.Type
	TransactionID string
	AlmaStatus    fees.Status
	Alma          fees.Money // Alma's remaining balance
	Bursar        fees.Money // what the bursar holds
	Problem       string
}

// SetDisagreements replaces what the journal keeps of the last
// reconciliation by ds, found at at: none when they agree.
func (j *Journal) SetDisagreements(ctx context.Context, at time.Time, ds []Disagreement) error {
	tx, err := j.begin(ctx)
	if err != nil {
		return fmt.Errorf("journal: disagreements: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM disagreements`); err != nil {
		return fmt.Errorf("journal: disagreements: %w", err)
	}
	ts := formatTime(j.at(at))
	for _, d := range ds {
		alma, cur := minor(d.Alma)
		bursar, bcur := minor(d.Bursar)
		if cur == "" {
			cur = bcur
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO disagreements (found_at, user_id, fee_id, fee_type, transaction_id,
			alma_status, alma, bursar, currency, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ts, d.UserID, d.FeeID, string(d.FeeType), d.TransactionID, d.AlmaStatus.AlmaCode(), alma, bursar, cur, d.Problem); err != nil {
			return fmt.Errorf("journal: disagreement of student %s: %w", d.UserID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: disagreements: %w", err)
	}
	return nil
}

// Disagreements returns what the newest reconciliation found, in the
// order it was found.
func (j *Journal) Disagreements(ctx context.Context) ([]Disagreement, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT found_at, user_id, fee_id, fee_type, transaction_id, alma_status,
		alma, bursar, currency, problem FROM disagreements ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("journal: disagreements: %w", err)
	}
	defer rows.Close()
	var out []Disagreement
	for rows.Next() {
		var d Disagreement
		var found, typ, status, cur string
		var alma, bursar int64
		if err := rows.Scan(&found, &d.UserID, &d.FeeID, &typ, &d.TransactionID, &status, &alma, &bursar, &cur, &d.Problem); err != nil {
			return nil, fmt.Errorf("journal: disagreements: %w", err)
		}
		d.Found, d.FeeType = parseTime(found), fees.Type(typ)
		d.AlmaStatus, _ = fees.ParseAlmaStatus(status) // empty for a student's total
		d.Alma, d.Bursar = amountOf(alma, cur), amountOf(bursar, cur)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: disagreements: %w", err)
	}
	return out, nil
}
