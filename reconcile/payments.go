package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/feebridge/feebridge/fees"
)

// Payments runs the payments job (F3): it claims each payment file in the
// bursar drop's outbound folder, drops the payments already forwarded (by
// receipt and reference), checks each one against what was charged (a
// known reference, no more than the bursar still holds, eServices only in
// full: R4), writes one import file for Alma to the library drop's imports
// folder, and journals every decision.
//
// A refused payment is held in the journal with the reason and listed in
// the result and the report: the money is never silently lost.
func (j *Jobs) Payments(ctx context.Context) (RunResult, error) {
	if j.deps.Payments == nil || j.deps.Import == nil {
		return RunResult{}, errors.New("reconcile: the payment and import formats are not configured")
	}
	return j.runFiles(ctx, fileJob{
		job: "payments", in: j.deps.Bursar, inDir: j.opts.Folders.Payments,
		out: j.deps.Library, outDir: j.opts.Folders.Imports,
		outName: j.deps.Import.FileName,
		decide:  j.decidePayments,
	})
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

func (j *Jobs) decidePayments(ctx context.Context, d *decision) error {
	return j.decidePaymentsFrom(ctx, d, j.deps.Payments.NewPaymentReader(d.src))
}

func (j *Jobs) decidePaymentsFrom(ctx context.Context, d *decision, rd PaymentReader) error {
	w := j.deps.Import.NewImportWriter(d.out, d.asOf)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &fileError{fmt.Errorf("%s: %w", d.file.Name, err)}
		}
		p := rec.Payment
		key := PaymentKey(p)
		if key == "/" {
			key = d.file.SHA256[:16] + ":" + strconv.Itoa(rec.Line)
		}
		r := Record{Kind: KindPayment, Key: key, UserID: p.UserID, Ref: p.TransactionID, Amount: p.Amount,
			Line: rec.Line}
		if p.Channel != 0 {
			r.Channel = p.Channel.String()
		}
		r.FeeType = rec.FeeType
		if b, err := json.Marshal(heldPayment{p, rec.FeeType}); err == nil {
			r.Payload = string(b)
		}
		if rec.Err != nil {
			// Held under a key of its own, as unreadable export records are.
			r.Key = d.file.SHA256[:16] + ":" + strconv.Itoa(rec.Line)
			r.Reason, r.Payload = rec.Err.Error(), "" // it needs a corrected file, not a re-drive
			if err := d.reject(ctx, r); err != nil {
				return err
			}
			continue
		}
		// A payment forwarded through another file is a duplicate: skip
		// it before judging it against a balance it already lowered.
		if old, ok, err := getRecord(ctx, d.tx, KindPayment, key); err != nil {
			return err
		} else if ok && old.Outcome == OutcomeForwarded && !d.same(old, rec.Line) {
			d.result.Skipped++
			continue
		} else if !ok && p.Receipt != "" && key != p.Receipt+"/"+p.TransactionID {
			// A journal from before charge keys has the payment under
			// receipt and reference alone.
			if old, ok, err := getRecord(ctx, d.tx, KindPayment, p.Receipt+"/"+p.TransactionID); err != nil {
				return err
			} else if ok && old.Outcome == OutcomeForwarded {
				d.result.Skipped++
				continue
			}
		}
		charge, reason, err := checkPayment(ctx, d, p, rec.FeeType, key)
		if err != nil {
			return err
		}
		if reason != "" {
			r.Reason = reason
			if err := d.reject(ctx, r); err != nil {
				return err
			}
			continue
		}
		r.Ref, r.FeeID, r.FeeType, r.Barcode = charge.Key, charge.FeeID, charge.FeeType, charge.Barcode
		if r.UserID == "" {
			r.UserID = charge.UserID
		}
		if p.UserID == "" {
			p.UserID = charge.UserID
		}
		p.FeeID = charge.FeeID
		r.Outcome = OutcomeForwarded
		r.Payload = ""
		ok, err := d.claimKey(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		c := Charge{TransactionID: chargeTxID(charge), FeeID: charge.FeeID, UserID: charge.UserID, Type: charge.FeeType,
			Barcode: charge.Barcode, Amount: charge.Amount}
		if err := w.Write(p, c); errors.Is(err, ErrReject) {
			r.Reason = err.Error()
			if b, err := json.Marshal(heldPayment{rec.Payment, rec.FeeType}); err == nil {
				r.Payload = string(b)
			}
			if err := d.reject(ctx, r); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return fmt.Errorf("reconcile: write import file for %s: %w", d.file.Name, err)
		}
		d.written(p.Amount)
	}
	if err := d.flush(ctx); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("reconcile: write import file for %s: %w", d.file.Name, err)
	}
	return nil
}

// checkPayment applies R4 against the journal's view of the charge and
// returns the reason to hold the payment, or "".
func checkPayment(ctx context.Context, d *decision, p fees.Payment, typ fees.Type, key string) (Record, string, error) {
	if err := p.Validate(); err != nil {
		return Record{}, err.Error(), nil
	}
	if p.TransactionID == "" {
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s has no reference", key).Error(), nil
	}
	charge, left, ok, shared, err := findCharge(ctx, d.tx, p.TransactionID, typ, KindPayment, key)
	if err != nil {
		return Record{}, "", err
	}
	if shared > 0 {
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s: reference %s was sent as %d charges of different fee types and the payment does not say which it pays",
			key, p.TransactionID, shared).Error(), nil
	}
	if !ok {
		what := "reference " + p.TransactionID
		if typ != "" {
			what += " with fee type " + string(typ)
		}
		return Record{}, fees.Errorf(fees.ENOTFOUND, "payment %s: %s is not a charge that was sent",
			key, what).Error(), nil
	}
	if p.UserID != "" && charge.UserID != "" && p.UserID != charge.UserID {
		return charge, fees.Errorf(fees.EINVALID, "payment %s: reference %s belongs to another student",
			key, p.TransactionID).Error(), nil
	}
	cmp, err := p.Amount.Cmp(left)
	switch {
	case err != nil:
		return charge, err.Error(), nil
	case !left.IsPositive():
		return charge, fees.Errorf(fees.ECLOSED, "fee %s: payment %s of %s on a charge with nothing left to pay",
			charge.FeeID, key, p.Amount).Error(), nil
	case cmp > 0:
		return charge, fees.Errorf(fees.EOVERPAY, "fee %s: payment %s of %s is above the remaining %s",
			charge.FeeID, key, p.Amount, left).Error(), nil
	case cmp < 0 && p.Channel == fees.ChannelEServices:
		return charge, fees.Errorf(fees.EPARTIALESERVICES, "fee %s: eServices payment %s of %s does not pay the whole %s",
			charge.FeeID, key, p.Amount, left).Error(), nil
	}
	return charge, "", nil
}
