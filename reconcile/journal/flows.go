package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// FlowTotal is how many records of one kind, outcome, channel and
// currency were last updated in a period, and their sum: one line of the
// daily report's "what flowed".
type FlowTotal struct {
	Kind, Outcome, Channel string
	Count                  int
	Amount                 fees.Money
}

// FlowTotals counts and sums the records charged, credited, forwarded and
// waived that were last updated in [from, to), by kind, outcome, channel
// and currency, ordered by kind and channel. It fails only when the
// database does.
func (j *Journal) FlowTotals(ctx context.Context, from, to time.Time) ([]FlowTotal, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT kind, outcome, channel, currency, COUNT(*), SUM(amount) FROM records
		WHERE updated_at >= ? AND updated_at < ? AND currency != '' AND outcome IN ('charged', 'credited', 'forwarded', 'waived')
		GROUP BY kind, outcome, channel, currency ORDER BY kind, channel`, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("journal: flow totals: %w", err)
	}
	defer rows.Close()
	var out []FlowTotal
	for rows.Next() {
		var t FlowTotal
		var cur string
		var sum int64
		if err := rows.Scan(&t.Kind, &t.Outcome, &t.Channel, &cur, &t.Count, &sum); err != nil {
			return nil, fmt.Errorf("journal: flow totals: %w", err)
		}
		t.Amount = fees.FromMinor(sum, fees.Currency(cur))
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: flow totals: %w", err)
	}
	return out, nil
}

// Currency returns the currency of a record with an amount (a district has one), and
// "" when the journal has none: the currency in which the report writes
// its zero totals.
func (j *Journal) Currency(ctx context.Context) (fees.Currency, error) {
	var cur string
	err := j.db.QueryRowContext(ctx, `SELECT currency FROM records WHERE currency != '' LIMIT 1`).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("journal: currency: %w", err)
	}
	return fees.Currency(cur), nil
}
