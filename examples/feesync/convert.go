package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// convertMemoryLimit is the soft memory limit of convert alma-export
// unless GOMEMLIMIT sets one: a million fees convert in about 50 MB.
const convertMemoryLimit = 40 << 20

// progressEvery is how often a long conversion logs how far it got.
const progressEvery = 5 * time.Second

// convertAlmaExport turns an Alma bursar export into a PeopleSoft charge
// file, one record at a time: decoder → mapping → encoder, with nothing
// kept per record but the charge keys (transaction id and fee type) the
// decoder keeps to refuse a repeated one. Real exports give one
// bursarTransactionId to fees of different types (the MIT file in
// testdata does, on five fees); each is its own charge, told apart by
// PeopleSoft through REF1_DESCR and ITEM_TYPE together. Bad records are
// listed and left out; the rest is written.
func (m *Main) convertAlmaExport(ctx context.Context) error {
	const cmd = "convert alma-export"
	if m.in == "" || m.out == "" {
		return usagef("%s: -in and -out are required", cmd)
	}
	asOf, err := m.asOfDay()
	if err != nil {
		return err
	}
	layout, err := m.config.ChargeLayout()
	if err != nil {
		return err
	}
	mapping := m.config.Mapping()

	in, err := os.Open(m.in)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer in.Close()
	if m.Getenv("GOMEMLIMIT") == "" {
		// What stays in memory is the decoder's and encoder's buffers and
		// its set of charge keys; a soft limit makes the collector keep the
		// heap near that rather than let it double between collections.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(convertMemoryLimit))
	}
	dec := alma.NewExportDecoder(bufio.NewReaderSize(in, 64<<10), &alma.DecoderOptions{
		File: m.in, Location: m.config.Location()})

	rej := &rejections{w: m.Stderr}
	var enc *peoplesoft.ChargeEncoder
	err = writeAtomic(m.out, func(w io.Writer) error {
		enc = peoplesoft.NewChargeEncoder(w, layout, m.Now().In(m.config.Location()))
		prog := m.progress(cmd)
		for n := 0; ; n++ {
			if n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				prog(n)
			}
			rec, err := dec.Decode()
			if err == io.EOF {
				break
			}
			var pe *alma.ParseError
			if errors.As(err, &pe) && !errors.Is(err, alma.ErrSyntax) {
				rej.add(m.in, pe.Line, pe.TransactionID, pe.Err.Error())
				continue
			}
			if err != nil {
				return err
			}
			ch, err := chargeFor(mapping, rec, asOf)
			if err != nil {
				rej.add(m.in, rec.Line, rec.TransactionID, reason(err))
				continue
			}
			if err := enc.Encode(ch); err != nil {
				var ee *peoplesoft.EncodeError
				if !errors.As(err, &ee) {
					return err
				}
				rej.add(m.in, rec.Line, rec.TransactionID, ee.Error())
			}
		}
		return enc.Close()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	m.logger.Info("convert done", "command", cmd, "in", m.in, "out", m.out, "files", 1,
		"records", enc.Count(), "total", enc.Total().String(), "rejected", rej.n, "as_of", asOf.Format(time.DateOnly))
	return rej.result(cmd)
}

// chargeFor maps one export record to its charge or credit line.
func chargeFor(mp peoplesoft.Mapping, rec alma.ExportRecord, asOf time.Time) (peoplesoft.Charge, error) {
	if rec.IsCredit() {
		c, err := rec.Credit()
		if err != nil {
			return peoplesoft.Charge{}, err
		}
		return mp.CreditFor(c, asOf)
	}
	f, err := rec.Fee()
	if err != nil {
		return peoplesoft.Charge{}, err
	}
	return mp.ChargeFor(*f, asOf)
}

// reason is the text of a rejection: a mapping's own reason when it gives
// one, else the error.
func reason(err error) string {
	var re *peoplesoft.RejectError
	if errors.As(err, &re) && re.Reason != "" {
		return re.Reason
	}
	return err.Error()
}

// convertPSPayments turns a PeopleSoft payment file into an Alma bursar
// import file. Beyond what the decoder checks (syntax, amounts, channel,
// method, a repeated receipt, reference and item type), it applies the rules that need
// no Alma: a payment is positive, not above the amount charged, and an
// eServices payment pays the charge in full.
func (m *Main) convertPSPayments(ctx context.Context) error {
	const cmd = "convert ps-payments"
	if m.in == "" || m.out == "" {
		return usagef("%s: -in and -out are required", cmd)
	}
	layout, err := m.config.PaymentLayout()
	if err != nil {
		return err
	}
	mapping := m.config.Mapping()

	in, err := os.Open(m.in)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer in.Close()
	dec := peoplesoft.NewPaymentDecoder(bufio.NewReaderSize(in, 64<<10), layout,
		&peoplesoft.DecodeOptions{File: m.in, Currency: m.config.FeeCurrency(), MaxBytes: m.config.MaxPaymentFileBytes()})

	rej := &rejections{w: m.Stderr}
	records := 0
	total := fees.Zero(m.config.FeeCurrency())
	err = writeAtomic(m.out, func(w io.Writer) error {
		enc := alma.NewImportEncoder(w, &alma.EncoderOptions{Location: m.config.Location()})
		prog := m.progress(cmd)
		for n := 0; ; n++ {
			if n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				prog(n)
			}
			p, err := dec.Decode()
			if err == io.EOF {
				break
			}
			var pe *peoplesoft.ParseError
			if errors.As(err, &pe) && pe.Line > 0 && isRecordError(err) {
				why := pe.Err.Error()
				if pe.Field != "" {
					why = pe.Field + ": " + why
				}
				rej.add(m.in, pe.Line, "-", why)
				continue
			}
			if err != nil {
				return err
			}
			if err := checkPayment(p); err != nil {
				rej.add(m.in, p.Line, p.Key(), err.Error())
				continue
			}
			typ, ok := mapping.FeeTypeOf(p.ItemType)
			if !ok {
				typ = fees.TypeOther
				m.logger.Warn("payment item type maps to no Alma fee type; sent as OTHER (Alma matches it by transaction id only if no other fee shares the id)",
					"file", m.in, "line", p.Line, "item_type", p.ItemType)
			}
			rec := alma.ExportRecord{
				Patron:          alma.Patron{ID: p.EmplID},
				Type:            typ,
				Amount:          p.PaidAmt,
				TransactionID:   p.Ref,
				Comment:         fmt.Sprintf("PeopleSoft receipt %s (%s, %s)", p.Receipt, p.Channel, p.Method),
				LastTransaction: p.PaidDate,
			}
			if err := enc.Encode(rec); err != nil {
				if !errors.Is(err, alma.ErrRecord) {
					return err
				}
				rej.add(m.in, p.Line, p.Key(), err.Error())
				continue
			}
			records++
			if total, err = total.Add(p.PaidAmt); err != nil {
				return err
			}
		}
		return enc.Close()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	m.logger.Info("convert done", "command", cmd, "in", m.in, "out", m.out, "files", 1,
		"records", records, "total", total.String(), "rejected", rej.n)
	return rej.result(cmd)
}

// isRecordError reports whether a payment decoder error concerns one record
// (decoding goes on) rather than the whole file.
func isRecordError(err error) bool {
	for _, whole := range []error{peoplesoft.ErrHeader, peoplesoft.ErrTrailer, peoplesoft.ErrTrailerCount,
		peoplesoft.ErrTrailerTotal, peoplesoft.ErrTooLarge, peoplesoft.ErrLayout} {
		if errors.Is(err, whole) {
			return false
		}
	}
	return true
}

// checkPayment applies the offline rules of R4 to one payment line.
func checkPayment(p peoplesoft.Payment) error {
	if !p.PaidAmt.IsPositive() {
		return fmt.Errorf("paid amount %s is not positive", p.PaidAmt)
	}
	if !p.ChargeAmt.Valid() {
		if p.Channel == fees.ChannelEServices {
			return fmt.Errorf("eServices payment of %s without the amount charged: cannot tell that it pays in full", p.PaidAmt)
		}
		return nil
	}
	c, err := p.PaidAmt.Cmp(p.ChargeAmt)
	if err != nil {
		return err
	}
	switch {
	case c > 0:
		return fmt.Errorf("paid %s is above the amount charged, %s", p.PaidAmt, p.ChargeAmt)
	case c < 0 && p.Channel == fees.ChannelEServices:
		return fmt.Errorf("eServices pays a fee in full or not at all: paid %s of %s", p.PaidAmt, p.ChargeAmt)
	}
	return nil
}

// asOfDay is the -as-of day, or today, at midnight in the config's zone.
func (m *Main) asOfDay() (time.Time, error) {
	loc := m.config.Location()
	if m.asOf == "" {
		now := m.Now().In(loc)
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, m.asOf, loc)
	if err != nil {
		return time.Time{}, usagef("-as-of %q: want YYYY-MM-DD", m.asOf)
	}
	return t, nil
}

// progress returns a function that logs how many records were read, at
// most every progressEvery.
func (m *Main) progress(cmd string) func(n int) {
	last := m.Now()
	return func(n int) {
		if now := m.Now(); now.Sub(last) >= progressEvery {
			last = now
			m.logger.Info("progress", "command", cmd, "records_read", n)
		}
	}
}

// rejections lists rejected records on w as FILE:LINE: KEY: reason.
type rejections struct {
	w io.Writer
	n int
}

func (r *rejections) add(file string, line int, key, reason string) {
	r.n++
	if key == "" {
		key = "-"
	}
	fmt.Fprintf(r.w, "%s:%d: %s: %s\n", file, line, key, reason)
}

// result is nil, or a *RejectedError when records were rejected.
func (r *rejections) result(cmd string) error {
	if r.n == 0 {
		return nil
	}
	return &RejectedError{Command: cmd, Rejected: r.n}
}

// writeAtomic writes a file at path through write: the content goes to a
// temporary file in the same folder, which is synced and renamed into place
// only when write succeeds, so path holds either its old content or the
// whole new one, never a part.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
