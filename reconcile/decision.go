package reconcile

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// decision is the state of deciding one file: the journal's view of it,
// the input, the output, and the result so far.
type decision struct {
	view   journal.View
	file   FileRecord
	src    io.Reader
	out    io.Writer
	outs   *outputs // out is its part ""; a job that splits its output writes to the others
	output string   // the output's name, deterministic from the input's content
	asOf   time.Time
	result RunResult

	// counts, when set, counts the records and users of the file for
	// the check against its job end (decideExport).
	counts *countCheck

	queue    []queued // charges decided but not yet journaled, in order
	recs     []Record // the records of queue, handed to the journal
	flushing bool
}

// queued is a charge waiting for its batch insert, and what to do once it
// is known to belong in this file.
type queued struct {
	r     Record
	write func() error
}

// enqueue journals r, a charge decided into this file's output, in the
// current batch; write runs, in order, once r is known to belong there.
// Charges are the bulk of the journal: they name their output through
// their file's row alone (the journal reads it from there), unless the
// file has one per college (Jobs.outputOf).
func (d *decision) enqueue(ctx context.Context, r Record, write func() error) error {
	r.FileID = d.file.ID
	d.queue = append(d.queue, queued{r, write})
	if len(d.queue) >= journal.InsertRows {
		return d.flush(ctx)
	}
	return nil
}

// flush journals the queued charges in one statement and runs the writes
// of those that are new; the others are claimed one by one.
func (d *decision) flush(ctx context.Context) error {
	if len(d.queue) == 0 {
		return nil
	}
	d.flushing = true
	defer func() { d.flushing = false; d.queue = d.queue[:0] }()
	d.recs = d.recs[:0]
	for _, q := range d.queue {
		d.recs = append(d.recs, q.r)
	}
	inserted, err := d.view.Insert(ctx, d.recs)
	if err != nil {
		return err
	}
	for i, q := range d.queue {
		if !inserted[i] {
			if ok, err := d.claim(ctx, q.r); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
		}
		if err := q.write(); err != nil {
			return err
		}
	}
	return nil
}

// claim records r, decided into this file's output, unless its key was
// decided into another file or line: then claim returns false, and r
// counts as skipped when it is the same record as the one that went
// through, or is held as a conflict when it differs (see repeat).
func (d *decision) claim(ctx context.Context, r Record) (bool, error) {
	r.FileID = d.file.ID
	if r.Kind != KindCharge && r.Output == "" {
		r.Output = d.output
	}
	ok, err := d.view.Claim(ctx, r)
	if err != nil || ok {
		return ok, err
	}
	old, found, err := d.view.Record(ctx, r.Kind, r.Key)
	if err != nil {
		return false, err
	}
	if found && wentThrough(old) {
		// Skipped when it is the same record, else held as a conflict.
		return false, d.repeat(ctx, old, r)
	}
	d.result.Skipped++
	return false, nil
}

// reject holds r with its reason and adds it to the result, unless its
// key was handled through another file or line: a duplicate, skipped.
func (d *decision) reject(ctx context.Context, r Record) error {
	if !d.flushing {
		if err := d.flush(ctx); err != nil {
			return err
		}
	}
	ok, err := d.view.Hold(ctx, r)
	if err != nil {
		return err
	}
	if !ok {
		d.result.Skipped++
		return nil
	}
	d.result.Rejected = append(d.result.Rejected, Rejection{File: d.file.Name, Line: r.Line, Kind: r.Kind,
		Key: r.Key, Reason: r.Reason, Code: r.Code})
	return nil
}

// same reports whether old is the journal's record of the record at line
// of this file, decided before a crash.
func (d *decision) same(old Record, line int) bool {
	return old.FileID == d.file.ID && old.Line == line
}

// lineKey is the key of a record held for its place in the file alone:
// an unreadable record, one without a key of its own, or one that repeats
// an earlier line.
//
// A record that shares its line with the record before it (Index > 0) adds
// its place in the file, "#index", so that two records on one line never
// share a key. Every other record keeps the plain file:line key that the
// previous version wrote, so a file re-run after the upgrade finds its
// held records under the keys they already have.
func (d *decision) lineKey(line, index int) string {
	k := d.file.SHA256[:16] + ":" + strconv.Itoa(line)
	if index > 0 {
		k += "#" + strconv.Itoa(index)
	}
	return k
}

// written counts a line written to the output.
func (d *decision) written(amount fees.Money) {
	d.result.Records++
	d.result.Total = addMoney(d.result.Total, amount)
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

// fileError marks a file that cannot be read at all.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
