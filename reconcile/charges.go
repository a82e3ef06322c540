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
	if err := j.missing[JobCharges]; err != nil {
		return RunResult{}, err
	}
	return j.run.files(ctx, j.exportJob(JobCharges, j.opts.Folders.Exports, j.opts.ChargePrefix))
}

// exportJob is the file job that reads Alma's exports in the library
// drop's folder dir and writes charge files named prefix… to the bursar:
// the charges and the credits jobs.
func (j *Jobs) exportJob(job, dir, prefix string) fileJob {
	return fileJob{
		job: job, in: j.deps.Library, inDir: dir, claim: j.opts.LibraryClaim,
		out: j.deps.Bursar, outDir: j.opts.Folders.Charges, takenDir: j.opts.Folders.ChargesTaken,
		outName: func(sha string) string { return prefix + sha[:16] + j.opts.ChargeExt },
		decide:  j.decideExport,
		counts: func(ctx context.Context, name string) (*countCheck, error) {
			return j.expectCounts(ctx, job, name)
		},
		recordCounts: j.recordCounts,
	}
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
	w := j.chargeWriter(d)
	for it := range each(items) {
		rec, err := it.item.rec, it.err
		if err == io.EOF {
			break
		}
		if err != nil {
			return &fileError{fmt.Errorf("%s: %w", d.file.Name, err)}
		}
		if d.counts != nil {
			d.counts.saw(rec.UserID)
		}
		switch {
		case rec.Err != nil:
			// An unreadable record is held under a key of its own (file and
			// line), so that it can never pass for the record whose
			// transaction id it may share; that id is kept in ref.
			err = d.reject(ctx, Record{Kind: KindCharge, Key: d.lineKey(rec.Line, rec.Index),
				Ref: rec.Key, UserID: rec.UserID, Line: rec.Line, Reason: rec.Err.Error(), Code: fees.ErrorCode(rec.Err)})
		case rec.Fee != nil:
			err = j.decideCharge(ctx, d, rec, it.item.mapped, w)
		case rec.Credit != nil:
			err = j.decideCredit(ctx, d, rec, w)
		default:
			err = d.reject(ctx, Record{Kind: KindCharge, Key: d.lineKey(rec.Line, rec.Index),
				UserID: rec.UserID, Line: rec.Line, Reason: "record holds neither a fee nor a credit"})
		}
		if err != nil {
			return err
		}
	}
	if d.counts != nil {
		// Checked once the whole file is read, before anything of it is
		// journaled for good: a file cut or padded is not applied.
		if err := d.counts.mismatch(); err != nil {
			return &fileError{err}
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
		r.Key = d.lineKey(rec.Line, rec.Index)
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
	r.Outcome, r.College, r.Owner, r.Output = OutcomeCharged, line.College, f.Owner, j.outputOf(d, line)
	// Charges are the bulk: they are journaled in batches, and each line
	// written once its key is known to be new (or this file's own).
	return d.enqueue(ctx, r, func() error { return d.writeLine(ctx, w, r, line, rec) })
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
