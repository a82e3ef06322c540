package peoplesoft

import (
	"fmt"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Result is one line of a load results file: PeopleSoft's verdict on one
// line of a charge file it loaded. The line is named as it was sent, by
// its reference (REF1_DESCR) and item type, and by its signed amount when
// the file carries it (a negative amount is a credit).
type Result struct {
	Ref      string // REF1_DESCR as sent: the Alma bursar transaction id
	ItemType string
	EmplID   string     // the student, when the file carries it
	Term     string     // ITEM_TERM, when the file carries it
	Amount   fees.Money // signed, as sent; the zero Money when the file has no AMOUNT
	Refused  bool       // the load refused the line; false: it was posted
	Message  string     // the load's message, such as "Invalid Employee ID"
	Line     int        // the line it was read from (set by the decoder)
}

// Credit reports whether the line was a credit (a negative amount).
func (r Result) Credit() bool { return r.Amount.Valid() && r.Amount.IsNegative() }

// ResultDecoder reads a load results file in a layout of kind "results".
//
// Decode returns the results one by one. A bad record returns a
// *[ParseError] (its Err wraps [ErrMissing], [ErrAmount], [ErrStatus], …)
// with what could be read of the record, and decoding goes on with the
// next one; a problem with the whole file (a trailer that disagrees, a
// file above MaxBytes, a read error) is returned by Decode and every later
// call.
type ResultDecoder struct {
	d *decoder
}

// NewResultDecoder returns a decoder that reads a results file in layout
// l from r. opts may be nil.
func NewResultDecoder(r io.Reader, l *Layout, opts *DecodeOptions) *ResultDecoder {
	return &ResultDecoder{d: newDecoder(r, l, KindResults, opts)}
}

// Decode returns the next result, or io.EOF after the last one (once the
// trailer, if the layout has one, has been checked).
func (rd *ResultDecoder) Decode() (Result, error) {
	d := rd.d
	if err := d.next(); err != nil {
		return Result{}, err
	}
	rr := d.rr
	res := Result{Line: rr.line}
	// The text first, so that a bad status or amount comes back with the
	// line's reference and item type.
	for i := range rr.rec.fields {
		res.setText(rr.rec.fields[i].role, rr.vals[i])
	}
	var units int64
	amount := false
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		switch f.role {
		case roleStatus:
			switch v := rr.vals[i]; v {
			case f.values[0]:
			case f.values[1]:
				res.Refused = true
			default:
				return res, rr.perr(rr.line, f.name, fmt.Errorf("%w: %q: want %q (posted) or %q (refused)", ErrStatus, v, f.values[0], f.values[1]))
			}
		case roleAmount:
			u, err := rr.amountOf(i)
			if err != nil {
				return res, rr.perr(rr.line, f.name, err)
			}
			if err := d.ctl.sum(u); err != nil {
				return res, rr.perr(rr.line, f.name, err)
			}
			units, amount = u, true
		}
	}
	for _, req := range [...]struct{ name, v string }{{"REF1_DESCR", res.Ref}, {"ITEM_TYPE", res.ItemType}} {
		if req.v == "" {
			return res, rr.perr(rr.line, req.name, ErrMissing)
		}
	}
	if amount {
		res.Amount = d.money.get(units)
	}
	return res, nil
}

// setText sets the text field of r that role names to v.
func (r *Result) setText(ro role, v string) {
	switch ro {
	case roleRef:
		r.Ref = v
	case roleItemType:
		r.ItemType = v
	case roleEmplID:
		r.EmplID = v
	case roleTerm:
		r.Term = v
	case roleMessage:
		// A message is text for people: a control character in it reads
		// as a space, as the encoder writes it.
		r.Message = cleanText(v, false)
	}
}

// Created returns the creation time in the file's header, if its layout
// has one, once the header has been read.
func (rd *ResultDecoder) Created() time.Time { return rd.d.created }

// ResultEncoder writes a load results file in a layout; the simulated
// ledger uses it.
type ResultEncoder struct {
	encoder
	cur   *Result
	res   Result
	units int64
}

// NewResultEncoder returns an encoder that writes to w in layout l, with
// created as the file's creation time in its header, if it has one.
func NewResultEncoder(w io.Writer, l *Layout, created time.Time) *ResultEncoder {
	e := &ResultEncoder{}
	e.open(w, l, KindResults, created)
	return e
}

// Encode writes one result. A result that cannot be written returns an
// *[EncodeError] and writes nothing.
func (e *ResultEncoder) Encode(r Result) error {
	if err := e.start(e); err != nil {
		return err
	}
	var units int64
	if r.Amount.Valid() {
		u, err := minorOf(r.Amount, e.c.currency)
		if err != nil {
			return &EncodeError{Ref: r.Ref, Field: "AMOUNT", Err: err}
		}
		units = u
	}
	for _, req := range [...]struct{ name, v string }{{"REF1_DESCR", r.Ref}, {"ITEM_TYPE", r.ItemType}} {
		if req.v == "" {
			return &EncodeError{Ref: r.Ref, Field: req.name, Err: ErrMissing}
		}
	}
	e.res = r
	e.cur, e.units = &e.res, units
	field, err := e.rw.encode(e.c.detail, e)
	e.cur = nil
	if err != nil {
		if field != "" {
			return &EncodeError{Ref: r.Ref, Field: field, Err: err}
		}
		e.err = err
		return err
	}
	if err := e.ctl.add(units); err != nil {
		return &EncodeError{Ref: r.Ref, Field: "AMOUNT", Err: err}
	}
	return nil
}

// WithTrailer makes Close write the layout's trailer also when it is
// optional (the reference layout's is), and returns e.
func (e *ResultEncoder) WithTrailer() *ResultEncoder {
	e.trailer = true
	return e
}

// Count returns the number of results written so far.
func (e *ResultEncoder) Count() int { return int(e.ctl.count) }

// Close writes the trailer, if the layout has one, flushes, and returns
// the first error met. It does not close the underlying writer.
func (e *ResultEncoder) Close() error { return e.close(e) }

func (e *ResultEncoder) text(f *cfield) string {
	r := e.cur
	switch f.role {
	case roleRef:
		return r.Ref
	case roleItemType:
		return r.ItemType
	case roleEmplID:
		return r.EmplID
	case roleTerm:
		return r.Term
	case roleMessage:
		return r.Message
	case roleStatus:
		if r.Refused {
			return f.values[1]
		}
		return f.values[0]
	}
	return ""
}

func (e *ResultEncoder) amount(f *cfield) int64 {
	if f.role == roleAmount {
		return e.units
	}
	return e.control(f)
}

func (e *ResultEncoder) date(*cfield) time.Time { return e.created }
