package fees

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Refund is money given back to the student on a fee they paid (R8): a
// lost item paid for, then returned. A refund is never more than what was
// paid on the fee, summed over every earlier refund.
type Refund struct {
	// Key identifies the refund, so that it is applied once (R6).
	Key string
	// TransactionID is the bursar transaction id of the charge refunded,
	// and Type the fee type of that charge: together, its charge key
	// ([ChargeKey]), which a refund line sends to the bursar.
	TransactionID string
	Type          Type
	FeeID         string
	UserID        string
	Amount        Money // positive: the amount given back
	Reason        string
	Date          time.Time
	// Owner is the code of the library that owns the fee refunded
	// (Alma's owneredEntity), which routes the refund to its college;
	// "" when not known.
	Owner string
}

// Validate checks the refund on its own: a positive amount.
func (r Refund) Validate() error {
	if !r.Amount.Valid() || !r.Amount.IsPositive() {
		return &Error{Code: EINVALID, Fee: r.FeeID, Amount: r.Amount, Message: fmt.Sprintf("refund %s of %s: must be positive", r.Key, r.Amount)}
	}
	return nil
}

// CheckRefund checks a refund of amount on a fee of which paid was paid
// and refunded was already refunded: it returns an *[Error] with code
// [EOVERREFUND] when amount is above paid − refunded, [ECURRENCY] when the
// currencies differ, nil otherwise. It is the rule that the fee, the
// jobs and the simulated ledger all call.
func CheckRefund(feeID string, amount, paid, refunded Money) error {
	left, err := paid.Sub(refunded)
	if err == nil {
		var c int
		if c, err = amount.Cmp(left); err == nil && c > 0 {
			return &Error{Code: EOVERREFUND, Fee: feeID, Amount: amount, Balance: left, Message: fmt.Sprintf(
				"cannot refund %s: only %s was paid and %s of it already refunded, so at most %s may go back", amount, paid, refunded, left)}
		}
	}
	if err != nil {
		return &Error{Code: ECURRENCY, Fee: feeID, Amount: amount, Balance: paid,
			Message: fmt.Sprintf("refund of %s on %s paid: currencies differ", amount, paid)}
	}
	return nil
}

// Refund gives r.Amount back to the student by the rule of R8: never more
// than Paid − Refunded. The part refunded is forgiven by the library, so
// it counts in Waived as well as in Refunded, and the fee's invariant
//
//	Original = Paid + Waived + Balance − Refunded
//
// holds after it (for a fee never refunded, Refunded is zero and this is
// R3 as before). The balance and status do not change. A fee in dispute
// takes no refund ([ESTATE]). On an error the fee is unchanged.
func (f *Fee) Refund(r Refund) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if f.Status == StatusInDispute {
		return f.errorf(ESTATE, r.Amount, "cannot refund %s: the fee is in dispute", r.Amount)
	}
	refunded := f.refunded()
	if err := CheckRefund(f.ID, r.Amount, f.Paid, refunded); err != nil {
		return err
	}
	f.Refunded = mustAdd(refunded, r.Amount)
	f.Waived = mustAdd(f.Waived, r.Amount)
	if !r.Date.IsZero() {
		f.Updated = r.Date
	}
	return nil
}

// refunded is f.Refunded, or zero in the fee's currency when the fee was
// built without it.
func (f *Fee) refunded() Money {
	if f.Refunded.Valid() {
		return f.Refunded
	}
	return Zero(f.Original.Currency())
}

// RefundRatio is the share of what was paid that goes back to the student
// when a paid lost item comes back, in whole percent from 0 to 100. It
// mirrors the "Lost item replacement fee refund ratio" of Alma's terms of
// use. The zero value refunds nothing; [FullRefund] refunds all.
type RefundRatio int

// FullRefund gives back everything that was paid.
const FullRefund RefundRatio = 100

// Validate checks that the ratio is between 0 and 100.
func (q RefundRatio) Validate() error {
	if q < 0 || q > 100 {
		return Errorf(EINVALID, "refund ratio %d%%: want 0 to 100", int(q))
	}
	return nil
}

// RefundDue returns what is still due back to the student on f under
// ratio q (see [RefundRatio.Due]).
func (f *Fee) RefundDue(q RefundRatio) (Money, error) {
	return q.Due(f.Paid, f.refunded())
}

// Due returns what is still due back of paid, of which refunded was
// already given back, under ratio q: q percent of paid, rounded down to
// the currency's minor unit (never a cent more than the ratio gives),
// less refunded; zero when nothing is due.
func (q RefundRatio) Due(paid, refunded Money) (Money, error) {
	if err := q.Validate(); err != nil {
		return Money{}, err
	}
	cur := paid.Currency()
	places, _ := cur.MinorUnits()
	share := paid.Decimal().Mul(decimal.NewFromInt(int64(q))).Div(decimal.NewFromInt(100)).RoundDown(int32(places))
	due, err := NewMoney(share, cur)
	if err != nil {
		return Money{}, err
	}
	if refunded.Valid() {
		if due, err = due.Sub(refunded); err != nil {
			return Money{}, err
		}
	}
	if due.IsNegative() {
		return Zero(cur), nil
	}
	return due, nil
}

// RefundOf reports whether t is the type of a refund record, and the fee
// type it refunds: Alma's LOSTITEMREPLACEMENTFEEREFUND refunds a
// LOSTITEMREPLACEMENTFEE, and so any type X + "REFUND" refunds X.
func (t Type) RefundOf() (Type, bool) {
	s, ok := strings.CutSuffix(string(t), "REFUND")
	if !ok || s == "" {
		return "", false
	}
	return Type(s), true
}
