package reconcile

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// The interfaces below are how the jobs reach the library system and the
// bursar. They are stated in terms of fees values and this package's own
// small record types, so that any adapter can stand behind them: the
// reference ones are reconcile/almaport (Alma's side) and reconcile/psport
// (PeopleSoft's side).

// ExportRecord is one entry of a library export file: either a fee to
// charge or a credit (a waiver) to pass on.
type ExportRecord struct {
	Line int // the line of the source file where the record starts
	// Index is the record's 1-based place among the records of its file,
	// set only when the record shares its Line with the record before it
	// (an export written on one line); 0 otherwise. It keeps the keys of
	// held records apart.
	Index      int
	UserID     string // the patron's primary id
	PatronName string
	Fee        *fees.Fee    // a fee to charge; nil for a credit
	Credit     *fees.Credit // a credit to pass on; nil for a fee
	// Err, when not nil, is why the record could not be read although the
	// file as a whole could: the record is held, with this reason, and the
	// rest of the file goes on. Key may then be all that is known.
	Err error
	Key string // the bursar transaction id, when Fee and Credit are nil
	// Barcode is the item a credit is for, used to link it to its charge
	// when its transaction id is not known.
	Barcode string
}

// ExportReader reads the records of one export file in order. Next returns
// io.EOF after the last record; any other error means the file as a whole
// cannot be trusted (malformed, control totals wrong) and it goes to
// failed/ with nothing of it applied.
type ExportReader interface {
	Next() (ExportRecord, error)
}

// ExportFormat reads the library's export files (Alma's bursar export).
type ExportFormat interface {
	NewExportReader(r io.Reader) ExportReader
}

// ChargeLine is one line of a bursar charge file, built by a
// [ChargeFormat] from a fee or a credit. The jobs only look at Amount (for
// the totals) and carry Value, the adapter's own line, back to the writer.
type ChargeLine struct {
	Amount fees.Money // signed: negative for a credit
	Value  any
	// College is the name of the college the line is routed to, when
	// the bursar serves several; "" when none is configured. The journal
	// keeps it with the charge for the per-college figures.
	College string
	// Part names the charge file the line goes to when each college has
	// its own (Options.SeparateCollegeFiles): letters and digits, the
	// college's business unit; "" for the one file.
	Part string
}

// ChargeFormat maps fees and credits to the bursar's charge file and writes
// that file (PeopleSoft's External File Load layout, by default).
type ChargeFormat interface {
	// MapCharge returns the line that charges f. An error means the fee
	// cannot be sent as configured (an unmapped fee type, a bad student
	// id, a value too long for its field): the record is held with that
	// reason until the configuration is fixed and it is re-driven.
	// MapCharge may be called from another goroutine than the writer's
	// (the charges job maps ahead while it journals).
	MapCharge(f fees.Fee, asOf time.Time) (ChargeLine, error)
	// MapCredit returns the line that reverses the credited part of a
	// charge, with the same meaning of errors as MapCharge.
	MapCredit(c fees.Credit, asOf time.Time) (ChargeLine, error)
	// NewChargeWriter starts a charge file on w. Its Close writes the
	// trailer (control totals) and reports the first write error.
	NewChargeWriter(w io.Writer, asOf time.Time) ChargeWriter
}

// ChargeWriter writes the lines of one charge file.
type ChargeWriter interface {
	// Write writes one line. An error wrapping [ErrReject] means that
	// this line was refused (a value too long for its field) and nothing
	// of it written: the record is held and the file goes on. Any other
	// error stops the run.
	Write(line ChargeLine) error
	Close() error
}

// ErrReject is wrapped by the errors of ChargeWriter.Write and
// ImportWriter.Write that refuse one record and leave the file good.
var ErrReject = errors.New("record refused")

// PaymentRecord is one payment read from a bursar payment file.
type PaymentRecord struct {
	Line    int
	Payment fees.Payment // Key, TransactionID (the reference sent), Amount, Channel...
	// FeeType is the fee type of the charge paid, as the adapter maps the
	// bursar's own type of the line (PeopleSoft's ITEM_TYPE) back through
	// its charge mapping. With Payment.TransactionID it is the charge key
	// ([fees.ChargeKey]) of the charge paid. Empty when the adapter cannot
	// tell: the transaction id alone then names the charge if one charge
	// was sent for it, and the payment is held if several were.
	FeeType fees.Type
	// Err, when not nil, is why this record could not be read although the
	// file as a whole could; the record is held with that reason.
	Err error
}

// PaymentReader reads one payment file in order; io.EOF after the last
// record, any other error fails the whole file (see [ExportReader]).
type PaymentReader interface {
	Next() (PaymentRecord, error)
}

// PaymentFormat reads the bursar's payment files.
type PaymentFormat interface {
	NewPaymentReader(r io.Reader) PaymentReader
}

// LoadResult is one line of the bursar's results of loading a charge
// file: its verdict on one line feebridge sent.
type LoadResult struct {
	Line int
	// Ref is the line's reference as sent: the bursar transaction id of
	// the charge (or of the charge a credit reverses).
	Ref string
	// FeeType is the fee type of the line, as the adapter maps the
	// bursar's own type of the line (PeopleSoft's ITEM_TYPE) back through
	// its charge mapping; "" when it cannot tell (Ref alone then names
	// the charge if one charge was sent for it).
	FeeType fees.Type
	// Credit reports that the line was a credit (a reversal).
	Credit bool
	// Refund reports that the line was a refund (R8): a credit of a
	// refund item type, FeeType being the type of the fee refunded.
	Refund bool
	// Refused reports that the load refused the line; false: it posted
	// it.
	Refused bool
	// Message is the load's message, such as "Invalid Employee ID".
	Message string
	// Err, when not nil, is why this line could not be read although
	// the file as a whole could; the line is held with that reason.
	Err error
}

// ResultReader reads one results file in order; io.EOF after the last
// line, any other error fails the whole file (see [ExportReader]).
type ResultReader interface {
	Next() (LoadResult, error)
}

// ResultFormat reads the bursar's results of its loads of charge files.
type ResultFormat interface {
	NewResultReader(r io.Reader) ResultReader
}

// Charge is what the journal knows of a fee sent to the bursar: enough for
// an adapter to write a payment back to the library system. The library
// matches a payment by TransactionID and Type together (its charge key),
// so an import record must carry both.
type Charge struct {
	TransactionID string
	FeeID         string
	UserID        string
	Type          fees.Type
	Barcode       string
	Amount        fees.Money // the amount charged
}

// ImportWriter writes one file for the library system's import of bursar
// payments (Alma's bursar import).
type ImportWriter interface {
	// Write writes one payment; an error wrapping [ErrReject] holds just
	// this payment, as for ChargeWriter.
	Write(p fees.Payment, c Charge) error
	Close() error
}

// ImportFormat writes the library system's payment import files.
type ImportFormat interface {
	NewImportWriter(w io.Writer, asOf time.Time) ImportWriter
	// FileName is the name of the import file for an input whose content
	// has the given SHA-256 (hex); it must be the same for the same input,
	// so that a rerun replaces rather than adds.
	FileName(sha256 string) string
}

// Loan is a loan as the library system reports it.
type Loan struct {
	ID          string
	UserID      string
	ItemBarcode string
	Returned    bool // the item is back; the loan is no longer active
}

// AlmaAPI is the part of the library system's API that the lost-returns
// handler, the report and the reconciliation use.
type AlmaAPI interface {
	// ListFees returns the user's fees in any of the given statuses (all
	// statuses when none is given).
	ListFees(ctx context.Context, userID string, statuses ...fees.Status) ([]fees.Fee, error)
	// Waive waives amount of the fee with reason and returns the fee
	// after. amount is the fee's whole balance as ListFees has just shown
	// it, so that an adapter need not read the fee again before it waives.
	// It must never record a waiver twice, even when it retries (Alma's
	// client reads the fee again after an attempt that may have reached
	// Alma, before the next).
	Waive(ctx context.Context, userID, feeID string, amount fees.Money, reason, comment string) (fees.Fee, error)
	// RemoveFeeBlocks lifts the user's blocks that were set for fees.
	RemoveFeeBlocks(ctx context.Context, userID string) error
	// GetLoan returns one loan of the user.
	GetLoan(ctx context.Context, userID, loanID string) (Loan, error)
	// ItemLost reports whether the item with barcode is still lost.
	ItemLost(ctx context.Context, barcode string) (bool, error)
}

// ReturnedLostItems is an optional ability of an [AlmaAPI]: the library's
// own report of open lost-item fees whose item is no longer lost (an Alma
// Analytics report). When the AlmaAPI has it, the daily report uses it
// instead of asking about every student the journal knows. It returns
// [ErrUnsupported] when it is not configured.
type ReturnedLostItems interface {
	ReturnedLostItemFees(ctx context.Context) ([]fees.Fee, error)
}

// ErrUnsupported is returned by an optional ability that an adapter has
// but was not configured for.
var ErrUnsupported = errors.New("reconcile: not supported by this adapter")

// LoanEvent is a loan webhook delivered by the library system.
type LoanEvent struct {
	ID          string // the delivery's event id, the key of idempotency
	Type        string // e.g. LOAN_RETURNED
	LoanID      string
	UserID      string
	ItemBarcode string
	// ProcessStatus is the loan's process status as the event tells it,
	// before the return: LOST for a lost item, NORMAL for one that never
	// was. Empty when the event does not say.
	ProcessStatus string
}

// Mailer sends the daily report to staff.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail is one message with attachments.
type Mail struct {
	To          []string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is one file attached to a Mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}
