package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Charges runs the charges job (F2): it claims each new export file in the
// library drop's exports folder, skips the fees already sent, maps the
// others to charge lines, publishes one charge file per export to the
// bursar drop, journals every decision and moves the export to done/.
//
// A fee that cannot be mapped is held in the journal with the reason and
// listed in the result and the report; [Jobs.Redrive] sends it once the
// configuration is fixed. A credit found in an export is handled as
// [Jobs.Credits] does. An export that cannot be read goes to failed/ with
// a reason file and the other exports go on.
func (j *Jobs) Charges(ctx context.Context) (RunResult, error) {
	if err := j.needExport(); err != nil {
		return RunResult{}, err
	}
	return j.runFiles(ctx, fileJob{
		job: "charges", in: j.deps.Library, inDir: j.opts.Folders.Exports,
		out: j.deps.Bursar, outDir: j.opts.Folders.Charges,
		outName: func(sha string) string { return j.opts.ChargePrefix + sha[:16] + j.opts.ChargeExt },
		decide:  j.decideExport,
	})
}

// Credits runs the credits job (F4): it claims each credit/waiver export
// in the library drop's credits folder, links each credit to the charge it
// reverses (by bursar transaction id through the journal, else by student,
// item and fee type), writes the credit lines to the bursar drop, and
// journals them. An unlinked credit, a credit above what the bursar still
// holds, and a partial waiver of a transferred fee (R5) are held and
// reported; the latter with the two-step remedy.
func (j *Jobs) Credits(ctx context.Context) (RunResult, error) {
	if err := j.needExport(); err != nil {
		return RunResult{}, err
	}
	return j.runFiles(ctx, fileJob{
		job: "credits", in: j.deps.Library, inDir: j.opts.Folders.Credits,
		out: j.deps.Bursar, outDir: j.opts.Folders.Charges,
		outName: func(sha string) string { return j.opts.CreditPrefix + sha[:16] + j.opts.ChargeExt },
		decide:  j.decideExport,
	})
}

func (j *Jobs) needExport() error {
	if j.deps.Export == nil || j.deps.Charges == nil {
		return errors.New("reconcile: the export and charge formats are not configured")
	}
	return nil
}

// exportItem is one record of an export, read and (for a fee) mapped ahead
// of its decision.
type exportItem struct {
	rec    ExportRecord
	mapped *mapping
}

// mapping is the result of ChargeFormat.MapCharge for a fee.
type mapping struct {
	line ChargeLine
	err  error
}

// ahead is one item read ahead of its decision, or the error that ended
// the input: io.EOF at its end, or a fatal one.
type ahead[T any] struct {
	item T
	err  error
}

// readAhead calls next in a goroutine of its own until it returns an
// error, so that reading (the adapters' work: decoding, mapping) overlaps
// with deciding (the journal's). Items come out in order, in slices of up
// to chunk (one hand-over per slice, not per item); the last item carries
// io.EOF or the error that ended the input. stop ends the goroutine early
// and waits for it.
func readAhead[T any](chunk int, next func() (T, error)) (items <-chan []ahead[T], stop func()) {
	ch := make(chan []ahead[T], 4)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		buf := make([]ahead[T], 0, chunk)
		for {
			it, err := next()
			buf = append(buf, ahead[T]{it, err})
			if len(buf) == chunk || err != nil {
				select {
				case ch <- buf:
				case <-quit:
					return
				}
				buf = make([]ahead[T], 0, chunk)
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, func() {
		close(quit)
		<-done
	}
}

// readExportAhead reads the records of an export ahead, mapping each fee
// to its charge line on the way.
func (j *Jobs) readExportAhead(rd ExportReader, asOf time.Time) (<-chan []ahead[exportItem], func()) {
	return readAhead(256, func() (exportItem, error) {
		rec, err := rd.Next()
		it := exportItem{rec: rec}
		if err == nil && rec.Err == nil && rec.Fee != nil && rec.Fee.TransactionID != "" && rec.Fee.Balance.IsPositive() {
			f := *rec.Fee
			if f.UserID == "" {
				f.UserID = rec.UserID
			}
			line, merr := j.deps.Charges.MapCharge(f, asOf)
			it.mapped = &mapping{line, merr}
		}
		return it, err
	})
}

func (j *Jobs) decideExport(ctx context.Context, d *decision) error {
	items, stop := j.readExportAhead(j.deps.Export.NewExportReader(d.src), d.asOf)
	defer stop()
	w := j.deps.Charges.NewChargeWriter(d.out, d.asOf)
	for it := range each(items) {
		rec, err := it.item.rec, it.err
		if err == io.EOF {
			break
		}
		if err != nil {
			return &fileError{fmt.Errorf("%s: %w", d.file.Name, err)}
		}
		switch {
		case rec.Err != nil:
			// An unreadable record is held under a key of its own (file and
			// line), so that it can never pass for the record whose
			// transaction id it may share; that id is kept in ref.
			err = d.reject(ctx, Record{Kind: KindCharge, Key: d.lineKey(rec.Line),
				Ref: rec.Key, UserID: rec.UserID, Line: rec.Line, Reason: rec.Err.Error(), Code: fees.ErrorCode(rec.Err)})
		case rec.Fee != nil:
			err = j.decideCharge(ctx, d, rec, it.item.mapped, w)
		case rec.Credit != nil:
			err = j.decideCredit(ctx, d, rec, w)
		default:
			err = d.reject(ctx, Record{Kind: KindCharge, Key: d.lineKey(rec.Line),
				UserID: rec.UserID, Line: rec.Line, Reason: "record holds neither a fee nor a credit"})
		}
		if err != nil {
			return err
		}
	}
	if err := d.flush(ctx); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("reconcile: write charge file for %s: %w", d.file.Name, err)
	}
	return nil
}

// each ranges over the items of the slices received from ch.
func each[T any](ch <-chan []ahead[T]) func(yield func(ahead[T]) bool) {
	return func(yield func(ahead[T]) bool) {
		for items := range ch {
			for _, it := range items {
				if !yield(it) {
					return
				}
			}
		}
	}
}

// chargeRecord is the journal row of a fee.
func chargeRecord(f *fees.Fee, line int) Record {
	return Record{Kind: KindCharge, Key: f.ChargeKey(), UserID: f.UserID, FeeID: f.ID, FeeType: f.Type,
		Barcode: f.Item.Barcode, Amount: f.Balance, Line: line}
}

// writeLine writes the line of the claimed record r; a line the writer
// refuses holds the record instead.
func (d *decision) writeLine(ctx context.Context, w ChargeWriter, r Record, line ChargeLine, rec ExportRecord) error {
	err := w.Write(line)
	switch {
	case err == nil:
		d.written(line.Amount)
		return nil
	case errors.Is(err, ErrReject):
		r = refused(r, err)
		r.Payload = payload(rec)
		return d.reject(ctx, r)
	default:
		return fmt.Errorf("reconcile: write the output of %s: %w", d.file.Name, err)
	}
}

// decideCharge writes the line for a fee, or skips or holds it.
// m is the fee's mapping when it was made ahead, else nil.
func (j *Jobs) decideCharge(ctx context.Context, d *decision, rec ExportRecord, m *mapping, w ChargeWriter) error {
	f := rec.Fee
	if f.UserID == "" {
		f.UserID = rec.UserID
	}
	r := chargeRecord(f, rec.Line)
	if f.TransactionID == "" {
		r.Key = d.lineKey(rec.Line)
		r.Reason = fmt.Sprintf("fee %s has no bursar transaction id", f.ID)
		return d.reject(ctx, r)
	}
	if !f.Balance.IsPositive() {
		r.Reason = fmt.Sprintf("fee %s: balance %s is not positive", f.ID, f.Balance)
		return d.reject(ctx, r)
	}
	if m == nil {
		line, err := j.deps.Charges.MapCharge(*f, d.asOf)
		m = &mapping{line, err}
	}
	line, err := m.line, m.err
	if err != nil {
		r = refused(r, err)
		r.Payload = payload(rec)
		return d.reject(ctx, r)
	}
	r.Outcome = OutcomeCharged
	// Charges are the bulk: they are journaled in batches, and each line
	// written once its key is known to be new (or this file's own).
	return d.enqueue(ctx, r, func() error { return d.writeLine(ctx, w, r, line, rec) })
}

// decideCredit links a credit to its charge and writes its line, or skips
// or holds it.
func (j *Jobs) decideCredit(ctx context.Context, d *decision, rec ExportRecord, w ChargeWriter) error {
	// A credit reads the balance of its charge, which may be queued.
	if err := d.flush(ctx); err != nil {
		return err
	}
	c := *rec.Credit
	if c.UserID == "" {
		c.UserID = rec.UserID
	}
	// The credit's key is the charge key of the charge it reverses, when
	// the record names it whole; else the transaction id (or Alma's key
	// of the credit record) until it is linked.
	// Alma's credit record carries the bursarTransactionId of the fee it
	// reverses: its own key is the charge's id when no other is given.
	if c.TransactionID == "" {
		c.TransactionID = c.Key
	}
	key := c.TransactionID
	if key != "" && c.Type != "" && c.Type != fees.TypeCredit {
		key = fees.ChargeKey(c.TransactionID, c.Type)
	}
	r := Record{Kind: KindCredit, Key: key, UserID: c.UserID, FeeID: c.FeeID, FeeType: c.Type, Amount: c.Amount,
		Line: rec.Line, Payload: payload(rec)}
	if key == "" {
		r.Key = d.lineKey(rec.Line)
		r.Reason = "credit has no bursar transaction id"
		return d.reject(ctx, r)
	}
	if err := c.Validate(); err != nil {
		return d.reject(ctx, refused(r, err))
	}
	// Already decided into another file: a duplicate, skip it before
	// judging it against a balance it already lowered.
	if old, ok, err := getRecord(ctx, d.tx, KindCredit, key); err != nil {
		return err
	} else if ok && old.Outcome == OutcomeCredited && !d.same(old, rec.Line) {
		d.result.Skipped++
		return nil
	}

	charge, left, linked, shared, err := j.linkCredit(ctx, d, c, key, rec.Barcode)
	if err != nil {
		return err
	}
	if shared > 1 {
		r.Reason = fmt.Sprintf("unlinked credit: transaction %s was sent as %d charges of different fee types and the credit (type %s) does not say which it reverses",
			c.TransactionID, shared, c.Type)
		return d.reject(ctx, r)
	}
	if !linked {
		r.Reason = fmt.Sprintf("unlinked credit: no charge sent for transaction %s, nor for this student's item %q of type %s",
			key, rec.Barcode, c.Type)
		return d.reject(ctx, r)
	}
	r.Ref, r.FeeID, r.Barcode = charge.Key, charge.FeeID, charge.Barcode
	if r.FeeType == "" || r.FeeType == fees.TypeCredit {
		r.FeeType = charge.FeeType
	}
	c.TransactionID, c.FeeID, c.Type = chargeTxID(charge), charge.FeeID, r.FeeType
	if err := fees.CheckCredit(fees.Credit{FeeID: charge.FeeID, Amount: c.Amount}, left); err != nil {
		return d.reject(ctx, refused(r, err))
	}
	line, err := j.deps.Charges.MapCredit(c, d.asOf)
	if err != nil {
		return d.reject(ctx, refused(r, err))
	}
	r.Outcome = OutcomeCredited
	r.Payload = ""
	ok, err := d.claimKey(ctx, r)
	if err != nil || !ok {
		return err
	}
	return d.writeLine(ctx, w, r, line, rec)
}

// linkCredit finds the charge a credit reverses: by charge key
// (transaction id and fee type; the id alone when one charge was sent for
// it), else by student, item and fee type. shared is the number of charges
// sent for the credit's transaction id when it names no fee type and
// there are several: then nothing is linked.
func (j *Jobs) linkCredit(ctx context.Context, d *decision, c fees.Credit, key, barcode string) (charge Record, left fees.Money, linked bool, shared int, err error) {
	if c.TransactionID != "" {
		charge, left, ok, ambiguous, err := findCharge(ctx, d.tx, c.TransactionID, c.Type, KindCredit, key)
		if err != nil || ok || ambiguous > 0 {
			return charge, left, ok, ambiguous, err
		}
	}
	if c.UserID == "" {
		return Record{}, fees.Money{}, false, 0, nil
	}
	typ := string(c.Type)
	if c.Type == fees.TypeCredit {
		typ = ""
	}
	rows, err := queryRecords(ctx, d.tx, `WHERE r.kind = 'charge' AND r.outcome = 'charged' AND r.user_id = ?
		AND ((? != '' AND r.fee_id = ?) OR (? != '' AND r.barcode = ? AND (? = '' OR r.fee_type = ?)))
		ORDER BY r.created_at, r.key`, c.UserID, c.FeeID, c.FeeID, barcode, barcode, typ, typ)
	if err != nil {
		return Record{}, fees.Money{}, false, 0, err
	}
	for _, cand := range rows {
		charge, left, ok, err := outstanding(ctx, d.tx, cand.Key, KindCredit, key)
		if err != nil {
			return Record{}, fees.Money{}, false, 0, err
		}
		if ok && left.IsPositive() {
			return charge, left, true, 0, nil
		}
	}
	return Record{}, fees.Money{}, false, 0, nil
}

// refused returns r held for err, a refusal: its reason and, when a rule
// of fees refused it, the rule's code. A refused partial waiver of a
// transferred fee says which rule (R5) asks for the two steps.
func refused(r Record, err error) Record {
	r.Reason, r.Code = err.Error(), fees.ErrorCode(err)
	if r.Code == fees.EPARTIALWAIVE {
		r.Reason = "rule R5: " + r.Reason
	}
	return r
}

// payload keeps a record as JSON so that it can be re-driven.
func payload(rec ExportRecord) string {
	b, err := json.Marshal(struct {
		UserID     string       `json:"user_id,omitempty"`
		PatronName string       `json:"patron_name,omitempty"`
		Barcode    string       `json:"barcode,omitempty"`
		Fee        *fees.Fee    `json:"fee,omitempty"`
		Credit     *fees.Credit `json:"credit,omitempty"`
	}{rec.UserID, rec.PatronName, rec.Barcode, rec.Fee, rec.Credit})
	if err != nil {
		return ""
	}
	return string(b)
}
