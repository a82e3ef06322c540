package pstest

import (
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// refundItemTypes returns the refund item types the ledger knows: given,
// or those of peoplesoft.DefaultMapping.
func refundItemTypes(given map[string]string) map[string]string {
	if given != nil {
		return given
	}
	return RefundItemTypesOf(peoplesoft.DefaultMapping())
}

// RefundItemTypesOf is [Options].RefundItemTypes for a bursar whose
// mapping is m: each refund item type to the item type of the charges it
// refunds.
func RefundItemTypesOf(m peoplesoft.Mapping) map[string]string {
	out := make(map[string]string, len(m.RefundItemTypes))
	for t, rit := range m.RefundItemTypes {
		out[rit] = m.ItemTypes[t]
	}
	return out
}

// isRefund reports whether ln is a refund line: a negative amount of a
// refund item type.
func (l *Ledger) isRefund(ln chargeLine) bool {
	_, ok := l.refunds[ln.ch.ItemType]
	return ok && ln.ch.Amount.IsNegative()
}

// applyRefund gives the refund line's amount back to the student on the
// item it names by its reference and the item type its refund item type
// refunds (R8): never more than was paid on it less earlier refunds
// ([fees.CheckRefund] decides). The item's balance does not change: a
// refund pays money out, as PeopleSoft's refund process does with the
// credit the line leaves on the account. A line that cannot be applied
// is held as an exception.
func (l *Ledger) applyRefund(res *LoadResult, file string, ln chargeLine) {
	ch := ln.ch
	refund := ch.Amount.Neg()
	it, known := l.items[itemKey{ch.Ref, l.refunds[ch.ItemType]}]
	switch {
	case !known:
		l.hold(res, file, ln, "refund for reference %s item type %s, which the ledger does not hold", ch.Ref, l.refunds[ch.ItemType])
		return
	case it.EmplID != ch.EmplID:
		l.hold(res, file, ln, "refund for reference %s item type %s, which belongs to another student", ch.Ref, it.ItemType)
		return
	}
	if err := fees.CheckRefund(ch.Ref, refund, it.Paid, it.Refunded); err != nil {
		l.hold(res, file, ln, "refund on reference %s item type %s: %v", ch.Ref, it.ItemType, err)
		return
	}
	it.Refunded = must(it.Refunded.Add(refund))
	res.Refunds++
	res.Refunded = must(res.Refunded.Add(refund))
	l.t.Refunds++
	l.t.Refunded = must(l.t.Refunded.Add(refund))
}
