package config

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
)

// errNotPlain ends the plain path of [ConvertExport]: the export holds a
// record that only the charges job decides (see convertPlain).
var errNotPlain = errors.New("config: the export is not plain: the charges job converts it")

// plainBatch is how many records the reading goroutine of convertPlain
// hands over at a time, and plainAhead how many batches may wait: the
// bound on what is in memory, whatever the file's size.
const (
	plainBatch = 256
	plainAhead = 2
)

// convertPlain converts the export in into the charge file out without
// the journal, when the export is plain: every record a fee with a
// bursar transaction id (without '/'), a user and a positive balance,
// that the config maps (MapCharge) and the layout writes (ChargeWriter),
// no two with the same pair of transaction id and fee type (charge key),
// and at least one such fee. Over the empty journal of a conversion, the
// charges job decides every record of such a file the same way, new, and
// writes its line in file order, with the same adapters, the same date
// and the same totals; what it would do with anything else (a credit, a
// record held, a repeated charge key, a line refused, a file that cannot
// be read) is left to it: convertPlain then returns errNotPlain, having
// written nothing at out, and [ConvertExport] runs the job.
//
// It decodes in other goroutines (alma.NewExportDecoderAt: in parts on
// all the cores for a large file) and, in the caller's, checks the charge
// keys, turns the records into the jobs' (almaport.ExportRecordOf), maps
// and writes them, batches passing through a bounded channel: the
// decoding is the larger half. An export format other than almaport's
// (the config's) is left to the job.
func convertPlain(ctx context.Context, cfg *Config, in, out string, now time.Time, progress func(int)) (reconcile.RunResult, error) {
	var deps reconcile.Deps
	if err := cfg.adapters(&deps); err != nil {
		return reconcile.RunResult{}, err
	}
	f, err := os.Open(in)
	if err != nil {
		return reconcile.RunResult{}, errNotPlain // the job names the problem
	}
	defer f.Close()
	ef, ok := deps.Export.(almaport.ExportFormat)
	if !ok {
		return reconcile.RunResult{}, errNotPlain // another format: the job reads it
	}
	var opts alma.DecoderOptions
	if ef.Options != nil {
		opts = *ef.Options
	}
	// The charge keys are checked in the writing goroutine, with the
	// decoder's own set.
	opts.AllowDuplicates = true
	// The decoder reads into buffers of its own: no bufio between. A
	// large file is decoded in parts on all the cores, beside the
	// mapping and writing here; a pipe in one goroutine.
	var dec *alma.ExportDecoder
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		dec = alma.NewExportDecoderAt(f, st.Size(), &opts)
	} else {
		dec = alma.NewExportDecoder(f, &opts)
	}
	defer dec.Close()
	var keys alma.ChargeKeySet
	jobs := func(rec alma.ExportRecord) (reconcile.ExportRecord, bool) {
		if rec.TransactionID == "" || keys.Add(rec.TransactionID, rec.Type) {
			return reconcile.ExportRecord{}, false
		}
		return almaport.ExportRecordOf(rec), true
	}
	return writePlainFile(ctx, deps.Charges, out, now, progress, dec.Decode, jobs)
}

// writePlainFile writes out from the records that next returns, read in
// a goroutine of its own and turned into the jobs' records by jobs (false:
// not plain) in the caller's.
func writePlainFile[T any](ctx context.Context, charges reconcile.ChargeFormat, out string, now time.Time, progress func(int),
	next func() (T, error), jobs func(T) (reconcile.ExportRecord, bool)) (reconcile.RunResult, error) {
	batches, stop := readPlain(next, progress)
	defer stop()
	res := reconcile.RunResult{Files: 1}
	var sum plainSum
	started := false
	err := writeAtomic(out, func(w io.Writer) error {
		started = true
		cw := charges.NewChargeWriter(w, now)
		for b := range batches {
			if b.err != nil {
				return b.err
			}
			for i := range b.recs {
				rec, ok := jobs(b.recs[i])
				if !ok {
					return errNotPlain
				}
				if err := writePlain(ctx, charges, cw, &rec, now, &res, &sum); err != nil {
					return err
				}
			}
		}
		var err error
		if res.Total, err = sum.total(); err != nil {
			return errNotPlain
		}
		if res.Records == 0 {
			return errNotPlain // the job publishes no file: out is written empty
		}
		if err := cw.Close(); err != nil {
			return errNotPlain // the job says why, in its words
		}
		return nil
	})
	if err != nil && !res.Total.Valid() {
		res.Total, _ = sum.total() // what was written before err
	}
	if err != nil && !started {
		// The output cannot be created: the job says so, after what it
		// says of the input, as it always did.
		return res, errNotPlain
	}
	return res, err
}

// writePlain maps and writes the fee of rec, counting it in res and its
// amount in sum, or returns errNotPlain when the charges job would not
// write it as it is.
func writePlain(ctx context.Context, charges reconcile.ChargeFormat, cw reconcile.ChargeWriter, rec *reconcile.ExportRecord, now time.Time,
	res *reconcile.RunResult, sum *plainSum) error {
	fee := rec.Fee
	if rec.Err != nil || fee == nil || rec.Credit != nil || fee.TransactionID == "" ||
		strings.IndexByte(fee.TransactionID, '/') >= 0 || !fee.Balance.IsPositive() {
		return errNotPlain
	}
	if fee.UserID == "" {
		fee.UserID = rec.UserID
	}
	line, err := charges.MapCharge(*fee, now)
	if err != nil {
		return errNotPlain
	}
	if err := sum.add(line.Amount); err != nil {
		return errNotPlain
	}
	if err := cw.Write(line); err != nil {
		return errNotPlain
	}
	res.Records++
	if res.Records%plainBatch == 0 {
		return ctx.Err()
	}
	return nil
}

// plainRecords is a batch of records read, or the error that ended the
// reading (errNotPlain for a file that does not read to its end).
type plainRecords[T any] struct {
	recs []T
	err  error
}

// readPlain calls next in a goroutine of its own and sends its records in
// batches; the channel closes after the last one. stop ends the goroutine
// early and waits for it.
func readPlain[T any](next func() (T, error), progress func(int)) (<-chan plainRecords[T], func()) {
	ch := make(chan plainRecords[T], plainAhead)
	quit := make(chan struct{})
	done := make(chan struct{})
	send := func(b plainRecords[T]) bool {
		select {
		case ch <- b:
			return true
		case <-quit:
			return false
		}
	}
	go func() {
		defer close(done)
		defer close(ch)
		n := 0
		batch := make([]T, 0, plainBatch)
		for {
			// Counted before each call, as the job's reader counts.
			if n++; progress != nil && n%1024 == 0 {
				progress(n)
			}
			rec, err := next()
			if err == io.EOF {
				if len(batch) > 0 {
					send(plainRecords[T]{recs: batch})
				}
				return
			}
			if err != nil {
				send(plainRecords[T]{err: errNotPlain})
				return
			}
			batch = append(batch, rec)
			if len(batch) == plainBatch {
				if !send(plainRecords[T]{recs: batch}) {
					return
				}
				batch = make([]T, 0, plainBatch)
			}
		}
	}()
	return ch, func() {
		close(quit)
		for range ch { // let a blocked send see quit
		}
		<-done
	}
}
