package peoplesoft

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

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
	// trailer: Close writes an optional trailer too.
	trailer bool
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
	if e.c.trailer != nil && (!e.c.trailerOptional || e.trailer) {
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
