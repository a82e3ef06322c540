package reconcile

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/feebridge/feebridge/fees"
)

// Results runs the results job: it claims each results file in the
// bursar drop's results folder (PeopleSoft's verdict on each line of a
// charge file it loaded), exactly once like every inbound file, and
// matches each line to the charge or credit feebridge sent, by reference
// and fee type (the bursar's item type mapped back).
//
// A line the load posted confirms the send and changes nothing. A line
// it refused (an unknown student, an item type not set up, a term not
// open, a reversal of a charge it does not hold) holds the charge or
// credit again, with the load's message and the code
// [CodeBursarRefused]: the report lists it as "sent, refused by
// PeopleSoft", apart from the records held before they were ever sent;
// it no longer counts as held by the bursar in the reconciliation (a
// refused credit leaves its charge held whole); and [Jobs.Redrive] sends
// it again, as a new line, once the cause is fixed. A line that cannot
// be read, or that names nothing feebridge sent, is held under its place
// in the file for staff to look at.
//
// The job writes no file: its outcome is in the journal, the result and
// the report.
func (j *Jobs) Results(ctx context.Context) (RunResult, error) {
	if err := j.missing[JobResults]; err != nil {
		return RunResult{}, err
	}
	return j.run.files(ctx, fileJob{
		job: JobResults, in: j.deps.Bursar, inDir: j.opts.Folders.Results, claim: j.opts.BursarClaim,
		outName: func(string) string { return "" },
		decide:  j.decideResults,
	})
}

func (j *Jobs) decideResults(ctx context.Context, d *decision) error {
	rd := j.deps.Results.NewResultReader(d.src)
	for {
		res, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &fileError{fmt.Errorf("%s: %w", d.file.Name, err)}
		}
		if err := decideResult(ctx, d, res); err != nil {
			return err
		}
	}
}

// decideResult matches one line of the load's results to the record
// sent, and holds that record again when the load refused it.
func decideResult(ctx context.Context, d *decision, res LoadResult) error {
	kind := KindCharge
	switch {
	case res.Refund:
		kind = KindRefund
	case res.Credit:
		kind = KindCredit
	}
	line := Record{Kind: KindResult, Key: d.lineKey(res.Line, 0), Ref: res.Ref, FeeType: res.FeeType, Line: res.Line}
	if res.Err != nil {
		return d.reject(ctx, refused(line, res.Err))
	}
	sent, found, err := sentRecord(ctx, d, kind, res)
	if err != nil {
		return err
	}
	if !found {
		line.Reason = fmt.Sprintf("the load's result names %s %s", kind, res.Ref)
		if res.FeeType != "" {
			line.Reason += " of fee type " + string(res.FeeType)
		}
		line.Reason += ", which feebridge did not send as one line"
		if res.Refused {
			line.Reason += "; the load refused it: " + message(res)
		}
		return d.reject(ctx, line)
	}
	switch {
	case !res.Refused:
		d.result.Confirmed++
		return nil
	case sent.Outcome != OutcomeCharged && sent.Outcome != OutcomeCredited && sent.Outcome != OutcomeRefunded:
		// Refused already (the same line in another results file), or
		// held or closed since: nothing is sent to refuse.
		d.result.Skipped++
		return nil
	}
	r := sent
	r.Reason = fmt.Sprintf("sent in %s, refused by PeopleSoft: %s", path.Base(sent.Output), message(res))
	r.Code, r.Line, r.Output = CodeBursarRefused, res.Line, sent.Output
	r.Payload = sentPayload(sent)
	if err := d.view.Refuse(ctx, r); err != nil {
		return err
	}
	d.result.Rejected = append(d.result.Rejected, Rejection{File: d.file.Name, Line: res.Line, Kind: kind,
		Key: r.Key, Reason: r.Reason, Code: r.Code})
	return nil
}

// message is the load's message of a refused line, or a word saying it
// gave none.
func message(res LoadResult) string {
	if res.Message == "" {
		return "(no message)"
	}
	return res.Message
}

// sentRecord finds the journal's record of the line res is about: the
// charge (or the credit of the charge) under the charge key of its
// reference and fee type; by reference alone when the fee type is not
// known and one charge was sent for it.
func sentRecord(ctx context.Context, d *decision, kind string, res LoadResult) (Record, bool, error) {
	if res.Ref == "" {
		return Record{}, false, nil
	}
	key := fees.ChargeKey(res.Ref, res.FeeType)
	if res.FeeType == "" {
		charges, err := d.view.ChargesOf(ctx, res.Ref)
		if err != nil || len(charges) != 1 {
			return Record{}, false, err
		}
		key = charges[0].Key
	}
	return d.view.Whole(ctx, kind, key)
}

// sentPayload is what a re-drive sends again of the record r that the
// bursar refused: the fee it charged (its student, type, reference, the
// amount sent and the library that owns it, which routes it to the same
// college), or the credit or refund it passed on. The export's other
// details (the item's title) are not in the journal: the line sent again
// carries the fee type's description alone.
func sentPayload(r Record) string {
	rec := ExportRecord{UserID: r.UserID, Barcode: r.Barcode}
	switch r.Kind {
	case KindCharge:
		zero := fees.Zero(r.Amount.Currency())
		rec.Fee = &fees.Fee{ID: r.FeeID, TransactionID: chargeTxID(r), UserID: r.UserID, Type: r.FeeType,
			Status: fees.StatusTransferred, Original: r.Amount, Balance: r.Amount, Transferred: r.Amount,
			Paid: zero, Waived: zero, Item: fees.Item{Barcode: r.Barcode}, Owner: r.Owner}
	case KindCredit:
		charge := Record{Key: r.Ref, FeeType: r.FeeType}
		rec.Credit = &fees.Credit{Key: r.Key, TransactionID: chargeTxID(charge), FeeID: r.FeeID, UserID: r.UserID,
			Type: r.FeeType, Amount: r.Amount, Date: r.Date, Owner: r.Owner}
	case KindRefund:
		// As Alma's credit export carries it: a record of the refund type
		// of the fee refunded, under the fee's transaction id (refunds.go).
		charge := Record{Key: r.Key, FeeType: r.FeeType}
		rec.Credit = &fees.Credit{Key: chargeTxID(charge), TransactionID: chargeTxID(charge), FeeID: r.FeeID, UserID: r.UserID,
			Type: r.FeeType + "REFUND", Amount: r.Amount, Date: r.Date, Owner: r.Owner}
	}
	return payload(rec)
}
