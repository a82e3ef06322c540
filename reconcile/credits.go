package reconcile

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// Credits runs the credits job (F4): it claims each credit/waiver export
// in the library drop's credits folder, links each credit to the charge it
// reverses (by bursar transaction id through the journal, else by student,
// item and fee type), writes the credit lines to the bursar drop, and
// journals them. An unlinked credit, a credit above what the bursar still
// holds, and a partial waiver of a transferred fee (R5, decided by
// fees.CheckCredit) are held and reported; the latter with the two-step
// remedy.
func (j *Jobs) Credits(ctx context.Context) (RunResult, error) {
	if err := j.missing[JobCredits]; err != nil {
		return RunResult{}, err
	}
	return j.run.files(ctx, j.exportJob(JobCredits, j.opts.Folders.Credits, j.opts.CreditPrefix))
}

// decideCredit links a credit to its charge and writes its line, or skips
// or holds it.
func (j *Jobs) decideCredit(ctx context.Context, d *decision, rec ExportRecord, w ChargeWriter) error {
	// A credit reads the balance of its charge, which may be queued.
	if err := d.flush(ctx); err != nil {
		return err
	}
	if rec.Credit != nil {
		if refunded, ok := rec.Credit.Type.RefundOf(); ok {
			return j.decideRefund(ctx, d, rec, refunded, w)
		}
	}
	c, r := creditOf(rec)
	if r.Key == "" {
		r.Key = d.lineKey(rec.Line, rec.Index)
		r.Reason = "credit has no bursar transaction id"
		return d.reject(ctx, r)
	}
	if err := c.Validate(); err != nil {
		return d.reject(ctx, refused(r, err))
	}
	// Already decided into another file: the same credit (amount,
	// student) is a duplicate, skipped before it is judged against a
	// balance it already lowered; another is a conflict, held.
	if old, ok, err := d.view.Record(ctx, KindCredit, r.Key); err != nil {
		return err
	} else if ok && old.Outcome == OutcomeCredited && !d.same(old, rec.Line) {
		return d.repeat(ctx, old, r)
	}
	charge, left, reason, err := j.linkCredit(ctx, d, c, r.Key, rec.Barcode)
	if err != nil {
		return err
	}
	if reason != "" {
		r.Reason = reason
		return d.reject(ctx, r)
	}
	r.Ref, r.FeeID, r.Barcode = charge.Key, charge.FeeID, charge.Barcode
	if r.FeeType == "" || r.FeeType == fees.TypeCredit {
		r.FeeType = charge.FeeType
	}
	c.TransactionID, c.FeeID, c.Type = chargeTxID(charge), charge.FeeID, r.FeeType
	if c.Owner == "" {
		c.Owner = charge.Owner // a credit goes to the college of its charge
	}
	if err := fees.CheckCredit(fees.Credit{FeeID: charge.FeeID, Amount: c.Amount}, left); err != nil {
		return d.reject(ctx, refused(r, err))
	}
	line, err := j.deps.Charges.MapCredit(c, d.asOf)
	if err != nil {
		return d.reject(ctx, refused(r, err))
	}
	r.Outcome, r.Payload, r.Output, r.Owner = OutcomeCredited, "", j.outputOf(d, line), c.Owner
	if ok, err := d.claim(ctx, r); err != nil || !ok {
		return err
	}
	return d.writeLine(ctx, w, r, line, rec)
}

// creditOf returns the credit of rec and its journal record. The credit's
// key is the charge key of the charge it reverses, when the record names
// it whole; else the transaction id until it is linked. Alma's credit
// record carries the bursarTransactionId of the fee it reverses: its own
// key is the charge's id when no other is given. The key is "" when the
// credit names no charge at all.
func creditOf(rec ExportRecord) (fees.Credit, Record) {
	c := *rec.Credit
	if c.UserID == "" {
		c.UserID = rec.UserID
	}
	if c.TransactionID == "" {
		c.TransactionID = c.Key
	}
	key := c.TransactionID
	if key != "" && c.Type != "" && c.Type != fees.TypeCredit {
		key = fees.ChargeKey(c.TransactionID, c.Type)
	}
	return c, Record{Kind: KindCredit, Key: key, UserID: c.UserID, FeeID: c.FeeID, FeeType: c.Type, Amount: c.Amount,
		Line: rec.Line, Payload: payload(rec)}
}

// linkCredit finds the charge the credit c (journaled under key)
// reverses, and what the bursar still holds of it: by charge key
// (transaction id and fee type; the id alone when one charge was sent for
// it), else by student, item and fee type. When nothing is linked, reason
// says why.
func (j *Jobs) linkCredit(ctx context.Context, d *decision, c fees.Credit, key, barcode string) (charge Record, left fees.Money, reason string, err error) {
	self := Record{Kind: KindCredit, Key: key}
	if c.TransactionID != "" {
		charge, left, ok, shared, err := d.view.Find(ctx, c.TransactionID, c.Type, self)
		switch {
		case err != nil || ok:
			return charge, left, "", err
		case shared > 0:
			return Record{}, fees.Money{}, fmt.Sprintf("unlinked credit: transaction %s was sent as %d charges of different fee types and the credit (type %s) does not say which it reverses",
				c.TransactionID, shared, c.Type), nil
		}
	}
	unlinked := fmt.Sprintf("unlinked credit: no charge sent for transaction %s, nor for this student's item %q of type %s",
		key, barcode, c.Type)
	if c.UserID == "" {
		return Record{}, fees.Money{}, unlinked, nil
	}
	typ := c.Type
	if c.Type == fees.TypeCredit {
		typ = ""
	}
	cands, err := d.view.StudentCharges(ctx, c.UserID, c.FeeID, barcode, typ)
	if err != nil {
		return Record{}, fees.Money{}, "", err
	}
	for _, cand := range cands {
		charge, left, ok, err := d.view.Left(ctx, cand.Key, self)
		if err != nil {
			return Record{}, fees.Money{}, "", err
		}
		if ok && left.IsPositive() {
			return charge, left, "", nil
		}
	}
	return Record{}, fees.Money{}, unlinked, nil
}
