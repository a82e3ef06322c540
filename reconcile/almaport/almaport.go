// Package almaport is Alma's side of the jobs: it adapts package alma's
// bursar files, REST client and webhooks to the interfaces of package
// reconcile.
//
// Package reconcile never imports an adapter, and this package imports
// only alma on the vendor side; PeopleSoft's side is package
// reconcile/psport. Each adapter type here asserts at compile time the
// interface it stands for. A district with another library system writes
// its own small package like this one.
//
// # Adapters
//
//   - [ExportFormat]: Alma's bursar export (alma.ExportDecoder) as a
//     reconcile.ExportFormat.
//   - [ImportFormat]: Alma's bursar import (alma.ImportEncoder) as a
//     reconcile.ImportFormat.
//   - [AlmaAPI]: an *alma.Client as a reconcile.AlmaAPI.
//   - [WebhookCallback]: the callback of alma.NewWebhookHandler that
//     journals loan returns (reconcile.Jobs.ReceiveEvent).
package almaport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// Compile-time checks that the adapters fit reconcile's interfaces.
var (
	_ reconcile.ExportFormat      = ExportFormat{}
	_ reconcile.ImportFormat      = ImportFormat{}
	_ reconcile.AlmaAPI           = AlmaAPI{}
	_ reconcile.ReturnedLostItems = AlmaAPI{}
	_ reconcile.OpenFeesReport    = AlmaAPI{}
)

// ExportFormat reads Alma's bursar export files (fees and credits).
type ExportFormat struct {
	// Options tune the decoder (time zone of dates, zone names); nil
	// means UTC.
	Options *alma.DecoderOptions
}

// NewExportReader returns a reader of one export file.
func (f ExportFormat) NewExportReader(r io.Reader) reconcile.ExportReader {
	return &exportReader{dec: alma.NewExportDecoder(r, f.Options)}
}

type exportReader struct {
	dec      *alma.ExportDecoder
	n        int // records returned so far
	lastLine int // the Line of the record returned last
}

// Next returns the next record. A bad record comes back as a held record;
// an error that concerns the whole file ([alma.IsFileError]: malformed XML,
// a read error) ends the file.
func (r *exportReader) Next() (reconcile.ExportRecord, error) {
	rec, err := r.next()
	if err != nil {
		return rec, err
	}
	r.n++
	if rec.Line == r.lastLine {
		rec.Index = r.n // shares its line with the record before it
	}
	r.lastLine = rec.Line
	return rec, nil
}

func (r *exportReader) next() (reconcile.ExportRecord, error) {
	rec, err := r.dec.Decode()
	if err == io.EOF {
		return reconcile.ExportRecord{}, io.EOF
	}
	if err != nil {
		var pe *alma.ParseError
		if alma.IsFileError(err) || !errors.As(err, &pe) {
			return reconcile.ExportRecord{}, err
		}
		return reconcile.ExportRecord{Line: pe.Line, UserID: pe.User, Key: pe.TransactionID, Err: err}, nil
	}
	return ExportRecordOf(rec), nil
}

// ExportRecordOf is the record the jobs see for a record that
// alma.ExportDecoder decoded without error: a fee, or a credit, or, when
// the record cannot be either, a record held with the reason (Err). It is
// what [ExportFormat]'s readers return, for a caller that decodes in one
// goroutine and turns the records into the jobs' in another.
func ExportRecordOf(rec alma.ExportRecord) reconcile.ExportRecord {
	out := reconcile.ExportRecord{Line: rec.Line, UserID: rec.Patron.ID, PatronName: rec.Patron.Name,
		Key: rec.TransactionID, Barcode: rec.Item.Barcode}
	if rec.IsCredit() {
		c, err := rec.Credit()
		if err != nil {
			out.Err = fmt.Errorf("line %d: credit %s: %w", rec.Line, rec.TransactionID, err)
			return out
		}
		if c.UserID == "" {
			c.UserID = rec.Patron.ID
		}
		out.Credit = &c
		return out
	}
	f, err := rec.Fee()
	if err != nil {
		out.Err = fmt.Errorf("line %d: fee %s: %w", rec.Line, rec.TransactionID, err)
		return out
	}
	if f.UserID == "" {
		f.UserID = rec.Patron.ID
	}
	out.Fee = f
	return out
}

// ImportFormat writes Alma bursar import files, named
// <Prefix><first 16 hex digits of the input's SHA-256>.xml.
type ImportFormat struct {
	Options *alma.EncoderOptions
	Prefix  string // "feebridge-payments-" when empty
}

// NewImportWriter starts an import file.
func (f ImportFormat) NewImportWriter(w io.Writer, asOf time.Time) reconcile.ImportWriter {
	return importWriter{alma.NewImportEncoder(w, f.Options)}
}

// FileName names the import file of an input with the given SHA-256.
func (f ImportFormat) FileName(sha string) string {
	p := f.Prefix
	if p == "" {
		p = "feebridge-payments-"
	}
	if len(sha) > 16 {
		sha = sha[:16]
	}
	return p + sha + ".xml"
}

type importWriter struct{ enc *alma.ImportEncoder }

func (w importWriter) Write(p fees.Payment, c reconcile.Charge) error {
	err := w.enc.Encode(alma.ImportRecord{
		Patron:          alma.Patron{ID: c.UserID},
		Type:            c.Type,
		Amount:          p.Amount,
		TransactionID:   c.TransactionID,
		Item:            fees.Item{Barcode: c.Barcode},
		Comment:         "Paid at " + p.Channel.String() + ", receipt " + p.Receipt,
		LastTransaction: p.Date,
	})
	if errors.Is(err, alma.ErrRecord) {
		return fmt.Errorf("%w: %w", reconcile.ErrReject, err)
	}
	return err
}

func (w importWriter) Close() error { return w.enc.Close() }

// AlmaAPI is an *alma.Client seen as a reconcile.AlmaAPI.
type AlmaAPI struct {
	Client *alma.Client
	// IsFeeBlock chooses the blocks lifted after a lost item is returned;
	// nil means alma.DefaultFeeBlock.
	IsFeeBlock func(alma.Block) bool
	// LostItemsReport is the path of the Analytics report of open
	// lost-item fees whose item is no longer lost, with the columns of
	// [LostItemsColumns]; empty means the daily report asks about each
	// student instead.
	LostItemsReport string
	// Currency of the report's amounts; empty means USD.
	Currency fees.Currency
	// FeesReport is the path of the open fees Analytics report, with the
	// columns of alma.FeesReportColumns (see OpenFees); empty means the
	// reconciliation asks about each student instead.
	FeesReport string
	// Location is Alma's time zone, of the report's dates; nil means UTC.
	Location *time.Location
}

// LostItemsColumns are the column headings AlmaAPI reads in the lost items
// report: the student's primary id, the fee id, its type, the item's
// barcode and title, the remaining amount, the fee status and the bursar
// transaction id.
var LostItemsColumns = struct {
	UserID, FeeID, Type, Barcode, Title, Remaining, Status, TransactionID string
}{"Primary Identifier", "Fine Fee Id", "Fine Fee Type", "Barcode", "Title", "Remaining Amount", "Fine Fee Status",
	"Bursar Transaction Id"}

// ReturnedLostItemFees runs the lost items report. It returns
// reconcile.ErrUnsupported when LostItemsReport is empty.
func (a AlmaAPI) ReturnedLostItemFees(ctx context.Context) ([]fees.Fee, error) {
	if a.LostItemsReport == "" {
		return nil, reconcile.ErrUnsupported
	}
	cur := a.Currency
	if cur == "" {
		cur = fees.USD
	}
	c := LostItemsColumns
	var out []fees.Fee
	n := 0
	err := a.Client.RunReport(ctx, a.LostItemsReport, func(row map[string]string) error {
		n++
		amount, err := fees.ParseMoney(row[c.Remaining], cur)
		if err != nil {
			return fmt.Errorf("lost items report, row %d: %w", n, err)
		}
		status, err := fees.ParseAlmaStatus(row[c.Status])
		if err != nil {
			return fmt.Errorf("lost items report, row %d: %w", n, err)
		}
		out = append(out, fees.Fee{ID: row[c.FeeID], TransactionID: row[c.TransactionID], UserID: row[c.UserID],
			Type: fees.Type(row[c.Type]), Status: status, Balance: amount,
			Item: fees.Item{Barcode: row[c.Barcode], Title: row[c.Title]}})
		return nil
	})
	return out, err
}

var allStatuses = []fees.Status{fees.StatusActive, fees.StatusTransferred, fees.StatusInDispute, fees.StatusClosed}

// ListFees lists the user's fees in the given statuses, all four when none.
// Its errors, and those of the other calls, are marked
// reconcile.Permanent when Alma refused the call for good (see
// permanentCodes).
func (a AlmaAPI) ListFees(ctx context.Context, userID string, statuses ...fees.Status) ([]fees.Fee, error) {
	if len(statuses) == 0 {
		statuses = allStatuses
	}
	var out []fees.Fee
	for _, s := range statuses {
		fs, err := a.Client.ListFees(ctx, userID, s)
		if err != nil {
			return out, permanent(err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

// Waive waives amount of a fee: its whole balance as ListFees has just
// shown it (see reconcile.AlmaAPI), so the client does not read the fee
// first and the waiver costs one call (alma.WaiveRequest.Balance).
func (a AlmaAPI) Waive(ctx context.Context, userID, feeID string, amount fees.Money, reason, comment string) (fees.Fee, error) {
	f, err := a.Client.Waive(ctx, userID, feeID, alma.WaiveRequest{Amount: amount, Reason: reason, Comment: comment, Balance: amount})
	if err != nil {
		return fees.Fee{}, permanent(err)
	}
	return *f, nil
}

// RemoveFeeBlocks lifts the user's fee-related blocks.
func (a AlmaAPI) RemoveFeeBlocks(ctx context.Context, userID string) error {
	is := a.IsFeeBlock
	if is == nil {
		is = alma.DefaultFeeBlock
	}
	_, err := a.Client.RemoveFeeBlocks(ctx, userID, is)
	return permanent(err)
}

// GetLoan returns a loan; it is returned once Alma shows it COMPLETE or
// with a return date.
func (a AlmaAPI) GetLoan(ctx context.Context, userID, loanID string) (reconcile.Loan, error) {
	l, err := a.Client.GetLoan(ctx, userID, loanID)
	if err != nil {
		return reconcile.Loan{}, permanent(err)
	}
	return reconcile.Loan{ID: l.ID, UserID: l.UserID, ItemBarcode: l.ItemBarcode,
		Returned: l.Status == "COMPLETE" || !l.ReturnDate.IsZero()}, nil
}

// ItemLost reports whether the item is still lost; an item Alma does not
// know is a permanent error.
func (a AlmaAPI) ItemLost(ctx context.Context, barcode string) (bool, error) {
	it, err := a.Client.GetItemByBarcode(ctx, barcode)
	if err != nil {
		// An item Alma does not know is a refusal for good (the report
		// lists it and goes on); a timeout or 5xx stays transient.
		return false, permanent(err)
	}
	return it.Lost(), nil
}

// WebhookCallback returns the callback for alma.NewWebhookHandler: a loan
// return is journaled as a pending event (jobs.ReceiveEvent), for the
// jobs to handle from the journal, and the handler answers at once; a
// delivery of an event already journaled changes nothing. When the
// journal cannot take the event, Alma is asked to deliver it again.
//
// A JOB_END is journaled with its counts (jobs.ReceiveJobEnd); when it
// ends the export job named in the config, the charges or credits job is
// asked to start (jobs.JobEndStarts).
func WebhookCallback(jobs *reconcile.Jobs) func(ctx context.Context, ev alma.Event) error {
	return func(ctx context.Context, ev alma.Event) error {
		if ev.Action == alma.ActionJobEnd && ev.JobEnd != nil {
			_, err := jobs.ReceiveJobEnd(ctx, JobEndEvent(ev))
			if err != nil && !errors.Is(err, reconcile.ErrPermanent) {
				return alma.RetryLater(err)
			}
			return err
		}
		le := reconcile.LoanEvent{ID: ev.ID, Type: ev.Type}
		if ev.Loan != nil {
			le.LoanID, le.UserID, le.ItemBarcode = ev.Loan.LoanID, ev.Loan.UserID, ev.Loan.ItemBarcode
			le.ProcessStatus = ev.Loan.ProcessStatus
		}
		_, err := jobs.ReceiveEvent(ctx, le)
		if err != nil && !errors.Is(err, reconcile.ErrPermanent) {
			return alma.RetryLater(err)
		}
		return err
	}
}

// permanentCodes are Alma's error codes (sent with HTTP 400) that no
// retry overcomes, per the "Possible Error Codes" of Alma's users API
// (loans, fees, blocks): the thing asked for does not exist, the request
// is invalid, or the API key may not make it.
var permanentCodes = map[string]bool{
	alma.CodeIdentifierNotFound: true, // 401651 Identifier not found: no such loan (or user) on the loans and fees calls
	alma.CodeUserNotFound:       true, // 401861 User with identifier X was not found
	"401890":                    true, // User with identifier X of type Y was not found
	"401823":                    true, // Loan ID XXX does not exist
	alma.CodeFeeNotFound:        true, // 401665 Fine not found
	alma.CodeItemNotFound:       true, // 401689 No items found for barcode X
	"401666":                    true, // Parameter is not valid
	"60340":                     true, // The request is API Restricted by library
	"60258":                     true, // The API Restricted profile is not valid
}

// permanent marks err as reconcile.Permanent when Alma refused the call
// for good: HTTP 404, or one of permanentCodes. Timeouts, network errors,
// 429 and 5xx stay transient, and so do 401 and 403 (an API key being
// replaced) and Alma's "General error" 402119. Alma's daily threshold
// becomes a *reconcile.DailyQuotaError: the jobs wait for Alma's
// midnight (the client holds every call back until then).
func permanent(err error) error {
	if alma.IsQuotaExhausted(err) {
		return &reconcile.DailyQuotaError{Err: err}
	}
	var e *alma.Error
	if errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status >= 400 && e.Status < 500 && permanentCodes[e.Code]) {
		return reconcile.Permanent(err)
	}
	return err
}
