package fees

import (
	"fmt"
	"time"
)

// Channel is where a payment was taken.
type Channel int

// The payment channels.
const (
	// ChannelEServices is the student's online self-service account: each
	// fee is paid in full, by credit card.
	ChannelEServices Channel = iota + 1
	// ChannelCashier is the Business Services Office: any amount up to the
	// balance, on the fees the student picks, by cash, check or card in
	// person, or by check in the mail.
	ChannelCashier
	// ChannelLibrary is a payment taken at the library desk in Alma,
	// before or after the fee was transferred.
	ChannelLibrary
)

var channelCodes = map[Channel]string{
	ChannelEServices: "ESERVICES",
	ChannelCashier:   "CASHIER",
	ChannelLibrary:   "LIBRARY",
}

// String returns the channel's code: ESERVICES, CASHIER or LIBRARY.
func (c Channel) String() string {
	if s, ok := channelCodes[c]; ok {
		return s
	}
	return fmt.Sprintf("Channel(%d)", int(c))
}

// Bursar reports whether payments on c are taken by the bursar
// (PeopleSoft) rather than by the library.
func (c Channel) Bursar() bool { return c == ChannelEServices || c == ChannelCashier }

// ParseChannel maps ESERVICES, CASHIER or LIBRARY to a Channel.
func ParseChannel(code string) (Channel, error) {
	for c, s := range channelCodes {
		if s == code {
			return c, nil
		}
	}
	return 0, Errorf(EINVALID, "unknown payment channel %q (want ESERVICES, CASHIER or LIBRARY)", code)
}

// Method is how a payment was made.
type Method int

// The payment methods.
const (
	MethodCreditCard Method = iota + 1
	MethodCash
	MethodCheck
)

var methodCodes = map[Method]string{
	MethodCreditCard: "CREDIT_CARD",
	MethodCash:       "CASH",
	MethodCheck:      "CHECK",
}

// String returns the method's code: CREDIT_CARD, CASH or CHECK.
func (m Method) String() string {
	if s, ok := methodCodes[m]; ok {
		return s
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod maps CREDIT_CARD, CASH or CHECK to a Method.
func ParseMethod(code string) (Method, error) {
	for m, s := range methodCodes {
		if s == code {
			return m, nil
		}
	}
	return 0, Errorf(EINVALID, "unknown payment method %q (want CREDIT_CARD, CASH or CHECK)", code)
}

// Payment is money received against one fee.
type Payment struct {
	// Key identifies the payment for idempotency (R6); for PeopleSoft
	// payments it is the receipt number and the fee's reference.
	Key           string
	FeeID         string
	TransactionID string // the bursar transaction id the payment is for
	UserID        string
	Amount        Money
	Channel       Channel
	Method        Method
	Receipt       string
	Date          time.Time
}

// Validate checks the payment on its own: a positive amount, a known
// channel, and a method the channel takes (eServices: credit card only).
func (p Payment) Validate() error {
	ref := p.FeeID
	if ref == "" {
		ref = p.TransactionID
	}
	switch {
	case !p.Amount.Valid():
		return &Error{Code: EINVALID, Fee: ref, Message: "payment without a valid amount and currency"}
	case !p.Amount.IsPositive():
		return &Error{Code: EINVALID, Fee: ref, Amount: p.Amount, Message: fmt.Sprintf("payment of %s: must be positive", p.Amount)}
	case channelCodes[p.Channel] == "":
		return &Error{Code: EINVALID, Fee: ref, Amount: p.Amount, Message: fmt.Sprintf("payment of %s: unknown channel", p.Amount)}
	case methodCodes[p.Method] == "":
		return &Error{Code: EINVALID, Fee: ref, Amount: p.Amount, Message: fmt.Sprintf("payment of %s: unknown method", p.Amount)}
	case p.Channel == ChannelEServices && p.Method != MethodCreditCard:
		return &Error{Code: EINVALID, Fee: ref, Amount: p.Amount, Message: fmt.Sprintf("eServices payment of %s by %s: eServices takes credit cards only", p.Amount, p.Method)}
	}
	return nil
}

// Waiver forgives part or all of a fee's balance.
type Waiver struct {
	Key     string
	FeeID   string
	Amount  Money
	Reason  string // Alma's waive reason code, required
	Comment string
	Date    time.Time
}

// Validate checks the waiver on its own: a positive amount and a reason.
func (w Waiver) Validate() error {
	switch {
	case !w.Amount.Valid() || !w.Amount.IsPositive():
		return &Error{Code: EINVALID, Fee: w.FeeID, Amount: w.Amount, Message: fmt.Sprintf("waiver of %s: must be positive", w.Amount)}
	case w.Reason == "":
		return &Error{Code: EINVALID, Fee: w.FeeID, Amount: w.Amount, Message: fmt.Sprintf("waiver of %s: a reason is required", w.Amount)}
	}
	return nil
}

// Credit is a reversal sent to the bursar: it lowers what the student owes
// for a fee that was transferred, after the library waived it.
type Credit struct {
	// Key identifies the credit (Alma's bursar transaction id for the
	// credit record).
	Key string
	// TransactionID is the bursar transaction id of the charge that the
	// credit reverses, when known.
	TransactionID string
	FeeID         string
	UserID        string
	Type          Type  // the type of the fee reversed
	Amount        Money // positive: the amount taken off the student's account
	// Owner is the code of the library that owns the fee credited, which
	// routes the credit to the same college as the fee's charge.
	Owner  string
	Reason string
	Date   time.Time
}

// Validate checks the credit on its own: a positive amount and a user.
func (c Credit) Validate() error {
	switch {
	case !c.Amount.Valid() || !c.Amount.IsPositive():
		return &Error{Code: EINVALID, Fee: c.FeeID, Amount: c.Amount, Message: fmt.Sprintf("credit %s of %s: must be positive", c.Key, c.Amount)}
	case c.UserID == "":
		return &Error{Code: EINVALID, Fee: c.FeeID, Amount: c.Amount, Message: fmt.Sprintf("credit %s of %s: no user", c.Key, c.Amount)}
	}
	return nil
}
