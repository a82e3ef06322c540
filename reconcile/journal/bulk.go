package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// EachOutstanding calls fn with every charge sent to the bursar, ordered
// by student and key, each with what the bursar still holds of it (as
// [Journal.Outstanding] gives one student's), in one query: the nightly
// reconciliation's bulk view of the journal. fn must not use the journal
// (the query holds its connection); an error from fn stops the walk and
// is returned as it is. It fails otherwise only when the database does.
func (j *Journal) EachOutstanding(ctx context.Context, fn func(Held) error) error {
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.db.QueryContext(ctx, `SELECT c.user_id, c.key, c.fee_id, c.fee_type, c.amount, c.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency)
		FROM records c WHERE c.kind = 'charge' AND c.outcome = 'charged' AND c.user_id != '' ORDER BY c.user_id, c.key`)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := Held{Charge: Record{Kind: KindCharge, Outcome: OutcomeCharged}}
		var typ, cur string
		var amount, taken int64
		if err := rows.Scan(&c.Charge.UserID, &c.Charge.Key, &c.Charge.FeeID, &typ, &amount, &cur, &taken); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		c.Charge.FeeType, c.Charge.Amount = fees.Type(typ), amountOf(amount, cur)
		c.Left = amountOf(amount-taken, cur)
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// ChangedSince returns, sorted, the students with a record of theirs
// (a charge, a payment or credit of one of their charges, a waiver, a
// webhook event) written at or after since: what an Alma Analytics
// report refreshed at since cannot know. It fails only when the
// database does.
func (j *Journal) ChangedSince(ctx context.Context, since time.Time) ([]string, error) {
	from := formatTime(since)
	out, err := queryStrings(ctx, j.db, `SELECT user_id FROM records WHERE user_id != '' AND updated_at >= ?
		UNION SELECT c.user_id FROM records c JOIN records p ON p.ref = c.key AND p.ref != ''
		WHERE c.kind = 'charge' AND c.user_id != '' AND p.updated_at >= ?
		ORDER BY 1`, from, from)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return out, nil
}
