package journal

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// CollegeFigures are the charges sent for one college as the journal
// knows them, and what the newest reconciliation found about them.
type CollegeFigures struct {
	// College is the name the charges were routed to when they were
	// decided ([Record].College); "" for charges decided without one
	// (no colleges configured, or rows older than the column).
	College string
	// Charges is how many charges were sent; Charged is their amount.
	Charges int
	Charged fees.Money
	// Held is what the bursar still holds of them: the amounts charged,
	// less the payments forwarded and the credits sent for them.
	Held fees.Money
	// Disagreements is how many disagreements of the newest
	// reconciliation name one of these charges (by transaction id and
	// fee type); those naming no charge sent count under "".
	Disagreements int
}

// Colleges returns the figures of the charges sent, one per college and
// currency, by college name ("" first). It fails only when the database
// does.
func (j *Journal) Colleges(ctx context.Context) ([]CollegeFigures, error) {
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.db.QueryContext(ctx, `SELECT c.college, c.currency, COUNT(*), SUM(c.amount),
		SUM(c.amount - (SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency))
		FROM records c WHERE c.kind = 'charge' AND c.outcome = 'charged' AND c.currency != ''
		GROUP BY c.college, c.currency ORDER BY c.college, c.currency`)
	if err != nil {
		return nil, fmt.Errorf("journal: colleges: %w", err)
	}
	defer rows.Close()
	var out []CollegeFigures
	for rows.Next() {
		var f CollegeFigures
		var cur string
		var charged, held int64
		if err := rows.Scan(&f.College, &cur, &f.Charges, &charged, &held); err != nil {
			return nil, fmt.Errorf("journal: colleges: %w", err)
		}
		f.Charged, f.Held = fees.FromMinor(charged, fees.Currency(cur)), fees.FromMinor(held, fees.Currency(cur))
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: colleges: %w", err)
	}
	return j.addDisagreements(ctx, out)
}

// addDisagreements counts the newest reconciliation's disagreements into
// the figures of their charges' colleges; a college with disagreements
// and no charge sent gets a line of its own.
func (j *Journal) addDisagreements(ctx context.Context, out []CollegeFigures) ([]CollegeFigures, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT COALESCE((SELECT c.college FROM records c
			WHERE c.kind = 'charge' AND c.key = d.transaction_id || '/' || d.fee_type), ''), COUNT(*)
		FROM disagreements d GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("journal: colleges: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var college string
		var n int
		if err := rows.Scan(&college, &n); err != nil {
			return nil, fmt.Errorf("journal: colleges: %w", err)
		}
		i := 0
		for i < len(out) && out[i].College < college {
			i++
		}
		if i == len(out) || out[i].College != college {
			out = append(out[:i], append([]CollegeFigures{{College: college}}, out[i:]...)...)
		}
		out[i].Disagreements += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: colleges: %w", err)
	}
	return out, nil
}
