package peoplesoft

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Charge is one detail line of a charge file: a debit on the student's
// account, or a credit (a negative amount) that lowers an earlier charge.
type Charge struct {
	EmplID      string
	ItemType    string     // the 12-digit PeopleSoft item type
	Amount      fees.Money // signed: negative is a credit
	Term        string     // ITEM_TERM, such as "2268"
	DueDate     time.Time  // a date; the zero time is written blank
	Ref         string     // REF1_DESCR: the Alma bursar transaction id; with ItemType it names the charge
	Description string
}

// ChargeEncoder writes a charge file in a layout: the header (if the
// layout has one) before the first record, then one detail record per
// [ChargeEncoder.Encode], then the trailer with the control values on
// [ChargeEncoder.Close]. It buffers its output.
type ChargeEncoder struct {
	encoder
	cur   *Charge
	ch    Charge // the charge being written; cur points here
	units int64
}

// encoder is what the charge and payment encoders share: the compiled
// layout and its writer, the sticky error, the running control values,
// and the header and trailer around the detail records.
type encoder struct {
	c       *compiled
	rw      *recordWriter
	created time.Time
	err     error // sticky: a bad layout or a write error
	began   bool
	closed  bool
	ctl     controls
}

// open compiles l, which must be of kind, to write to w.
func (e *encoder) open(w io.Writer, l *Layout, kind string, created time.Time) {
	e.created = created
	c, err := compile(l)
	if err == nil && l.Kind != kind {
		err = fmt.Errorf("kind %q: want %q", l.Kind, kind)
	}
	if err != nil {
		e.err = fmt.Errorf("peoplesoft: %w: %w", ErrLayout, err)
		return
	}
	e.c = c
	e.rw = newRecordWriter(w, c)
}

// start readies the encoder for a detail record: it returns the sticky
// error, refuses a record after close, and writes the header (or the
// column names) before the first record, with its values from src.
func (e *encoder) start(src source) error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return errors.New("peoplesoft: Encode after Close")
	}
	if err := e.begin(src); err != nil {
		e.err = err
		return err
	}
	return nil
}

func (e *encoder) begin(src source) error {
	if e.began {
		return nil
	}
	e.began = true
	if e.c.columnNames {
		return e.rw.writeNames()
	}
	if e.c.header != nil {
		if _, err := e.rw.encode(e.c.header, src); err != nil {
			return err
		}
	}
	return nil
}

// close writes the header if no record did, then the trailer with its
// values from src, flushes, and returns the first error met.
func (e *encoder) close(src source) error {
	if e.closed {
		return e.err
	}
	e.closed = true
	if e.err != nil {
		return e.err
	}
	if err := e.begin(src); err != nil {
		e.err = err
		return err
	}
	if e.c.trailer != nil {
		if field, err := e.rw.encode(e.c.trailer, src); err != nil {
			e.err = fmt.Errorf("peoplesoft: trailer: %s: %w", field, err)
			return e.err
		}
	}
	e.err = e.rw.flush()
	return e.err
}

// total is the control total so far, in the layout's currency.
func (e *encoder) total() fees.Money {
	if e.c == nil {
		return fees.Money{}
	}
	return fees.FromMinor(e.ctl.total, e.c.currency)
}

func (e *encoder) count(*cfield) int64 { return e.ctl.count }

// control is the value of a control-total field of the header or
// trailer, in minor units; 0 for any other field.
func (e *encoder) control(f *cfield) int64 {
	switch f.role {
	case roleTotal:
		return e.ctl.total
	case roleDebitTotal:
		return e.ctl.debits
	case roleCreditTotal:
		return e.ctl.credits
	}
	return 0
}

// controls are a file's running control values.
type controls struct {
	count   int64
	total   int64
	debits  int64
	credits int64
}

func (t *controls) add(units int64) error {
	t.count++
	return t.sum(units)
}

// sum adds an amount to the totals (but not the count).
func (t *controls) sum(units int64) error {
	var err error
	if t.total, err = addUnits(t.total, units); err != nil {
		return err
	}
	if units >= 0 {
		t.debits, err = addUnits(t.debits, units)
	} else {
		t.credits, err = addUnits(t.credits, -units)
	}
	return err
}

// NewChargeEncoder returns an encoder that writes to w in layout l, with
// created as the file's creation time in its header. If l is not a valid
// charge layout, every call returns an error wrapping [ErrLayout].
func NewChargeEncoder(w io.Writer, l *Layout, created time.Time) *ChargeEncoder {
	e := &ChargeEncoder{}
	e.open(w, l, KindCharges, created)
	return e
}

// Encode writes one charge. A charge that cannot be written as the layout
// asks (a value too long, a character that would shift a column, an
// amount in another currency) returns an *[EncodeError], writes nothing
// and leaves the file good; a write error is returned by every later call.
func (e *ChargeEncoder) Encode(ch Charge) error {
	if err := e.start(e); err != nil {
		return err
	}
	units, err := minorOf(ch.Amount, e.c.currency)
	if err != nil {
		return &EncodeError{Ref: ch.Ref, Field: "AMOUNT", Err: err}
	}
	if units == 0 {
		return &EncodeError{Ref: ch.Ref, Field: "AMOUNT", Err: fmt.Errorf("%w: zero amount", ErrAmount)}
	}
	for _, req := range [...]struct{ name, v string }{{"EMPLID", ch.EmplID}, {"ITEM_TYPE", ch.ItemType}, {"REF1_DESCR", ch.Ref}} {
		if req.v == "" {
			return &EncodeError{Ref: ch.Ref, Field: req.name, Err: ErrMissing}
		}
	}
	e.ch = ch
	e.cur, e.units = &e.ch, units
	field, err := e.rw.encode(e.c.detail, e)
	e.cur = nil
	if err != nil {
		if field != "" {
			return &EncodeError{Ref: ch.Ref, Field: field, Err: err}
		}
		e.err = err
		return err
	}
	if err := e.ctl.add(units); err != nil {
		return &EncodeError{Ref: ch.Ref, Field: "AMOUNT", Err: err}
	}
	return nil
}

// Count returns the number of charges written so far.
func (e *ChargeEncoder) Count() int { return int(e.ctl.count) }

// Total returns the signed sum of the charges written so far.
func (e *ChargeEncoder) Total() fees.Money { return e.total() }

// Close writes the trailer, flushes, and returns the first error met. It
// does not close the underlying writer.
func (e *ChargeEncoder) Close() error { return e.close(e) }

// source, for detail, header and trailer records.

func (e *ChargeEncoder) text(f *cfield) string {
	ch := e.cur
	switch f.role {
	case roleEmplID:
		return ch.EmplID
	case roleItemType:
		return ch.ItemType
	case roleTerm:
		return ch.Term
	case roleRef:
		return ch.Ref
	case roleDescr:
		return ch.Description
	}
	return ""
}

func (e *ChargeEncoder) amount(f *cfield) int64 {
	if f.role == roleAmount {
		return e.units
	}
	return e.control(f)
}

func (e *ChargeEncoder) date(f *cfield) time.Time {
	if f.role == roleDueDate {
		return e.cur.DueDate
	}
	return e.created
}

// DecodeOptions tune a decoder. The zero value (or nil) means defaults.
type DecodeOptions struct {
	// File names the file in errors.
	File string
	// MaxBytes, when positive, is the largest file accepted; a larger one
	// fails with [ErrTooLarge].
	MaxBytes int64
	// Currency overrides the layout's currency.
	Currency fees.Currency
	// AllowDuplicates turns off the payment decoder's check that no
	// payment key (receipt, reference and item type) repeats in a file,
	// and with it the set of keys seen (16 to 32 bytes a payment). It is
	// for a caller that finds repeats itself: the payments job of package
	// reconcile does, through its journal, and holds a repeated payment
	// with the line it repeats.
	AllowDuplicates bool
}

// decoder is what both decoders share: the records, the header's creation
// time, and the check of the trailer.
type decoder struct {
	c     *compiled
	rr    *recordReader
	err   error // sticky
	ctl   controls
	dates []dateCache
	money moneyCache

	created time.Time
}

func newDecoder(r io.Reader, l *Layout, kind string, opts *DecodeOptions) *decoder {
	if opts == nil {
		opts = &DecodeOptions{}
	}
	d := &decoder{}
	lc := l
	if l != nil && opts.Currency != "" {
		cp := *l
		cp.Currency = string(opts.Currency)
		lc = &cp
	}
	c, err := compile(lc)
	if err == nil && l.Kind != kind {
		err = fmt.Errorf("kind %q: want %q", l.Kind, kind)
	}
	if err != nil {
		d.err = fmt.Errorf("peoplesoft: %w: %w", ErrLayout, err)
		return d
	}
	d.c = c
	d.rr = newRecordReader(r, c, opts.File, opts.MaxBytes)
	d.dates = make([]dateCache, max(len(c.detail.fields), 8))
	d.money.cur = c.currency
	return d
}

// next returns the next detail record; header and trailer are handled
// here. A *ParseError that is not sticky concerns one record only.
func (d *decoder) next() error {
	if d.err != nil {
		return d.err
	}
	for {
		fatal, err := d.rr.next()
		if err != nil {
			if fatal {
				d.fail(err)
			} else {
				// Only detail lines fail alone; the trailer counts them.
				d.ctl.count++
			}
			return err
		}
		switch d.rr.which {
		case recHeader:
			if err := d.header(); err != nil {
				d.fail(err)
				return err
			}
		case recTrailer:
			if err := d.trailer(); err != nil {
				d.fail(err)
				return err
			}
		default:
			d.ctl.count++
			return nil
		}
	}
}

// fail makes err sticky and marks it as concerning the whole file.
func (d *decoder) fail(err error) {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.whole = true
	}
	d.err = err
}

func (d *decoder) header() error {
	rr := d.rr
	var day, clock time.Time
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		if f.role != roleCreated {
			continue
		}
		t, err := time.Parse(f.format, rr.vals[i])
		if err != nil {
			return rr.perr(rr.line, f.name, fmt.Errorf("%w: %w: %q: want the layout %q", ErrHeader, ErrDate, rr.vals[i], f.format))
		}
		if strings.Contains(f.format, "06") || strings.Contains(f.format, "Jan") {
			day = t
		}
		if strings.Contains(f.format, "15") || strings.Contains(f.format, "03") {
			clock = t
		}
	}
	if !day.IsZero() {
		d.created = time.Date(day.Year(), day.Month(), day.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, time.UTC)
	}
	return nil
}

func (d *decoder) trailer() error {
	rr := d.rr
	c := d.c
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		var got, want int64
		var cause error
		switch f.role {
		case roleCount:
			n, err := parseCount(rr.vals[i])
			if err != nil {
				return rr.perr(rr.line, f.name, fmt.Errorf("%w: %w", ErrTrailer, err))
			}
			got, want, cause = n, d.ctl.count, ErrTrailerCount
			if got != want {
				return rr.perr(rr.line, f.name, fmt.Errorf("%w: the trailer says %d records, the file has %d", cause, got, want))
			}
			continue
		case roleTotal:
			want = d.ctl.total
		case roleDebitTotal:
			want = d.ctl.debits
		case roleCreditTotal:
			want = d.ctl.credits
		default:
			continue
		}
		got, err := rr.amountOf(i)
		if err != nil {
			return rr.perr(rr.line, f.name, fmt.Errorf("%w: %w", ErrTrailer, err))
		}
		if got != want {
			return rr.perr(rr.line, f.name, fmt.Errorf("%w: the trailer says %s, the records add up to %s", ErrTrailerTotal,
				fees.FromMinor(got, c.currency), fees.FromMinor(want, c.currency)))
		}
	}
	return nil
}

// ChargeDecoder reads a charge file in a layout, such as the files
// feebridge wrote, or files loaded by the simulated ledger.
//
// Decode returns the charges one by one. A bad record returns a
// *[ParseError] and decoding goes on with the next record; a problem with
// the whole file (a missing or bad header, a trailer whose count or total
// disagrees with the records, a missing trailer) is returned by Decode and
// every later call. Because the trailer comes last, a caller that must not
// act on a file whose trailer disagrees reads it to the end first.
type ChargeDecoder struct {
	d *decoder
}

// NewChargeDecoder returns a decoder that reads a charge file in layout l
// from r. opts may be nil.
func NewChargeDecoder(r io.Reader, l *Layout, opts *DecodeOptions) *ChargeDecoder {
	return &ChargeDecoder{d: newDecoder(r, l, KindCharges, opts)}
}

// Decode returns the next charge, or io.EOF after the last one once the
// trailer has been checked.
func (cd *ChargeDecoder) Decode() (Charge, error) {
	d := cd.d
	if err := d.next(); err != nil {
		return Charge{}, err
	}
	rr := d.rr
	var ch Charge
	var units int64
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		v := rr.vals[i]
		switch f.role {
		case roleEmplID:
			ch.EmplID = v
		case roleItemType:
			ch.ItemType = v
		case roleTerm:
			ch.Term = v
		case roleRef:
			ch.Ref = v
		case roleDescr:
			ch.Description = v
		case roleDueDate:
			if v == "" {
				continue
			}
			t, err := d.dates[i].parse(v, f.format)
			if err != nil {
				return Charge{}, rr.perr(rr.line, f.name, err)
			}
			ch.DueDate = t
		case roleAmount:
			u, err := rr.amountOf(i)
			if err != nil {
				return Charge{}, rr.perr(rr.line, f.name, err)
			}
			if u == 0 {
				return Charge{}, rr.perr(rr.line, f.name, fmt.Errorf("%w: zero amount", ErrAmount))
			}
			units = u
		}
	}
	for _, req := range [...]struct{ name, v string }{{"EMPLID", ch.EmplID}, {"ITEM_TYPE", ch.ItemType}, {"REF1_DESCR", ch.Ref}} {
		if req.v == "" {
			return Charge{}, rr.perr(rr.line, req.name, ErrMissing)
		}
	}
	if err := d.ctl.sum(units); err != nil {
		return Charge{}, rr.perr(rr.line, "AMOUNT", err)
	}
	ch.Amount = d.money.get(units)
	return ch, nil
}

// Created returns the creation time written in the file's header, once
// the header has been read (after the first Decode), or the zero time.
func (cd *ChargeDecoder) Created() time.Time { return cd.d.created }

// Line returns the line number of the record Decode returned last.
func (cd *ChargeDecoder) Line() int {
	if cd.d.rr == nil {
		return 0
	}
	return cd.d.rr.line
}
