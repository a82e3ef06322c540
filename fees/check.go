package fees

import (
	"fmt"
	"time"
)

// CheckPayment applies the payment rules of R4 to p against left, what
// remains to pay of the fee p is for (its balance, or what the bursar
// still holds of it). It returns nil when p may be taken, else an *[Error]
// that names the fee (p.FeeID), the payment (p.Key, when set) and the
// amounts:
//
//   - the codes of [Payment.Validate] (EINVALID) for a payment wrong on
//     its own;
//   - ECURRENCY when p and left are in different currencies;
//   - ECLOSED when nothing is left to pay;
//   - EOVERPAY when p is above left;
//   - EPARTIALESERVICES when an eServices payment does not pay all of left.
//
// It does not know the fee's status: [Fee.Pay] checks that first.
func CheckPayment(p Payment, left Money) error {
	if err := p.Validate(); err != nil {
		return err
	}
	what := "payment of " + p.Amount.String()
	if p.Key != "" {
		what = "payment " + p.Key + " of " + p.Amount.String()
	}
	refuse := func(code, format string, args ...any) error {
		return &Error{Code: code, Fee: p.FeeID, Amount: p.Amount, Balance: left, Message: fmt.Sprintf(format, args...)}
	}
	cmp, err := p.Amount.Cmp(left)
	switch {
	case err != nil:
		return refuse(ECURRENCY, "%s on a balance of %s: currencies differ", what, left)
	case !left.IsPositive():
		return refuse(ECLOSED, "%s on a charge with nothing left to pay", what)
	case cmp > 0:
		return refuse(EOVERPAY, "%s is above the remaining %s", what, left)
	case cmp < 0 && p.Channel == ChannelEServices:
		return refuse(EPARTIALESERVICES, "eServices %s does not pay the whole %s", what, left)
	}
	return nil
}

// CheckCredit applies the full-waive rule (R5) to c, a credit (the waiver
// of a transferred fee, on its way to the bursar), against left, what the
// bursar still holds of the fee it reverses. It returns nil when c reverses
// exactly left, else an *[Error] that names the fee (c.FeeID) and the
// amounts:
//
//   - ECURRENCY when c and left are in different currencies;
//   - EOVERPAY when c is above left;
//   - EPARTIALWAIVE when c is below left, with the two-step path (pay the
//     agreed amount at the cashier, wait until Alma shows it, waive the
//     rest; see [PlanPartialWaive]).
//
// It does not check c on its own: call [Credit.Validate] for that.
func CheckCredit(c Credit, left Money) error {
	cmp, err := c.Amount.Cmp(left)
	switch {
	case err != nil:
		return &Error{Code: ECURRENCY, Fee: c.FeeID, Amount: c.Amount, Balance: left,
			Message: fmt.Sprintf("credit of %s on a balance of %s: currencies differ", c.Amount, left)}
	case cmp > 0:
		return &Error{Code: EOVERPAY, Fee: c.FeeID, Amount: c.Amount, Balance: left,
			Message: fmt.Sprintf("credit of %s is above the %s the bursar still holds", c.Amount, left)}
	case cmp < 0:
		return partialWaive(c.FeeID, c.Amount, left, StatusTransferred)
	}
	return nil
}

// partialWaive is the refusal of a waiver of amount that leaves part of
// the balance of a fee in status.
func partialWaive(fee string, amount, balance Money, status Status) *Error {
	return &Error{Code: EPARTIALWAIVE, Fee: fee, Amount: amount, Balance: balance, Message: fmt.Sprintf(
		"cannot waive %s of the %s balance of a %s fee: only the whole balance may be waived, or PeopleSoft would not be updated; "+
			"to settle for less, have the student pay the agreed amount at the cashier, wait until Alma shows that payment, then waive the rest",
		amount, balance, status)}
}

// CheckPaymentDate checks that p's date is plausible: not later than the
// day after now, and not before the day the charge it pays was sent
// (sent; not checked when zero). p.Date is a calendar date, read as
// written; sent and now are taken in now's location (the job's zone).
// It returns nil when the date is plausible, else an *[Error] with code
// EDATE that names the payment (p.Key, or its reference), the date and
// the limit it breaks.
func CheckPaymentDate(p Payment, sent, now time.Time) error {
	loc := now.Location()
	y, m, d := p.Date.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	what := p.Key
	if what == "" {
		what = p.Receipt + "/" + p.TransactionID
	}
	refuse := func(format string, args ...any) error {
		return &Error{Code: EDATE, Fee: p.FeeID, Amount: p.Amount, Message: fmt.Sprintf(format, args...)}
	}
	ny, nm, nd := now.Date()
	latest := time.Date(ny, nm, nd+1, 0, 0, 0, 0, loc)
	switch {
	case p.Date.IsZero():
		return refuse("payment %s is dated %s, which is no date: the earliest is the day its charge was sent", what, p.Date.Format(time.DateOnly))
	case day.After(latest):
		return refuse("payment %s is dated %s, after %s (one day after today)", what, p.Date.Format(time.DateOnly), latest.Format(time.DateOnly))
	}
	if sent.IsZero() {
		return nil
	}
	sy, sm, sd := sent.In(loc).Date()
	if earliest := time.Date(sy, sm, sd, 0, 0, 0, 0, loc); day.Before(earliest) {
		return refuse("payment %s is dated %s, before %s when the charge it pays was sent", what, p.Date.Format(time.DateOnly), earliest.Format(time.DateOnly))
	}
	return nil
}
