package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// A record whose key already went through (a charge charged, a credit
// credited, a payment forwarded) from another file or line is skipped as
// a duplicate only when it is the same record. One that differs is a
// conflict: it is held, with fees.ECONFLICT, under a key of its own,
//
//	the record's key + "#conflict:" + the new file's place (sha16:line),
//
// so that it never overwrites the journal's row of the record that went
// through, and two conflicts of one key from different files or lines
// never share a row. A conflict is not re-driven (it carries no payload):
// a person decides which record is right and dismisses the conflict.

// conflictSuffix separates a record's key from the place of a conflicting
// record in the key the conflict is held under.
const conflictSuffix = "#conflict:"

// differences lists how r, a record read again under the key of old (the
// journal's record that went through), differs from it: its amount, date,
// student and, for a charge, fee. A field that either side leaves empty (a
// journal row written before the journal kept it, a file that does not
// carry it) is not compared. Students are masked (fees.MaskID).
func differences(old, r Record) []string {
	var diffs []string
	if old.Amount.Valid() && r.Amount.Valid() && !old.Amount.Equal(r.Amount) {
		diffs = append(diffs, fmt.Sprintf("amount %s, was %s", r.Amount, old.Amount))
	}
	if !old.Date.IsZero() && !r.Date.IsZero() && !sameDay(old, r) {
		diffs = append(diffs, fmt.Sprintf("date %s, was %s", r.Date.Format("2006-01-02"), old.Date.Format("2006-01-02")))
	}
	if old.UserID != "" && r.UserID != "" && old.UserID != r.UserID {
		diffs = append(diffs, fmt.Sprintf("student %s, was %s", fees.MaskID(r.UserID), fees.MaskID(old.UserID)))
	}
	if r.Kind == KindCharge && old.FeeID != "" && r.FeeID != "" && old.FeeID != r.FeeID {
		diffs = append(diffs, fmt.Sprintf("fee %s, was %s", r.FeeID, old.FeeID))
	}
	return diffs
}

// sameDay reports whether a and b are dated the same day, as written.
func sameDay(a, b Record) bool {
	return a.Date.Format("2006-01-02") == b.Date.Format("2006-01-02")
}

// repeat handles r, a record whose key went through as old from another
// file or line: skipped when it is the same record, held as a conflict
// when it differs.
func (d *decision) repeat(ctx context.Context, old, r Record) error {
	diffs := differences(old, r)
	if len(diffs) == 0 {
		d.result.Skipped++
		return nil
	}
	return d.conflict(ctx, old, r, diffs)
}

// conflict holds r, which differs from old (the record that went through
// under its key) by diffs, as a conflict naming both files and lines.
func (d *decision) conflict(ctx context.Context, old, r Record, diffs []string) error {
	earlier := "an earlier file"
	switch {
	case old.FileID == d.file.ID:
		earlier = d.file.Name
	case old.File != "":
		earlier = old.File
	}
	c := r
	c.Key = r.Key + conflictSuffix + d.lineKey(r.Line, 0)
	c.Outcome, c.Output, c.Payload, c.ForKey = OutcomeRejected, "", "", ""
	c.Code = fees.ECONFLICT
	c.Reason = fmt.Sprintf("%s %s at %s line %d conflicts with the one %s from %s line %d: %s; not sent: decide which is right, then dismiss this",
		r.Kind, r.Key, d.file.Name, r.Line, old.Outcome, earlier, old.Line, strings.Join(diffs, "; "))
	return d.reject(ctx, c)
}

// wentThrough reports whether old is a record that went through.
func wentThrough(old Record) bool {
	return old.Outcome == OutcomeCharged || old.Outcome == OutcomeCredited || old.Outcome == OutcomeForwarded ||
		old.Outcome == OutcomeRefunded
}
