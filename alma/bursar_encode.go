package alma

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/feebridge/feebridge/alma/internal/xmlscan"
)

// EncoderOptions tune an [ImportEncoder] or [ExportEncoder]. The zero
// value (or nil) writes dates in UTC.
type EncoderOptions struct {
	// Location is the time zone dates are written in. Dates carry no zone
	// suffix, so the reader must use the same Location
	// ([DecoderOptions.Location]); nil means UTC. Dates are written to the
	// second.
	Location *time.Location
}

// ErrRecord is the cause of an encoder's refusal of a record that it
// cannot write as Alma reads it.
var ErrRecord = errors.New("alma: bursar record cannot be written")

// ImportEncoder writes a bursar import file: the payments Alma imports
// into its fees, one userFineFee per payment, with compositeSum the
// amount paid, and bursarTransactionId and fineFeeType the fee it pays.
// Alma matches on the pair (one id may be shared by fees of different
// types, see [fees.ChargeKey]) and records the sum as a payment.
//
// Records of one patron that follow each other share one user element.
// Output is buffered: the file is complete only once Close has written
// its end tags and flushed.
type ImportEncoder struct{ w bursarWriter }

// NewImportEncoder returns an encoder that writes an import file to w.
// opts may be nil.
func NewImportEncoder(w io.Writer, opts *EncoderOptions) *ImportEncoder {
	e := &ImportEncoder{}
	e.w.init(w, opts, false, "")
	return e
}

// Encode writes one payment. It refuses, with an error wrapping
// [ErrRecord] and writing nothing, a record without patron id, fee type or
// transaction id, with an amount that is not positive, with a
// LastTransaction that is zero or outside the years the file writes
// (never xsi:nil), or with text that
// XML cannot carry. After a write error it returns that error.
func (e *ImportEncoder) Encode(rec ImportRecord) error { return e.w.encode(rec.exportRecord()) }

// Close writes the end of the file and flushes it. It returns the first
// write error met, if any. It does not close the underlying writer.
func (e *ImportEncoder) Close() error { return e.w.close() }

// ExportEncoder writes a bursar export file as Alma does, with its export
// number: feebridge's fake Alma writes its exports with it, and tests use
// it to build inputs. It writes the same structure as [ImportEncoder] and
// takes negative amounts (credits).
type ExportEncoder struct{ w bursarWriter }

// NewExportEncoder returns an encoder that writes an export file numbered
// exportNumber to w. opts may be nil. An export number that XML cannot
// carry is an error, returned by Encode and Close.
func NewExportEncoder(w io.Writer, exportNumber string, opts *EncoderOptions) *ExportEncoder {
	e := &ExportEncoder{}
	e.w.init(w, opts, true, exportNumber)
	return e
}

// Encode writes one fine, fee or credit. It refuses, with an error
// wrapping [ErrRecord] and writing nothing, a record without patron id,
// fee type or transaction id, with a zero or invalid amount, or with text
// that XML cannot carry. After a write error it returns that error.
func (e *ExportEncoder) Encode(rec ExportRecord) error { return e.w.encode(rec) }

// Close writes the end of the file and flushes it. It returns the first
// write error met, if any. It does not close the underlying writer.
func (e *ExportEncoder) Close() error { return e.w.close() }

// bursarWriter is the writer under both encoders.
type bursarWriter struct {
	bw           *bufio.Writer
	loc          *time.Location
	export       bool
	exportNumber string
	started      bool
	inUser       bool
	patron       Patron
	closed       bool
	err          error // first write error
}

func (w *bursarWriter) init(out io.Writer, opts *EncoderOptions, export bool, exportNumber string) {
	w.bw = bufio.NewWriterSize(out, 64<<10)
	w.loc = time.UTC
	if opts != nil && opts.Location != nil {
		w.loc = opts.Location
	}
	w.export = export
	w.exportNumber = exportNumber
	if !xmlText(exportNumber) {
		w.err = fmt.Errorf("%w: export number %q holds characters XML cannot carry", ErrRecord, exportNumber)
	}
}

func (w *bursarWriter) check(rec ExportRecord) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: transaction %q: %s", ErrRecord, rec.TransactionID, fmt.Sprintf(format, args...))
	}
	switch {
	case rec.Patron.ID == "":
		return bad("no patron id")
	case rec.TransactionID == "":
		return bad("no bursarTransactionId")
	case rec.Type == "":
		return bad("no fineFeeType")
	case !rec.Amount.Valid():
		return bad("no amount with a known currency")
	case !w.export && !rec.Amount.IsPositive():
		return bad("payment of %s: must be positive", rec.Amount)
	case rec.Amount.IsZero():
		return bad("amount is zero")
	case !w.export && !w.writable(rec.LastTransaction):
		return bad("lastTransactionDate %s cannot be written (no date, or a year outside 0001-9999)", rec.LastTransaction.Format(time.DateOnly))
	}
	for _, s := range [...]string{
		rec.Patron.ID, rec.Patron.IDType, rec.Patron.Name, string(rec.Type), rec.TransactionID,
		rec.Item.Barcode, rec.Item.Title, rec.Item.CallNumber, rec.Item.Library, rec.Item.Location,
		rec.Owner, rec.Comment,
	} {
		if !xmlText(s) {
			return bad("text %q holds characters XML cannot carry", s)
		}
	}
	return nil
}

// xmlText reports whether s is valid UTF-8 made of XML characters.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !xmlscan.IsChar(r) {
			return false
		}
	}
	return true
}

func (w *bursarWriter) encode(rec ExportRecord) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("%w: encoder is closed", ErrRecord)
	}
	if err := w.check(rec); err != nil {
		return err
	}
	w.header()
	if w.inUser && rec.Patron != w.patron {
		w.endUser()
	}
	if !w.inUser {
		w.startUser(rec.Patron)
	}
	w.s("\t\t\t\t\t<xb:userFineFee>\n")
	w.field(6, "fineFeeComment", rec.Comment)
	w.field(6, "fineFeeType", string(rec.Type))
	if rec.Owner == "" {
		w.field(6, "owneredEntity", "")
	} else {
		w.s("\t\t\t\t\t\t<xb:owneredEntity>\n")
		w.field(7, "libraryCode", rec.Owner)
		w.s("\t\t\t\t\t\t</xb:owneredEntity>\n")
	}
	w.field(6, "lastTransactionDate", w.date(rec.LastTransaction))
	w.field(6, "itemTitle", rec.Item.Title)
	w.field(6, "itemCallNumebr", rec.Item.CallNumber) // sic: Alma's spelling
	w.field(6, "itemLibrary", rec.Item.Library)
	w.field(6, "itemLocation", rec.Item.Location)
	w.field(6, "itemDueDate", w.date(rec.Item.DueDate))
	w.field(6, "itemBarcode", rec.Item.Barcode)
	w.s("\t\t\t\t\t\t<xb:compositeSum>\n")
	w.field(7, "currency", string(rec.Amount.Currency()))
	w.field(7, "sum", rec.Amount.Amount())
	w.field(7, "vat", "")
	w.s("\t\t\t\t\t\t</xb:compositeSum>\n")
	w.field(6, "bursarTransactionId", rec.TransactionID)
	w.s("\t\t\t\t\t</xb:userFineFee>\n")
	return w.err
}

// writable reports whether the import format carries t: a date that is
// set, with a four-digit year in the file's zone.
func (w *bursarWriter) writable(t time.Time) bool {
	y := t.In(w.loc).Year()
	return !t.IsZero() && y >= 1 && y <= 9999
}

func (w *bursarWriter) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(w.loc).Format(bursarDateLayout)
}

func (w *bursarWriter) header() {
	if w.started {
		return
	}
	w.started = true
	w.s(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.s(`<xb:xml-fragment xmlns:xb="` + BursarNamespace + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	if w.export {
		w.s("\t<xb:userExportedFineFees>\n")
		w.field(2, "exportNumber", w.exportNumber)
		w.s("\t</xb:userExportedFineFees>\n")
	}
	w.s("\t<xb:userExportedFineFees>\n\t\t<xb:userExportedList>\n")
}

func (w *bursarWriter) startUser(p Patron) {
	w.inUser = true
	w.patron = p
	w.s("\t\t\t<xb:userExportedFineFeesList>\n\t\t\t\t<xb:user>\n")
	w.field(5, "type", p.IDType)
	w.field(5, "value", p.ID)
	w.s("\t\t\t\t</xb:user>\n")
	w.field(4, "patronName", p.Name)
	w.s("\t\t\t\t<xb:finefeeList>\n")
}

func (w *bursarWriter) endUser() {
	w.inUser = false
	w.s("\t\t\t\t</xb:finefeeList>\n\t\t\t</xb:userExportedFineFeesList>\n")
}

func (w *bursarWriter) close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.header()
	if w.inUser {
		w.endUser()
	}
	w.s("\t\t</xb:userExportedList>\n\t</xb:userExportedFineFees>\n</xb:xml-fragment>\n")
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

const bursarTabs = "\t\t\t\t\t\t\t\t"

// field writes <xb:name>text</xb:name> indented by depth tabs, or an
// element with xsi:nil="true" when text is empty, as Alma does.
func (w *bursarWriter) field(depth int, name, text string) {
	w.s(bursarTabs[:depth])
	w.s("<xb:")
	w.s(name)
	if text == "" {
		w.s(` xsi:nil="true"/>` + "\n")
		return
	}
	w.s(">")
	w.escape(text)
	w.s("</xb:")
	w.s(name)
	w.s(">\n")
}

func (w *bursarWriter) s(text string) {
	if w.err != nil {
		return
	}
	if _, err := w.bw.WriteString(text); err != nil {
		w.err = err
	}
}

// escape writes text with &, < and > escaped, and white space other than
// spaces as character references so that it is not mistaken for layout.
func (w *bursarWriter) escape(text string) {
	last := 0
	for i := 0; i < len(text); i++ {
		var esc string
		switch text[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		case '\t':
			esc = "&#x9;"
		default:
			continue
		}
		w.s(text[last:i])
		w.s(esc)
		last = i + 1
	}
	w.s(text[last:])
}
