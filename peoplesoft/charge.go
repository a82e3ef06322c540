package peoplesoft

import (
	"fmt"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Charge is one detail line of a charge file: a debit on the student's
// account, or a credit (a negative amount) that lowers an earlier charge.
type Charge struct {
	EmplID      string
	ItemType    string     // the bursar's code: a 12-digit PeopleSoft item type, a Banner detail code, …
	Amount      fees.Money // signed: negative is a credit
	Term        string     // ITEM_TERM, such as "2268"
	DueDate     time.Time  // a date; the zero time is written blank
	Ref         string     // REF1_DESCR: the Alma bursar transaction id; with ItemType it names the charge
	Description string
	// BusinessUnit is PeopleSoft's SF business unit the charge is posted
	// to (5 characters, such as "ARC01"): the college whose library owns
	// the fee. Empty for a district with one business unit that its
	// External File Load sets itself; written blank.
	BusinessUnit string
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
	case roleBusinessUnit:
		return ch.BusinessUnit
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
		case roleBusinessUnit:
			ch.BusinessUnit = v
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
