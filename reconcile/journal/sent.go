package journal

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// Sent is a fee of a student that an export file carried to feebridge:
// Alma marked it exported (Transferred) when it wrote the file, whether
// feebridge charged it or held it. An export names a fee by its charge key
// (bursar transaction id and type), the key of the charge record, not by
// Alma's fee id.
type Sent struct {
	Charge Record     // the charge record: fee id, type, item barcode, amount, outcome
	Left   fees.Money // what the bursar still holds of it (the amount, when held)
	// Waived tells that feebridge waived the fee in Alma itself (a lost
	// return's waiver record names the charge key): Alma has closed it,
	// whatever the bursar has heard yet.
	Waived bool
}

// SentFees returns the fees of the student user that came in an export
// file (charge records with a fee id, charged or held), in key order, each
// with what the bursar still holds of it and whether feebridge waived it,
// in one query. It fails only when the database does.
func (j *Journal) SentFees(ctx context.Context, user string) ([]Sent, error) {
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.db.QueryContext(ctx, `SELECT c.key, c.outcome, c.fee_id, c.fee_type, c.barcode, c.amount, c.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency),
		EXISTS (SELECT 1 FROM records w WHERE w.ref = c.key AND w.ref != '' AND w.kind = 'waiver'
			AND w.outcome = 'waived')
		FROM records c WHERE c.kind = 'charge' AND c.user_id = ? AND c.fee_id != '' ORDER BY c.key`, user)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Sent
	for rows.Next() {
		s := Sent{Charge: Record{Kind: KindCharge, UserID: user}}
		var typ, cur string
		var amount, taken int64
		if err := rows.Scan(&s.Charge.Key, &s.Charge.Outcome, &s.Charge.FeeID, &typ, &s.Charge.Barcode,
			&amount, &cur, &taken, &s.Waived); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		s.Charge.FeeType, s.Charge.Amount = fees.Type(typ), amountOf(amount, cur)
		s.Left = amountOf(amount-taken, cur)
		out = append(out, s)
	}
	return out, rows.Err()
}

// ChargedType reports whether an export file ever carried a fee of type
// t: whether Alma's bursar export profile exports that type at all.
func (j *Journal) ChargedType(ctx context.Context, t fees.Type) (bool, error) {
	var found bool
	err := j.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records
		WHERE kind = 'charge' AND fee_type = ? AND fee_id != '')`, string(t)).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	return found, nil
}
