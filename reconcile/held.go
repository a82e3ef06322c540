package reconcile

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// Held records have a life cycle. A record is held (outcome rejected) with
// a code and a reason: a fee that cannot be mapped, a payment for no known
// charge, an unreadable line, a conflict (see differences). It stays held,
// in every daily report, until one of these closes it:
//
//   - the same key goes through later (a re-drive, or a corrected record in
//     a new file): the journal's row becomes the record that went through;
//   - a corrected record goes through under the key a held line was partly
//     read as ([Record.ForKey]): the line is superseded;
//   - an operator dismisses it with a reason ([Jobs.Dismiss]).
//
// Each closing is kept in the journal's audit trail ([Jobs.Closures]): who
// (the operator, or feebridge for a superseded record), when, why, and
// what the record was held for. A record dismissed or superseded is not
// re-driven and leaves the report.

// Closure is an entry of the audit trail of held records; see
// [journal.Closure].
type Closure = journal.Closure

// ErrNotHeld is the error (wrapped) of [Jobs.Dismiss] for a key that no
// held record has.
var ErrNotHeld = journal.ErrNotHeld

// ListHeld returns the records held now, of kind ("" for any), newest
// first, each with its file and line, code and reason.
func (j *Jobs) ListHeld(ctx context.Context, kind string) ([]Record, error) {
	return j.deps.Journal.ListHeld(ctx, kind)
}

// Closures returns the audit trail of the held records of kind ("" for
// any) that were dismissed or superseded, newest first.
func (j *Jobs) Closures(ctx context.Context, kind string) ([]Closure, error) {
	return j.deps.Journal.Closures(ctx, kind)
}

// Dismiss closes the held record of kind ("" for any) and key, as by
// (who) for reason: it leaves the report and is not re-driven, and the
// dismissal is kept in the journal's audit trail. It fails, wrapping
// [ErrNotHeld], when no record is held under key; and when by or reason
// is empty. A dry run dismisses nothing and says so.
func (j *Jobs) Dismiss(ctx context.Context, kind, key, by, reason string) (Record, error) {
	if j.opts.DryRun {
		return Record{}, fmt.Errorf("reconcile: dismiss %s: not in a dry run", key)
	}
	return j.deps.Journal.Dismiss(ctx, kind, key, by, reason)
}
