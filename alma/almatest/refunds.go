package almatest

import (
	"fmt"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Refunds of paid lost items (R8), as the fake models them. What Ex
// Libris documents: a terms of use may set a "Lost item replacement fee
// refund ratio" that makes Alma refund a paid replacement fee when the lost
// item is found or returned, and a fee's transactions list what was done
// on it. What the fake assumes (see alma/testdata/rest/PROVENANCE): on
// the return, each lost-item fee of the loan whose type has a ratio gets
// a REFUND transaction of that share of what was paid on it (less earlier
// refunds, rounded down to the cent), which leaves its balance and status
// as they were; and when the fee had been transferred to the bursar, the
// next credit export carries the refund as a record of the refund type
// (LOSTITEMREPLACEMENTFEEREFUND) with the fee's bursarTransactionId.

// refundLostLocked refunds, by the policy's RefundRatios, what was paid
// on the lost-item fees of the lost loan l, which is coming back now.
func (s *Server) refundLostLocked(l *Loan, now time.Time) {
	for _, id := range s.feeOrder {
		r := s.feeByID[id]
		q := s.policy.RefundRatios[r.f.Type]
		if r.loanID != l.ID || q == 0 || r.f.Status == fees.StatusInDispute {
			continue
		}
		due, err := r.f.RefundDue(q)
		if err != nil || !due.IsPositive() {
			continue
		}
		transferred := r.transferredLocked()
		if r.f.Refund(fees.Refund{FeeID: r.f.ID, Amount: due, Date: now}) != nil {
			continue
		}
		r.txns = append(r.txns, Transaction{
			ID: s.newID(kindTxn), Type: "REFUND", Amount: due, Time: now, CreatedBy: "almatest",
			Comment: fmt.Sprintf("Lost item returned: refund ratio %d%%", int(q)), Transferred: transferred,
		})
	}
}

// transferredLocked reports whether the fee was ever transferred to the
// bursar: it is now, or something was done on it while it was.
func (r *feeRec) transferredLocked() bool {
	if r.f.Status == fees.StatusTransferred {
		return true
	}
	for _, t := range r.txns {
		if t.Transferred {
			return true
		}
	}
	return false
}

// creditedFee is the fee as a credit export record of the transaction t
// shows it: the fee itself for a waiver, the fee under its refund type
// for a refund.
func creditedFee(r *feeRec, t Transaction) *fees.Fee {
	if t.Type != "REFUND" {
		return &r.f
	}
	f := r.f
	f.Type = r.f.Type + "REFUND"
	return &f
}
