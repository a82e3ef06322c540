package peoplesoft

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

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
	// Every control value that disagrees is named, so that the reason
	// shows all the sender meant against all that was read.
	var field string
	var errs []error
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		var want int64
		switch f.role {
		case roleCount:
			got, err := parseCount(rr.vals[i])
			if err != nil {
				return rr.perr(rr.line, f.name, fmt.Errorf("%w: %w", ErrTrailer, err))
			}
			if got != d.ctl.count {
				field = cmp.Or(field, f.name)
				errs = append(errs, fmt.Errorf("%w: the trailer says %d records, the file has %d", ErrTrailerCount, got, d.ctl.count))
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
			field = cmp.Or(field, f.name)
			errs = append(errs, fmt.Errorf("%w: the trailer says %s, the records add up to %s", ErrTrailerTotal,
				fees.FromMinor(got, c.currency), fees.FromMinor(want, c.currency)))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return rr.perr(rr.line, field, joined(errs))
}

// joined is errs as one error whose message is theirs separated by "; ",
// and which wraps them all.
func joined(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return &joinedErr{errs}
}

type joinedErr struct{ errs []error }

func (e *joinedErr) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e *joinedErr) Unwrap() []error { return e.errs }
