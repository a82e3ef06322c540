package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Held is a charge sent to the bursar and what the bursar still holds of
// it: the amount charged, less the payments forwarded and the credits sent
// for it.
type Held struct {
	Charge Record
	Left   fees.Money
}

// Outstanding returns the charges sent for the student user, in key order,
// each with what the bursar still holds of it, in one query. It fails only
// when the database does.
func (j *Journal) Outstanding(ctx context.Context, user string) ([]Held, error) {
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.db.QueryContext(ctx, `SELECT c.key, c.fee_id, c.fee_type, c.amount, c.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency)
		FROM records c WHERE c.kind = 'charge' AND c.outcome = 'charged' AND c.user_id = ? ORDER BY c.key`, user)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Held
	for rows.Next() {
		c := Held{Charge: Record{Kind: KindCharge, Outcome: OutcomeCharged, UserID: user}}
		var typ, cur string
		var amount, taken int64
		if err := rows.Scan(&c.Charge.Key, &c.Charge.FeeID, &typ, &amount, &cur, &taken); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		c.Charge.FeeType, c.Charge.Amount = fees.Type(typ), amountOf(amount, cur)
		c.Left = amountOf(amount-taken, cur)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Students returns, sorted, the students with charges sent to the bursar
// that are active (the bursar still holds something of one of them, or
// one of them, or a payment, credit or waiver of it, changed at or after
// since), and those that are quiet. With returns, the students of lost
// returns handled since then (webhook events and waivers) are active too,
// charged or not. A zero since makes every student active. It fails only
// when the database does.
func (j *Journal) Students(ctx context.Context, since time.Time, returns bool) (active, quiet []string, err error) {
	from := "" // every time is after it: all are active
	if !since.IsZero() {
		from = formatTime(since)
	}
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.db.QueryContext(ctx, `SELECT c.user_id, MAX(CASE WHEN c.updated_at >= ?
			OR c.amount != (SELECT COALESCE(SUM(p.amount), 0) FROM records p
				WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency)
			OR EXISTS (SELECT 1 FROM records p WHERE p.ref = c.key AND p.ref != '' AND p.updated_at >= ?) THEN 1 ELSE 0 END)
		FROM records c WHERE c.kind = 'charge' AND c.user_id != ''
			AND (c.outcome = 'charged' OR (c.outcome = 'rejected' AND c.code = '`+CodeBursarRefused+`'))
		GROUP BY c.user_id
		UNION ALL SELECT r.user_id, 1 FROM records r
		WHERE ? AND r.kind IN ('event', 'waiver') AND r.user_id != '' AND r.updated_at >= ?`,
		from, from, returns, from)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	on := map[string]bool{}
	for rows.Next() {
		var u string
		var a bool
		if err := rows.Scan(&u, &a); err != nil {
			return nil, nil, fmt.Errorf("journal: %w", err)
		}
		on[u] = on[u] || a
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	for u, a := range on {
		if a {
			active = append(active, u)
		} else {
			quiet = append(quiet, u)
		}
	}
	slices.Sort(active)
	slices.Sort(quiet)
	return active, quiet, nil
}

// Total is how many records of one kind, outcome, channel and currency
// there are, and their sum: one line of the daily report's "what flowed".
type Total struct {
	Kind, Outcome, Channel string
	Count                  int
	Amount                 fees.Money
}

// Totals counts and sums the records charged, credited, forwarded and
// waived that were last updated in [from, to), by kind, outcome, channel
// and currency, ordered by kind and channel. It fails only when the
// database does.
func (j *Journal) Totals(ctx context.Context, from, to time.Time) ([]Total, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT kind, outcome, channel, currency, COUNT(*), SUM(amount) FROM records
		WHERE updated_at >= ? AND updated_at < ? AND currency != '' AND outcome IN ('charged', 'credited', 'forwarded', 'waived')
		GROUP BY kind, outcome, channel, currency ORDER BY kind, channel`, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("journal: totals: %w", err)
	}
	defer rows.Close()
	var out []Total
	for rows.Next() {
		var t Total
		var cur string
		var sum int64
		if err := rows.Scan(&t.Kind, &t.Outcome, &t.Channel, &cur, &t.Count, &sum); err != nil {
			return nil, fmt.Errorf("journal: totals: %w", err)
		}
		t.Amount = fees.FromMinor(sum, fees.Currency(cur))
		out = append(out, t)
	}
	return out, rows.Err()
}

// Forwarded is what was forwarded to the library system for one charge
// and not yet seen there.
type Forwarded struct {
	Charge Record     // the charge paid: its key, fee type, student and fee
	Amount fees.Money // the payments forwarded for it
	Since  time.Time  // when the oldest of them was forwarded
}

// Unseen returns, by charge in key order, the payments forwarded at or
// before upTo for charges of which some payment was not yet marked seen
// (see [Journal.MarkSeen]). It fails only when the database does.
func (j *Journal) Unseen(ctx context.Context, upTo time.Time) ([]Forwarded, error) {
	// A payment's updated_at is when it was forwarded (decided into an
	// import file), also for one held first and re-driven later.
	rows, err := j.db.QueryContext(ctx, `SELECT p.ref, c.fee_type, c.user_id, c.fee_id, p.currency, SUM(p.amount), MIN(p.updated_at)
		FROM records p JOIN records c ON c.kind = 'charge' AND c.key = p.ref
		WHERE p.kind = 'payment' AND p.outcome = 'forwarded' AND p.updated_at <= ?
		GROUP BY p.ref, c.fee_type, c.user_id, c.fee_id, p.currency HAVING MAX(CASE WHEN p.seen_at = '' THEN 1 ELSE 0 END) = 1 ORDER BY p.ref`,
		formatTime(upTo))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Forwarded
	for rows.Next() {
		f := Forwarded{Charge: Record{Kind: KindCharge}}
		var typ, cur, since string
		var sum int64
		if err := rows.Scan(&f.Charge.Key, &typ, &f.Charge.UserID, &f.Charge.FeeID, &cur, &sum, &since); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		f.Charge.FeeType = fees.Type(typ)
		f.Amount, f.Since = fees.FromMinor(sum, fees.Currency(cur)), parseTime(since)
		out = append(out, f)
	}
	return out, rows.Err()
}

// MarkSeen marks the payments forwarded at or before upTo for the charges
// under the keys refs as seen in the library system, so that [Journal.Unseen]
// leaves them out until another payment is forwarded. It fails only when
// the database does.
func (j *Journal) MarkSeen(ctx context.Context, refs []string, upTo time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	list, err := json.Marshal(refs)
	if err != nil {
		return err
	}
	_, err = j.db.ExecContext(ctx, `UPDATE records SET seen_at = ?
		WHERE kind = 'payment' AND outcome = 'forwarded' AND seen_at = '' AND updated_at <= ?
		AND ref IN (SELECT value FROM json_each(?))`, formatTime(j.now()), formatTime(upTo), string(list))
	if err != nil {
		return fmt.Errorf("journal: mark seen: %w", err)
	}
	return nil
}

// Currency returns the currency of a record with an amount (a district has
// one), and "" when the journal has none: the currency in which the
// report writes its zero totals.
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
