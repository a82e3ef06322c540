package journal

import "context"

// RecordsFor returns every record the journal keeps of the student user
// or of the fee feeID (one of them may be empty): for a fee, its charge
// and the payments and credits whose ref is that charge's key. They come
// oldest first. It fails only when the database does.
func (j *Journal) RecordsFor(ctx context.Context, user, feeID string) ([]Record, error) {
	return queryRecords(ctx, j.db, `WHERE (? != '' AND r.user_id = ?)
		OR (? != '' AND (r.fee_id = ? OR r.ref IN (SELECT c.key FROM records c WHERE c.kind = 'charge' AND c.fee_id = ?)))
		ORDER BY r.created_at, r.kind, r.key`, user, user, feeID, feeID, feeID)
}
