package fees

import (
	"fmt"
	"time"
)

// Status is where a fee stands in its lifecycle (R2):
//
//	Active ──transfer──▶ Transferred ──pay/waive in full──▶ Closed
//	  │                                                   ▲
//	  └──────────── pay/waive in the library ─────────────┘
//
// Active and Transferred fees may also be put InDispute and restored.
type Status int

// The statuses of a fee.
const (
	StatusActive Status = iota + 1
	StatusTransferred
	StatusClosed
	StatusInDispute
)

var statusCodes = map[Status]string{
	StatusActive:      "ACTIVE",
	StatusTransferred: "EXPORTED",
	StatusClosed:      "CLOSED",
	StatusInDispute:   "INDISPUTE",
}

var statusNames = map[Status]string{
	StatusActive:      "Active",
	StatusTransferred: "Transferred",
	StatusClosed:      "Closed",
	StatusInDispute:   "In dispute",
}

// String returns the name staff see in Alma, such as "Transferred".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// AlmaCode returns Alma's code for s: ACTIVE, EXPORTED, CLOSED or
// INDISPUTE.
func (s Status) AlmaCode() string { return statusCodes[s] }

// ParseAlmaStatus maps Alma's status code to a Status. "TRANSFERRED" is
// accepted as a synonym of "EXPORTED".
func ParseAlmaStatus(code string) (Status, error) {
	if code == "TRANSFERRED" {
		return StatusTransferred, nil
	}
	for s, c := range statusCodes {
		if c == code {
			return s, nil
		}
	}
	return 0, Errorf(EINVALID, "unknown Alma fee status %q", code)
}

// Type is an Alma fine/fee type code, such as LOSTITEMREPLACEMENTFEE.
// Alma has more types than the constants below and institutions may add
// their own; any non-empty code is a valid Type.
type Type string

// The fee types feebridge gives meaning to.
const (
	TypeOverdueFine            Type = "OVERDUEFINE"
	TypeRecalledOverdueFine    Type = "RECALLEDOVERDUEFINE"
	TypeLostItemReplacementFee Type = "LOSTITEMREPLACEMENTFEE"
	TypeLostItemProcessFee     Type = "LOSTITEMPROCESSFEE"
	TypeDamagedItemFine        Type = "DAMAGEDITEMFINE"
	TypeOther                  Type = "OTHER"
	TypeCredit                 Type = "CREDIT"
	TypeCardRenewal            Type = "CARDRENEWAL"
	TypeInterlibraryLoanFee    Type = "INTERLIBRARYLOANFEE"
	TypeDocumentDeliveryFee    Type = "DOCUMENTDELIVERYFEE"
	TypeLostLoanFine           Type = "LOSTITEMFINE"
	TypeIssueLibraryCard       Type = "ISSUELIBRARYCARD"
	TypeBookingFee             Type = "BOOKINGFEE"
	TypeReplacementFeeRefund   Type = "LOSTITEMREPLACEMENTFEEREFUND"
	TypeServiceFee             Type = "SERVICEFEE"
	TypeGeneral                Type = "GENERAL"
	TypeRecallFine             Type = "RECALLFINE"
	TypeLockerKeyFee           Type = "LOCKERKEY"
	TypePhotocopyFee           Type = "PHOTOCOPY"
	TypeRequestFee             Type = "REQUESTFEE"
)

var typeDescriptions = map[Type]string{
	TypeOverdueFine:            "Overdue fine",
	TypeRecalledOverdueFine:    "Recalled overdue fine",
	TypeLostItemReplacementFee: "Lost item replacement fee",
	TypeLostItemProcessFee:     "Lost item process fee",
	TypeDamagedItemFine:        "Damaged item fine",
	TypeOther:                  "Other",
	TypeCredit:                 "Credit",
	TypeCardRenewal:            "Card renewal",
	TypeInterlibraryLoanFee:    "Interlibrary loan fee",
	TypeDocumentDeliveryFee:    "Document delivery fee",
	TypeLostLoanFine:           "Lost item fine",
	TypeIssueLibraryCard:       "Issue library card",
	TypeBookingFee:             "Booking fee",
	TypeReplacementFeeRefund:   "Lost item replacement fee refund",
	TypeServiceFee:             "Service fee",
	TypeGeneral:                "General",
	TypeRecallFine:             "Recall fine",
	TypeLockerKeyFee:           "Locker key",
	TypePhotocopyFee:           "Photocopy",
	TypeRequestFee:             "Request fee",
}

// ParseType returns the Type for Alma's code. Codes feebridge does not
// know are accepted as they are; only an empty code is an error.
func ParseType(code string) (Type, error) {
	if code == "" {
		return "", Errorf(EINVALID, "empty fee type")
	}
	return Type(code), nil
}

// Known reports whether t is one of the types feebridge gives meaning to.
func (t Type) Known() bool {
	_, ok := typeDescriptions[t]
	return ok
}

// Description returns Alma's English label for t, or the code itself for
// types feebridge does not know.
func (t Type) Description() string {
	if d, ok := typeDescriptions[t]; ok {
		return d
	}
	return string(t)
}

// IsLostItem reports whether t is a fee charged for a lost item, the kind
// waived when the item comes back (R7).
func (t Type) IsLostItem() bool {
	return t == TypeLostItemReplacementFee || t == TypeLostItemProcessFee
}

// Item is the library item a fee was charged for.
type Item struct {
	Barcode    string
	Title      string
	CallNumber string
	Library    string
	Location   string
	DueDate    time.Time
}

// Fee is one library fine or fee and its balances. Its invariant (R3,
// with refunds as R8 adds them) is
//
//	Original = Paid + Waived + Balance − Refunded,  Balance ≥ 0,  Refunded ≤ Paid
//
// A fee never refunded has Refunded zero (or unset), and then
// Original = Paid + Waived + Balance. See [Fee.Refund].
//
// Transferred is the part of Balance that the bursar holds: equal to
// Balance once the fee is transferred, zero before.
//
// Change a Fee only through its methods, which keep the invariant.
type Fee struct {
	ID            string // Alma fee id
	TransactionID string // Alma bursar transaction id, the key PeopleSoft sends back
	UserID        string // the patron's primary id (the student's EMPLID)
	Type          Type
	Status        Status
	Original      Money
	Balance       Money // remaining balance
	Transferred   Money // transferred balance
	Paid          Money
	Waived        Money
	// Refunded is what was given back to the student of what they paid
	// (R8); it is counted in Waived too. Zero, or unset, when nothing was
	// (and then left out of the fee's JSON).
	Refunded Money `json:",omitzero"`
	Item     Item
	Owner    string // owning library code
	Comment  string
	Created  time.Time
	Updated  time.Time

	// disputedFrom remembers the status to restore after a dispute.
	disputedFrom Status
}

// NewFee returns an Active fee of original amount, which must be
// positive.
func NewFee(id string, typ Type, userID string, original Money, created time.Time) (*Fee, error) {
	if id == "" {
		return nil, Errorf(EINVALID, "fee with no id")
	}
	if !original.Valid() || !original.IsPositive() {
		return nil, &Error{Code: EINVALID, Fee: id, Amount: original, Message: fmt.Sprintf("original amount %s must be positive", original)}
	}
	z := Zero(original.Currency())
	return &Fee{
		ID: id, Type: typ, UserID: userID, Status: StatusActive,
		Original: original, Balance: original, Transferred: z, Paid: z, Waived: z,
		Created: created, Updated: created,
	}, nil
}

func (f *Fee) errorf(code string, amount Money, format string, args ...any) *Error {
	return &Error{Code: code, Fee: f.ID, Amount: amount, Balance: f.Balance, Message: fmt.Sprintf(format, args...)}
}

// Check verifies the invariant R3 (with R8's refunds) and returns an
// [ESTATE] error if it does not hold.
func (f *Fee) Check() error {
	refunded := f.refunded()
	sum, err := Sum(f.Original.Currency(), f.Paid, f.Waived, f.Balance)
	if err == nil {
		sum, err = sum.Sub(refunded)
	}
	if err != nil {
		return err
	}
	over, _ := refunded.Cmp(f.Paid)
	switch {
	case !sum.Equal(f.Original):
		return f.errorf(ESTATE, sum, "paid %s + waived %s + balance %s − refunded %s = %s, not the original %s", f.Paid, f.Waived, f.Balance, refunded, sum, f.Original)
	case f.Balance.IsNegative():
		return f.errorf(ESTATE, f.Balance, "negative balance %s", f.Balance)
	case refunded.IsNegative() || over > 0:
		return f.errorf(ESTATE, refunded, "refunded %s is outside 0 to the %s paid", refunded, f.Paid)
	case (f.Status == StatusClosed) != f.Balance.IsZero():
		return f.errorf(ESTATE, f.Balance, "status %s with balance %s", f.Status, f.Balance)
	}
	return nil
}

// Transfer marks an Active fee as sent to the bursar (R2): its whole
// balance becomes the transferred balance.
func (f *Fee) Transfer(at time.Time) error {
	if f.Status != StatusActive {
		return f.errorf(ESTATE, f.Balance, "cannot transfer a fee that is %s", f.Status)
	}
	f.Status = StatusTransferred
	f.Transferred = f.Balance
	f.Updated = at
	return nil
}

// Dispute puts an Active or Transferred fee in dispute.
func (f *Fee) Dispute(at time.Time) error {
	if f.Status != StatusActive && f.Status != StatusTransferred {
		return f.errorf(ESTATE, f.Balance, "cannot dispute a fee that is %s", f.Status)
	}
	f.disputedFrom, f.Status, f.Updated = f.Status, StatusInDispute, at
	return nil
}

// Restore ends a dispute, returning the fee to the status it had.
func (f *Fee) Restore(at time.Time) error {
	if f.Status != StatusInDispute {
		return f.errorf(ESTATE, f.Balance, "cannot restore a fee that is %s", f.Status)
	}
	f.Status = f.disputedFrom
	if f.Status == 0 {
		f.Status = StatusActive
	}
	f.Updated = at
	return nil
}

// Pay applies p to the fee by the rules of R4 and returns an *[Error] that
// names the fee and the amounts when a rule refuses it; the fee is then
// unchanged.
func (f *Fee) Pay(p Payment) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := f.open(p.Amount, "pay"); err != nil {
		return err
	}
	if p.Channel.Bursar() && f.Status != StatusTransferred {
		return f.errorf(ENOTTRANSFERRED, p.Amount, "%s payment of %s on a fee that is %s, not Transferred", p.Channel, p.Amount, f.Status)
	}
	p.FeeID = f.ID
	if err := CheckPayment(p, f.Balance); err != nil {
		return err
	}
	f.Paid = mustAdd(f.Paid, p.Amount)
	f.reduce(p.Amount, p.Date)
	return nil
}

// Waive applies w by the strict policy: a transferred fee may only be
// waived in full (R5), and so may a fee not yet transferred. Use
// [Policy.Waive] to allow partial waivers of fees never transferred.
func (f *Fee) Waive(w Waiver) error { return Policy{}.Waive(f, w) }

// Policy holds the rules a library may switch.
type Policy struct {
	// PartialWaiveBeforeTransfer allows waiving part of a fee that has not
	// been transferred to the bursar yet. Transferred fees are always
	// waived in full only (R5).
	PartialWaiveBeforeTransfer bool
}

// Waive applies w to f under p. A partial waiver of a transferred fee is
// refused with [EPARTIALWAIVE] and a message that gives the two-step path
// (see [PlanPartialWaive]).
func (p Policy) Waive(f *Fee, w Waiver) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if err := f.canTake(w.Amount, "waive"); err != nil {
		return err
	}
	switch {
	case f.Status == StatusTransferred:
		if err := CheckCredit(Credit{FeeID: f.ID, Amount: w.Amount}, f.Balance); err != nil {
			return err
		}
	case !w.Amount.Equal(f.Balance) && !p.PartialWaiveBeforeTransfer:
		return partialWaive(f.ID, w.Amount, f.Balance, f.Status)
	}
	f.Waived = mustAdd(f.Waived, w.Amount)
	f.reduce(w.Amount, w.Date)
	return nil
}

// open checks that the fee takes payments and waivers at all.
func (f *Fee) open(amount Money, verb string) error {
	if f.Status == StatusClosed {
		return f.errorf(ECLOSED, amount, "cannot %s %s: the fee is closed", verb, amount)
	}
	if f.Status == StatusInDispute {
		return f.errorf(ESTATE, amount, "cannot %s %s: the fee is in dispute", verb, amount)
	}
	return nil
}

// canTake checks what a waiver must pass before the full-waive rule:
// an open fee, the same currency, no more than the balance.
func (f *Fee) canTake(amount Money, verb string) error {
	if err := f.open(amount, verb); err != nil {
		return err
	}
	if amount.Currency() != f.Balance.Currency() {
		return &Error{Code: ECURRENCY, Fee: f.ID, Amount: amount, Balance: f.Balance,
			Message: fmt.Sprintf("cannot %s %s on a balance of %s: currencies differ", verb, amount, f.Balance)}
	}
	if c, _ := amount.Cmp(f.Balance); c > 0 {
		return f.errorf(EOVERPAY, amount, "cannot %s %s: above the remaining balance of %s", verb, amount, f.Balance)
	}
	return nil
}

// reduce lowers the balance (and the transferred balance) by amount, which
// canTake has checked, and closes the fee when nothing remains.
func (f *Fee) reduce(amount Money, at time.Time) {
	f.Balance = mustSub(f.Balance, amount)
	if f.Status == StatusTransferred {
		f.Transferred = f.Balance
	}
	if f.Balance.IsZero() {
		f.Status = StatusClosed
	}
	if !at.IsZero() {
		f.Updated = at
	}
}

func mustAdd(a, b Money) Money {
	s, err := a.Add(b)
	if err != nil {
		panic(err)
	}
	return s
}

func mustSub(a, b Money) Money {
	s, err := a.Sub(b)
	if err != nil {
		panic(err)
	}
	return s
}
