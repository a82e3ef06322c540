package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Payments runs the payments job (F3): it claims each payment file in the
// bursar drop's outbound folder, drops the payments already forwarded (by
// receipt and reference), checks each one against what was charged (a
// known reference, no more than the bursar still holds, eServices only in
// full: R4), writes one import file for Alma to the library drop's imports
// folder, and journals every decision.
//
// A refused payment is held in the journal with the reason and listed in
// the result and the report: the money is never silently lost. So is a
// payment whose key repeats an earlier line of the same file, under a key
// of its own (the file and line), with the line it repeats.
//
// Payments are decided in batches over the journal's view of the file
// (journal.View): the journal is read for a whole batch in a few queries
// and written once per batch, within the file's one transaction, so the
// cost per payment stays flat as the journal grows.
func (j *Jobs) Payments(ctx context.Context) (RunResult, error) {
	if err := j.missing[JobPayments]; err != nil {
		return RunResult{}, err
	}
	return j.run.files(ctx, j.paymentsJob())
}

// paymentsJob is the file job of the payments job.
func (j *Jobs) paymentsJob() fileJob {
	return fileJob{
		job: JobPayments, in: j.deps.Bursar, inDir: j.opts.Folders.Payments, claim: j.opts.BursarClaim,
		out: j.deps.Library, outDir: j.opts.Folders.Imports, takenDir: j.opts.Folders.ImportsTaken,
		outName: j.deps.Import.FileName,
		decide:  j.decidePayments,
	}
}

// PaymentKey is the journal key of a bursar payment: p.Key when the
// adapter set it (PeopleSoft's is receipt, reference and item type), else
// its receipt and the reference (bursar transaction id) it pays.
func PaymentKey(p fees.Payment) string {
	if p.Key != "" {
		return p.Key
	}
	return p.Receipt + "/" + p.TransactionID
}

// paymentBatch is how many payments are decided together. A variable so
// that tests can show that the batch size changes no decision.
var paymentBatch = 256

func (j *Jobs) decidePayments(ctx context.Context, d *decision) error {
	return j.decidePaymentsFrom(ctx, d, j.deps.Payments.NewPaymentReader(d.src))
}

func (j *Jobs) decidePaymentsFrom(ctx context.Context, d *decision, rd PaymentReader) error {
	batches, stop := readAhead(paymentBatch, rd.Next)
	defer stop()
	w := j.deps.Import.NewImportWriter(d.out, d.asOf)
	for batch := range batches {
		if err := loadPayments(ctx, d, batch); err != nil {
			return err
		}
		for _, it := range batch {
			if it.err == io.EOF {
				break
			}
			if it.err != nil {
				return &fileError{fmt.Errorf("%s: %w", d.file.Name, it.err)}
			}
			if err := decidePayment(ctx, d, it.item, w); err != nil {
				return err
			}
		}
		if err := d.view.Flush(ctx); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("reconcile: write import file for %s: %w", d.file.Name, err)
	}
	return nil
}

// loadPayments reads into the view what deciding batch needs: the
// payment records under its keys, and the charges it pays.
func loadPayments(ctx context.Context, d *decision, batch []ahead[PaymentRecord]) error {
	var keys []string
	var charges []journal.ChargeRef
	for _, it := range batch {
		if it.err != nil {
			continue
		}
		key, legacy := d.paymentKeys(it.item)
		keys = append(keys, key)
		if legacy != "" {
			keys = append(keys, legacy)
		}
		if p := it.item.Payment; it.item.Err == nil && p.TransactionID != "" {
			charges = append(charges, journal.ChargeRef{TxID: p.TransactionID, Type: it.item.FeeType})
		}
	}
	return d.view.Load(ctx, KindPayment, keys, charges)
}

// paymentKeys returns the journal key of the payment rec and, for a
// journal from before charge keys, the key the same payment was forwarded
// under then (receipt and reference alone), or "".
func (d *decision) paymentKeys(rec PaymentRecord) (key, legacy string) {
	p := rec.Payment
	key = PaymentKey(p)
	if key == "/" || rec.Err != nil {
		return d.lineKey(rec.Line, 0), ""
	}
	if p.Receipt != "" && key != p.Receipt+"/"+p.TransactionID {
		legacy = p.Receipt + "/" + p.TransactionID
	}
	return key, legacy
}

// decidePayment decides one payment: forwarded into the import file, held
// with a reason, or skipped as already forwarded.
func decidePayment(ctx context.Context, d *decision, rec PaymentRecord, w ImportWriter) error {
	p := rec.Payment
	key, legacy := d.paymentKeys(rec)
	r := Record{Kind: KindPayment, Key: key, UserID: p.UserID, Ref: p.TransactionID, Amount: p.Amount,
		Line: rec.Line, FeeType: rec.FeeType, Date: p.Date}
	if p.Channel != 0 {
		r.Channel = p.Channel.String()
	}
	if rec.Err != nil {
		// Held under a key of its own, as unreadable export records are;
		// it needs a corrected file, not a re-drive. When its payment key
		// could be read (receipt and reference), the held line remembers
		// it: the corrected payment, forwarded from a later file,
		// supersedes it.
		if p.Receipt != "" && p.TransactionID != "" {
			r.ForKey = PaymentKey(p)
		}
		return d.reject(ctx, refused(r, rec.Err))
	}
	if done, err := repeated(ctx, d, &r, key, legacy); done || err != nil {
		return err
	}
	held := func(refusal error) error {
		r = refused(r, refusal)
		if b, err := json.Marshal(heldPayment{rec.Payment, rec.FeeType}); err == nil {
			r.Payload = string(b)
		}
		return d.reject(ctx, r)
	}
	charge, refusal, err := checkPayment(ctx, d, p, rec.FeeType, key)
	if err != nil {
		return err
	}
	if refusal != nil {
		return held(refusal)
	}
	return forward(ctx, d, r, p, charge, w, held)
}

// repeated handles the payment r (key, and legacy: see paymentKeys) when
// the journal knows its key: a payment that repeats an earlier line of
// this file is held under its own line, one forwarded through another
// file is skipped when it is the same payment (amount, date, student)
// and held as a conflict when it is not. done reports that r was handled
// so.
func repeated(ctx context.Context, d *decision, r *Record, key, legacy string) (done bool, err error) {
	old, ok, err := d.view.Record(ctx, KindPayment, key)
	if err != nil {
		return true, err
	}
	switch {
	case ok && old.FileID == d.file.ID && old.Line != r.Line:
		// The same payment twice in one file: the first is decided, this
		// one is held for a person to look at, under its own line.
		r.Key = d.lineKey(r.Line, 0)
		r.Reason = fmt.Sprintf("payment %s repeats line %d of this file", key, old.Line)
		return true, d.reject(ctx, *r)
	case ok && old.Outcome == OutcomeForwarded && !d.same(old, r.Line):
		// Forwarded through another file: the same payment is a duplicate,
		// skipped before it is judged against a balance it already
		// lowered; another amount, date or student is a conflict, held.
		return true, d.repeat(ctx, old, *r)
	case !ok && legacy != "":
		if old, ok, err := d.view.Record(ctx, KindPayment, legacy); err != nil {
			return true, err
		} else if ok && old.Outcome == OutcomeForwarded {
			return true, d.repeat(ctx, old, *r)
		}
	}
	return false, nil
}

// forward claims the payment r for the charge it pays and writes it to
// the import file; a payment the writer refuses is held.
func forward(ctx context.Context, d *decision, r Record, p fees.Payment, charge Record, w ImportWriter, held func(error) error) error {
	r.Ref, r.FeeID, r.FeeType, r.Barcode = charge.Key, charge.FeeID, charge.FeeType, charge.Barcode
	if r.UserID == "" {
		r.UserID = charge.UserID
	}
	if p.UserID == "" {
		p.UserID = charge.UserID
	}
	p.FeeID = charge.FeeID
	r.Outcome = OutcomeForwarded
	if ok, err := d.claim(ctx, r); err != nil || !ok {
		return err
	}
	c := Charge{TransactionID: chargeTxID(charge), FeeID: charge.FeeID, UserID: charge.UserID, Type: charge.FeeType,
		Barcode: charge.Barcode, Amount: charge.Amount}
	if err := w.Write(p, c); errors.Is(err, ErrReject) {
		return held(err)
	} else if err != nil {
		return fmt.Errorf("reconcile: write import file for %s: %w", d.file.Name, err)
	}
	d.written(p.Amount)
	return nil
}

// checkPayment finds the charge p pays in the view and applies R4 to it
// (fees.CheckPaymentDate against the day the charge was sent and the
// job's clock, then fees.CheckPayment against what the bursar still holds
// of it). refusal
// is the reason to hold the payment, nil when it may be forwarded; err is
// a failure of the journal.
func checkPayment(ctx context.Context, d *decision, p fees.Payment, typ fees.Type, key string) (charge Record, refusal, err error) {
	if err := p.Validate(); err != nil {
		return Record{}, err, nil
	}
	if p.TransactionID == "" {
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s has no reference", key), nil
	}
	charge, left, ok, shared, err := d.view.Find(ctx, p.TransactionID, typ, Record{Kind: KindPayment, Key: key})
	if err != nil {
		return Record{}, nil, err
	}
	if shared > 0 {
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s: reference %s was sent as %d charges of different fee types and the payment does not say which it pays",
			key, p.TransactionID, shared), nil
	}
	if !ok {
		what := "reference " + p.TransactionID
		if typ != "" {
			what += " with fee type " + string(typ)
		}
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s: %s is not a charge that was sent", key, what), nil
	}
	if p.UserID != "" && charge.UserID != "" && p.UserID != charge.UserID {
		return charge, fees.Errorf(fees.EINVALID, "payment %s: reference %s belongs to another student",
			key, p.TransactionID), nil
	}
	p.Key, p.FeeID = key, charge.FeeID
	if err := fees.CheckPaymentDate(p, charge.Created, d.asOf); err != nil {
		return charge, err, nil
	}
	return charge, fees.CheckPayment(p, left), nil
}
