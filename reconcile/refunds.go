package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Refunds of paid lost items (R8). When a lost item whose replacement fee
// the student paid, in full or in part, comes back, Alma refunds it by the
// "Lost item replacement fee refund ratio" of the loan's terms of use: it
// records a REFUND transaction on the fee, and its credit export carries a
// record of the refund type (LOSTITEMREPLACEMENTFEEREFUND for a
// LOSTITEMREPLACEMENTFEE) with the refunded fee's bursar transaction id
// and the amount given back. The credits job reads it beside the waivers,
// and decides it by the district's policy for the refunded fee type:
//
//   - RefundSend: a refund line to the bursar, linked to the charge by its
//     reference and its own refund item type, of the amount Alma gave
//     back; held when that is more than the bursar took for the charge,
//     less earlier refunds ([fees.CheckRefund]), or more than the
//     configured ratio of it (the ratio mirrors Alma's; a difference means
//     one of them is set wrong).
//   - RefundReport (the default): held for staff, the daily report showing
//     the charge, what was paid, refunded so far and is due back; staff
//     refund it their way and dismiss it, or re-drive it once the policy
//     says refund.
//
// The refund is keyed by the charge key of the fee refunded (R6): the same
// record read again is a duplicate, and a crash at any step of the file's
// run converges to one refund line (the credits job's runner).

// RefundAction is what feebridge does with a refund of a fee type.
type RefundAction string

// The refund actions.
const (
	// RefundReport holds the refund for staff to decide; the default.
	RefundReport RefundAction = "report"
	// RefundSend sends the refund to the bursar as a refund line.
	RefundSend RefundAction = "refund"
)

// RefundPolicy is the district's policy for the refunds of one fee type.
type RefundPolicy struct {
	Action RefundAction
	// Ratio is the share of what the bursar took for the charge that may
	// go back, as Alma's terms of use give it (100 for all).
	Ratio fees.RefundRatio
}

// CodeRefundReport is the code of a refund held for staff by the policy
// RefundReport (a held record's Code).
const CodeRefundReport = "refund_report"

// RefundFormat is an optional ability of a [ChargeFormat]: it writes
// refund lines (R8). A format without it holds every refund it is asked
// to send, with that reason.
type RefundFormat interface {
	// MapRefund returns the line that gives r.Amount back to the student
	// on the charge r names, with the meaning of errors of MapCharge.
	MapRefund(r fees.Refund, asOf time.Time) (ChargeLine, error)
}

// refundPolicy is the policy for refunds of fee type t: RefundReport for a
// type with none.
func (j *Jobs) refundPolicy(t fees.Type) RefundPolicy {
	if p, ok := j.opts.Refunds[t]; ok && p.Action != "" {
		return p
	}
	return RefundPolicy{Action: RefundReport, Ratio: fees.FullRefund}
}

// decideRefund decides the refund record rec of the fee type refunded:
// it links it to its charge, checks it against what was paid, and writes
// its line or holds it, by the policy for the type.
func (j *Jobs) decideRefund(ctx context.Context, d *decision, rec ExportRecord, refunded fees.Type, w ChargeWriter) error {
	c := *rec.Credit
	if c.UserID == "" {
		c.UserID = rec.UserID
	}
	if c.TransactionID == "" {
		c.TransactionID = c.Key
	}
	rf := fees.Refund{Key: fees.ChargeKey(c.TransactionID, refunded), TransactionID: c.TransactionID, Type: refunded,
		FeeID: c.FeeID, UserID: c.UserID, Amount: c.Amount, Reason: c.Reason, Date: c.Date}
	r := Record{Kind: KindRefund, Key: rf.Key, Ref: rf.Key, UserID: rf.UserID, FeeID: rf.FeeID, FeeType: refunded,
		Barcode: rec.Barcode, Amount: rf.Amount, Line: rec.Line, Payload: payload(rec)}
	if c.TransactionID == "" {
		r.Key, r.Ref = d.lineKey(rec.Line, rec.Index), ""
		r.Reason = "refund has no bursar transaction id: it names no charge"
		return d.reject(ctx, r)
	}
	if err := rf.Validate(); err != nil {
		return d.reject(ctx, refused(r, err))
	}
	if old, ok, err := d.view.Record(ctx, KindRefund, r.Key); err != nil {
		return err
	} else if ok && old.Outcome == OutcomeRefunded && !d.same(old, rec.Line) {
		return d.repeat(ctx, old, r)
	}
	charge, _, ok, err := d.view.Left(ctx, r.Key, r)
	if err != nil {
		return err
	}
	if !ok {
		r.Reason = fmt.Sprintf("refund for a charge never sent: no charge %s", r.Key)
		return d.reject(ctx, r)
	}
	r.FeeID, r.Barcode = charge.FeeID, charge.Barcode
	rf.FeeID, rf.Owner = charge.FeeID, c.Owner
	if rf.Owner == "" {
		rf.Owner = charge.Owner // a refund goes to the college of its charge
	}
	if rf.UserID == "" {
		rf.UserID, r.UserID = charge.UserID, charge.UserID
	}
	paid, before, err := d.view.Paid(ctx, r.Key, r)
	if err != nil {
		return err
	}
	if reason, code, err := j.judgeRefund(rf, charge, paid, before); err != nil || reason != "" {
		if err != nil {
			return d.reject(ctx, refused(r, err))
		}
		r.Reason, r.Code = reason, code
		return d.reject(ctx, r)
	}
	line, err := j.refundLine(rf, d.asOf)
	if err != nil {
		return d.reject(ctx, refused(r, err))
	}
	r.Outcome, r.Payload, r.Owner = OutcomeRefunded, "", rf.Owner
	if ok, err := d.claim(ctx, r); err != nil || !ok {
		return err
	}
	return d.writeLine(ctx, w, r, line, rec)
}

// judgeRefund checks the refund rf of charge, of which the bursar took
// paid and refunded before, by R8 and the policy for its type. It returns
// an error (EOVERREFUND) when the refund is above what was paid less the
// refunds before, else the reason (and code) to hold it for, or "" to
// send it.
func (j *Jobs) judgeRefund(rf fees.Refund, charge Record, paid, before fees.Money) (reason, code string, err error) {
	if err := fees.CheckRefund(charge.FeeID, rf.Amount, paid, before); err != nil {
		return "", "", err
	}
	policy := j.refundPolicy(rf.Type)
	due, err := policy.Ratio.Due(paid, before)
	if err != nil {
		return "", "", err
	}
	amounts := fmt.Sprintf("charged %s, paid %s, refunded before %s, due back %s by the %d%% ratio; Alma refunded %s",
		charge.Amount, paid, before, due, int(policy.Ratio), rf.Amount)
	if policy.Action != RefundSend {
		return "refund for staff to decide (refund policy report for " + string(rf.Type) + "): " + amounts +
			"; refund it at the bursar, then dismiss this", CodeRefundReport, nil
	}
	if c, _ := rf.Amount.Cmp(due); c > 0 {
		return "", "", &fees.Error{Code: fees.EOVERREFUND, Fee: charge.FeeID, Amount: rf.Amount, Balance: due,
			Message: "refund above the configured ratio: " + amounts + "; check the ratio in Alma's terms of use and in feebridge's [refunds]"}
	}
	return "", "", nil
}

// refundLine maps rf to its line, when the charge format writes refunds.
func (j *Jobs) refundLine(rf fees.Refund, asOf time.Time) (ChargeLine, error) {
	f, ok := j.deps.Charges.(RefundFormat)
	if !ok {
		return ChargeLine{}, fmt.Errorf("the bursar's charge format writes no refund lines")
	}
	return f.MapRefund(rf, asOf)
}
