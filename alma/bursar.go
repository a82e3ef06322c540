package alma

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// BursarNamespace is the XML namespace of Alma's bursar export and import
// files.
const BursarNamespace = "http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans"

// Patron is the user a bursar record belongs to: the identifier Alma
// matches on (of the type set in the bursar integration profile) and the
// name Alma shows.
type Patron struct {
	ID     string // user/value: the matching identifier, such as the EMPLID
	IDType string // user/type: Alma's code of the identifier type, such as "02"
	Name   string // patronName, "Last, First"
}

// ExportRecord is one userFineFee of an export file: a fine or fee
// transferred to the bursar, or a credit. ([ExportDecoder] reads import
// files too, as ExportRecords whose Amount is the amount paid; the
// [ImportEncoder] writes [ImportRecord]s.)
//
// Text fields hold the element's text with its white space collapsed:
// leading and trailing white space removed and every inner run of white
// space turned into one space, so a title that Alma wrapped over two lines
// reads as one line.
type ExportRecord struct {
	Patron Patron
	// Type is fineFeeType, such as OVERDUEFINE or CREDIT.
	Type fees.Type
	// Amount is compositeSum: signed, as written (negative for credits).
	Amount fees.Money
	// TransactionID is bursarTransactionId, the key of the record.
	TransactionID string
	// Item is the item the fee was charged for (itemBarcode, itemTitle,
	// itemCallNumebr, itemLibrary, itemLocation, itemDueDate).
	Item fees.Item
	// Owner is the owneredEntity's libraryCode, or its libraryId when it
	// has no code.
	Owner   string
	Comment string // fineFeeComment
	// LastTransaction is lastTransactionDate. A zone suffix (such as
	// "IST") is honoured; without one the date is read in
	// DecoderOptions.Location (UTC by default).
	LastTransaction time.Time
	// Line is the line of the userFineFee start tag. Encoders ignore it.
	Line int
}

// ImportRecord is one userFineFee of an import file: a payment that Alma
// records on the transferred fee with the same TransactionID and Type (its
// charge key, see [fees.ChargeKey]). Text fields are written as given;
// the [ImportEncoder] refuses text that XML cannot carry.
type ImportRecord struct {
	Patron Patron
	// Type is fineFeeType, the type of the fee paid.
	Type fees.Type
	// Amount is compositeSum: the amount paid, positive.
	Amount fees.Money
	// TransactionID is bursarTransactionId, the fee's id at the bursar.
	TransactionID string
	// Item is the item of the fee paid (itemBarcode, itemTitle, …), for
	// the staff who read the file.
	Item    fees.Item
	Owner   string // the owneredEntity's libraryCode
	Comment string // fineFeeComment, such as the bursar's receipt
	// LastTransaction is lastTransactionDate: when the payment was made.
	LastTransaction time.Time
}

// exportRecord is r in the shape the bursar writer takes.
func (r ImportRecord) exportRecord() ExportRecord {
	return ExportRecord{Patron: r.Patron, Type: r.Type, Amount: r.Amount, TransactionID: r.TransactionID,
		Item: r.Item, Owner: r.Owner, Comment: r.Comment, LastTransaction: r.LastTransaction}
}

// IsCredit reports whether r is a credit: of type CREDIT, of a refund
// type (such as LOSTITEMREPLACEMENTFEEREFUND: money given back, whatever
// the sign of its sum; see [fees.Type.RefundOf]), or with a negative sum.
func (r ExportRecord) IsCredit() bool {
	if _, refund := r.Type.RefundOf(); refund {
		return true
	}
	return r.Type == fees.TypeCredit || r.Amount.IsNegative()
}

// Fee returns the transferred fee that a debit record stands for: status
// Transferred, with Original, Balance and Transferred all equal to Amount.
// Its ID and TransactionID are both the bursar transaction id, since the
// export file carries no fee id. Fee fails with [fees.EINVALID] for a
// credit or an amount that is not positive.
func (r ExportRecord) Fee() (*fees.Fee, error) {
	if r.IsCredit() {
		return nil, &fees.Error{Code: fees.EINVALID, Fee: r.TransactionID, Amount: r.Amount,
			Message: fmt.Sprintf("bursar record %s of %s is a credit, not a fee", r.TransactionID, r.Amount)}
	}
	f, err := fees.NewFee(r.TransactionID, r.Type, r.Patron.ID, r.Amount, r.LastTransaction)
	if err != nil {
		return nil, err
	}
	f.TransactionID = r.TransactionID
	f.Item = r.Item
	f.Owner = r.Owner
	f.Comment = r.Comment
	if err := f.Transfer(r.LastTransaction); err != nil {
		return nil, err
	}
	return f, nil
}

// Credit returns the credit that a credit record stands for, with a
// positive Amount. Key is the record's bursar transaction id; the
// transaction id of the charge it reverses is not in the file and is left
// empty. Credit fails with [fees.EINVALID] for a record that is not a
// credit, or a credit that does not pass [fees.Credit.Validate].
func (r ExportRecord) Credit() (fees.Credit, error) {
	if !r.IsCredit() {
		return fees.Credit{}, &fees.Error{Code: fees.EINVALID, Fee: r.TransactionID, Amount: r.Amount,
			Message: fmt.Sprintf("bursar record %s of %s is a fee, not a credit", r.TransactionID, r.Amount)}
	}
	c := fees.Credit{
		Key:    r.TransactionID,
		UserID: r.Patron.ID,
		Type:   r.Type,
		Amount: r.Amount.Abs(),
		Reason: r.Comment,
		Date:   r.LastTransaction,
		Owner:  r.Owner,
	}
	if err := c.Validate(); err != nil {
		return fees.Credit{}, err
	}
	return c, nil
}

// Causes of a [ParseError], for errors.Is.
var (
	// ErrSyntax: the file is not well-formed XML (or uses a DOCTYPE, or
	// nests too deep). It ends the decoding.
	ErrSyntax = errors.New("malformed XML")
	// ErrAmount: compositeSum/sum is missing, zero, malformed, or has more
	// decimal places than its currency.
	ErrAmount = errors.New("bad amount")
	// ErrCurrency: compositeSum/currency is missing or not a known
	// currency.
	ErrCurrency = errors.New("bad currency")
	// ErrMissingTransactionID: the record has no bursarTransactionId.
	ErrMissingTransactionID = errors.New("missing bursarTransactionId")
	// ErrDuplicateTransactionID: the bursarTransactionId was already used
	// with the same fee type by an earlier record of the same file. One id
	// shared by fees of different types is normal (see [fees.ChargeKey]).
	ErrDuplicateTransactionID = errors.New("duplicate bursarTransactionId")
	// ErrMissingUser: the record is not inside a user, or the user has no
	// identifier value.
	ErrMissingUser = errors.New("missing user")
	// ErrFeeType: the record has no fineFeeType.
	ErrFeeType = errors.New("missing fineFeeType")
	// ErrDate: lastTransactionDate or itemDueDate is not a date Alma
	// writes, or names an unknown time zone.
	ErrDate = errors.New("bad date")
	// ErrStructure: the record is well-formed XML but not shaped like a
	// userFineFee (an element twice, an element inside a text field).
	ErrStructure = errors.New("unexpected structure")
)

// ParseError is a bad record, or bad XML, in a bursar file. Err wraps one
// of the Err… causes above (and, for amounts, the *fees.Error behind it).
//
// User holds the patron's identifier whole, for the exceptions report; the
// message shows it masked by [fees.MaskID], so that student ids do not
// reach logs.
type ParseError struct {
	File          string // as given in DecoderOptions.File
	Line          int    // line of the offending element, or of the record
	User          string // the patron's identifier, when known
	TransactionID string // the record's bursarTransactionId, when known
	Err           error
}

// Error describes the error as `alma: bursar file F, line N, user *****678,
// transaction T: cause`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("alma: bursar file")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	fmt.Fprintf(&b, ", line %d", e.Line)
	if e.User != "" {
		fmt.Fprintf(&b, ", user %s", fees.MaskID(e.User))
	}
	if e.TransactionID != "" {
		fmt.Fprintf(&b, ", transaction %s", e.TransactionID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// IsFileError reports whether err, returned by an [ExportDecoder], concerns
// the whole file rather than one record: malformed XML (a *ParseError
// wrapping [ErrSyntax], which includes a DOCTYPE and nesting too deep) or
// a read error. Decoding cannot go on after such an error (the decoder
// returns it again on every call); after any other error it goes on with
// the next record. Neither nil nor io.EOF is a file error.
func IsFileError(err error) bool {
	if err == nil || err == io.EOF {
		return false
	}
	var pe *ParseError
	return !errors.As(err, &pe) || errors.Is(err, ErrSyntax)
}
