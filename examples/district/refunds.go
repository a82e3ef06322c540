package district

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// Refunds of paid lost items (rule R8) in the week. Some students pay for
// a lost item before it comes back: the lost-item fees of an item that
// will be returned two or more days later are paid at the bursar, the
// first in full (eServices), the next in part (at the cashier), then
// either at random. When the item comes back, Alma refunds what was paid
// by its terms of use's refund ratio (RefundRatio for both lost-item
// types), and its credit export carries the refunds. feesync's [refunds]
// policy (the sandbox's config) sends the replacement fee's refund to
// PeopleSoft as a refund line, and holds the process fee's for staff
// (report), who refund it from the library and dismiss it from the
// journal. The audit checks every refund to the cent on both sides.

// RefundRatio is the "Lost item replacement fee refund ratio" of the
// district's terms of use in Alma, for both lost-item fee types; the
// sandbox's feesync config mirrors it.
const RefundRatio fees.RefundRatio = 100

// RefundPolicies are feesync's refund policies in the district: refund
// the replacement fee through PeopleSoft, report the process fee.
var RefundPolicies = map[fees.Type]reconcile.RefundAction{
	fees.TypeLostItemReplacementFee: reconcile.RefundSend,
	fees.TypeLostItemProcessFee:     reconcile.RefundReport,
}

// refundPaidShare is the share of the lost items coming back whose fees
// the student pays first.
const refundPaidShare = 0.4

// The staff member who decides the reported refunds, and what they do.
const (
	refundStaff  = "circulation desk"
	refundAction = "refunded from the library's own account"
)

// refundWeek is the week's record of refunds.
type refundWeek struct {
	planned      int               // lost items paid for before their return
	paidFull     int               // … of which the fees were paid in full
	fees         map[string]string // the fees paid so, by fee id: "full" or "part"
	sent         int               // refunds PeopleSoft applied
	sentSum      fees.Money
	reported     int // refunds held for staff and decided by them
	reportedSum  fees.Money
	decided      map[string]bool // refund keys staff dismissed
	decidedOrder []string
}

// planRefunds, at 09:00 with the day's plan, has students pay the
// lost-item fees of some items that come back two or more days later.
func (d *District) planRefunds() {
	soon := d.clock.Now().AddDate(0, 0, 2)
	for _, l := range d.loans {
		if !l.lost || l.foundAt.Before(soon) || l.refundDrawn {
			continue
		}
		l.refundDrawn = true
		first := d.refunds.planned < 2
		if !first && d.rng.Float64() >= refundPaidShare {
			continue
		}
		full := d.refunds.planned == 0 || (!first && d.rng.IntN(2) == 0)
		kind := "refundPart"
		if full {
			kind = "refundFull"
		}
		planned := false
		for _, f := range d.lostFees(l.user, l.barcode) {
			left, ok := d.ledger.Balance(f.TransactionID)
			if f.Status != fees.StatusTransferred || !ok || !f.Balance.Equal(left) {
				continue
			}
			d.actions = append(d.actions, action{hour: 10, kind: kind, ref: f.TransactionID})
			planned = true
		}
		if planned {
			d.refunds.planned++
			if full {
				d.refunds.paidFull++
			}
		}
	}
}

// payBeforeReturn pays the lost-item fee ref, left at the bursar, in full
// or in part, as planRefunds planned: the fee stays set aside for its
// item's return.
func (d *District) payBeforeReturn(a action, f fees.Fee, left fees.Money) error {
	if d.refunds.fees == nil {
		d.refunds.fees = map[string]string{}
	}
	if a.kind == "refundFull" {
		d.refunds.fees[f.ID] = "full"
		return d.pay(a.ref, left, fees.ChannelEServices, fees.MethodCreditCard, &d.today.online, &d.today.onlineSum, &d.stats.online, &d.stats.onlineSum)
	}
	cents, _ := left.MinorUnits()
	part := d.money(max(1, cents/200) * 100)
	if c, _ := part.Cmp(left); c >= 0 {
		part = d.money(cents / 2)
	}
	if !part.IsPositive() {
		return nil
	}
	d.refunds.fees[f.ID] = "part"
	return d.pay(a.ref, part, fees.ChannelCashier, fees.MethodCash, &d.today.cashPart, &d.today.cashPartSum, &d.stats.cashPart, &d.stats.cashPartSum)
}

// decideReportedRefunds is staff working through the refunds held for
// them (policy report): each is refunded from the library's own account
// and dismissed from the journal, with who and why.
func (d *District) decideReportedRefunds(ctx context.Context, jr *reconcile.Journal) error {
	held, err := jr.Records(ctx, reconcile.KindRefund, reconcile.OutcomeRejected)
	if err != nil {
		return err
	}
	for _, r := range held {
		if r.Code != reconcile.CodeRefundReport {
			continue // the audit reports it
		}
		if _, err := jr.Dismiss(ctx, reconcile.KindRefund, r.Key, refundStaff, refundAction); err != nil {
			return fmt.Errorf("dismiss reported refund %s: %w", r.Key, err)
		}
		if d.refunds.decided == nil {
			d.refunds.decided = map[string]bool{}
		}
		d.refunds.decided[r.Key] = true
		d.refunds.decidedOrder = append(d.refunds.decidedOrder, r.Key)
		d.today.note("refunds", "staff", d.clock.Now(), fmt.Sprintf("refund %s of %s reported for staff: %s", r.Key, r.Amount, refundAction))
	}
	return nil
}

// auditRefunds checks every refund Alma made, to the cent: one the policy
// sends is a refund in PeopleSoft on its charge and in the journal, of
// Alma's amount; one it reports was decided by staff and never reached
// PeopleSoft. It tallies the table's rows.
func (d *District) auditRefunds(ctx context.Context, jr *reconcile.Journal) ([]string, error) {
	var problems []string
	mp := d.mapping
	d.refunds.sent, d.refunds.reported = 0, 0
	d.refunds.sentSum, d.refunds.reportedSum = fees.Zero(d.cur), fees.Zero(d.cur)
	for id := range d.refunds.fees {
		f, ok := d.alma.Fee(id)
		if !ok {
			problems = append(problems, fmt.Sprintf("refund: fee %s is gone from Alma", id))
			continue
		}
		if !f.Refunded.IsPositive() {
			if f.Status != fees.StatusClosed {
				continue // not back yet
			}
			problems = append(problems, fmt.Sprintf("refund: fee %s was paid and its item returned, but Alma refunded nothing", id))
			continue
		}
		key := f.ChargeKey()
		rec, found, err := jr.Get(ctx, reconcile.KindRefund, key)
		if err != nil {
			return nil, err
		}
		it, _ := d.ledger.Ledger().ItemOf(f.TransactionID, mp.ItemTypes[f.Type])
		got := it.Refunded
		if !got.Valid() {
			got = fees.Zero(d.cur)
		}
		switch RefundPolicies[f.Type] {
		case reconcile.RefundSend:
			if !found || rec.Outcome != reconcile.OutcomeRefunded || !rec.Amount.Equal(f.Refunded) || !got.Equal(f.Refunded) {
				problems = append(problems, fmt.Sprintf("refund of fee %s (%s): Alma refunded %s, the journal has %s %s, PeopleSoft refunded %s",
					id, key, f.Refunded, rec.Outcome, rec.Amount, got))
				continue
			}
			d.refunds.sent++
			d.refunds.sentSum = add(d.refunds.sentSum, got)
		default:
			if !found || rec.Outcome != reconcile.OutcomeDismissed || got.IsPositive() {
				problems = append(problems, fmt.Sprintf("reported refund of fee %s (%s): the journal has %q, PeopleSoft refunded %s",
					id, key, rec.Outcome, got))
				continue
			}
			d.refunds.reported++
			d.refunds.reportedSum = add(d.refunds.reportedSum, f.Refunded)
		}
	}
	return problems, nil
}

// refundRows prints the week's refunds in the table per flow.
func (d *District) refundRows(row func(flow, what string, n int, sum string)) {
	row("R8", "lost items paid for, then returned", d.refunds.planned, "")
	row("R8", "… refunds sent to PeopleSoft (policy refund)", d.refunds.sent, amount(d.refunds.sentSum))
	row("R8", "… refunds reported, decided by staff (policy report)", d.refunds.reported, amount(d.refunds.reportedSum))
}

// isRefund reports whether an exported record is a refund (R8).
func isRefund(t fees.Type) bool {
	_, ok := t.RefundOf()
	return ok
}
