package fees

import (
	"errors"
	"fmt"
)

// Error codes. Callers test them with [ErrorCode] or errors.As on *[Error].
const (
	// EINVALID: malformed input, such as an amount with too many decimal
	// places or a missing field.
	EINVALID = "invalid"
	// ECURRENCY: two amounts in different currencies were combined.
	ECURRENCY = "currency_mismatch"
	// ENOTFOUND: the fee is not known.
	ENOTFOUND = "not_found"
	// ECLOSED: the fee is closed and takes no more payments or waivers.
	ECLOSED = "fee_closed"
	// EOVERPAY: the payment or waiver is above the fee's remaining balance.
	EOVERPAY = "overpayment"
	// EOVERREFUND: a refund above what was paid on the fee, less what
	// was already refunded (R8).
	EOVERREFUND = "excessive_refund"
	// EPARTIALESERVICES: an eServices payment that does not pay the whole
	// remaining balance (R4).
	EPARTIALESERVICES = "partial_eservices_payment"
	// EPARTIALWAIVE: a waiver of a transferred fee that is not its whole
	// remaining balance (R5).
	EPARTIALWAIVE = "partial_waiver"
	// ENOTTRANSFERRED: a bursar payment for a fee that was never
	// transferred to the bursar.
	ENOTTRANSFERRED = "not_transferred"
	// ESTATE: the action does not fit the fee's status (for example
	// transferring a fee twice).
	ESTATE = "invalid_state"
	// EDATE: a date that cannot be right, such as a payment dated more
	// than one day after today or before the charge it pays was sent.
	EDATE = "implausible_date"
	// ECONFLICT: a record whose key was already handled arrives again with
	// other amounts, dates or people: not a duplicate to skip, but a
	// conflict for a person to resolve.
	ECONFLICT = "conflict"
)

// Error is a domain error. Code is one of the E… constants; Fee names the
// fee it concerns, when there is one; Amount and Balance are the amounts
// in play, when any.
type Error struct {
	Code    string
	Fee     string
	Amount  Money
	Balance Money
	Message string
}

// Error returns the message, prefixed by the fee when there is one.
func (e *Error) Error() string {
	if e.Fee != "" {
		return "fee " + e.Fee + ": " + e.Message
	}
	return e.Message
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or "" if
// there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
