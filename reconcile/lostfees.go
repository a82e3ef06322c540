package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Alma's fee list takes one status a call (ACTIVE, EXPORTED, INDISPUTE or
// CLOSED), and a returned item's lost-item fees may be in any open one:
// Active before the evening's bursar export, Exported (Transferred) after
// it, In dispute when staff disputed one. Listing all three costs three
// calls a return, most of them answering nothing. The journal knows which
// of the student's fees an export file carried (Alma marked them exported
// as it wrote the file), so the lost-returns handler predicts the one
// status to list and lists another only when the answer does not account
// for what the journal expects (see listLost).

// lostExpect is what the journal expects of a student's lost-item fees
// when one item comes back.
type lostExpect struct {
	// sent tells that an export file carried a lost-item fee of the item:
	// its fees are exported in Alma, unless settled since.
	sent bool
	// open are the charge keys of the item's lost-item fees that an
	// export file carried and that should still be open in Alma: the bursar still
	// holds something of them and feebridge did not waive them.
	open []string
	// otherOwed tells that the bursar still holds a lost-item fee of
	// another item that feebridge did not waive: the student still owes
	// for a lost item, whether or not the lists read show it.
	otherOwed bool
}

// expectLost reads from the journal what it expects of the lost-item fees
// of the student user when the item barcode comes back (no call to Alma).
func (j *Jobs) expectLost(ctx context.Context, user, barcode string) (lostExpect, error) {
	var e lostExpect
	sent, err := j.deps.Journal.SentFees(ctx, user)
	if err != nil {
		return e, err
	}
	for _, s := range sent {
		c := s.Charge
		if !slices.Contains(j.opts.LostTypes, c.FeeType) {
			continue
		}
		expected := !s.Waived && s.Left.IsPositive()
		switch {
		case c.Barcode != barcode:
			e.otherOwed = e.otherOwed || expected
		case expected:
			e.sent = true
			e.open = append(e.open, c.Key)
		default:
			e.sent = true
		}
	}
	return e, nil
}

// listLost returns the student's open fees that the lost-returns handler
// needs to see when the item barcode comes back, at the fewest list calls,
// and whether the journal knows of a lost-item fee of another item still
// owed. The fees of the statuses not listed are not asked for, so a fee
// of another item may be missing from the answer (see otherOwed).
//
//   - The first status listed is the one the journal expects the item's
//     lost-item fees in: EXPORTED when an export file carried one of them,
//     ACTIVE when none ever was. That is the only call in the common cases
//     (returned before the evening export, or after it).
//   - The other of the two is listed when the answer does not account for
//     what the journal expects: after EXPORTED, when a fee the journal
//     expects open is missing (it may be active again or disputed) or when
//     a lost-item type was never exported (the export profile leaves it
//     active, beside an exported sibling); after ACTIVE, when the item has
//     no lost-item fee there, or none of a lost-item type the export
//     profile takes (an export file not yet read may have carried it).
//   - INDISPUTE is listed only when a fee the journal expects open is in
//     neither list, or, for an item never exported, when it still has no
//     fee of a lost-item type the export profile takes: the missing fee
//     may be disputed, and the dispute is recorded for staff. A fee
//     disputed before any export while its type was never exported is not
//     asked for: the daily report's returned-lost-items check lists it
//     (every open lost-item fee whose item is back, disputed ones too).
func (j *Jobs) listLost(ctx context.Context, user, barcode string) ([]fees.Fee, bool, error) {
	exp, err := j.expectLost(ctx, user, barcode)
	if err != nil {
		return nil, false, err
	}
	first, other := fees.StatusActive, fees.StatusTransferred
	if exp.sent {
		first, other = other, first
	}
	open, err := j.deps.Alma.ListFees(ctx, user, first)
	if err != nil {
		return nil, false, err
	}
	more := missing(exp.open, open)
	switch {
	case more:
	case exp.sent: // a type never exported stays active beside its sibling
		more, err = j.typeUnexported(ctx)
	default: // never exported: the fees may be in a file not read yet
		more = !slices.ContainsFunc(open, j.lostOf(barcode))
		if !more {
			more, err = j.lacksExportedType(ctx, barcode, open)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if more {
		if open, err = j.listMore(ctx, user, open, other); err != nil {
			return nil, false, err
		}
	}
	disputed := missing(exp.open, open)
	if !disputed && !exp.sent {
		if disputed, err = j.lacksExportedType(ctx, barcode, open); err != nil {
			return nil, false, err
		}
	}
	if disputed {
		if open, err = j.listMore(ctx, user, open, fees.StatusInDispute); err != nil {
			return nil, false, err
		}
	}
	return open, exp.otherOwed, nil
}

// lostOf returns a test of a fee: a lost-item fee of the item barcode.
func (j *Jobs) lostOf(barcode string) func(fees.Fee) bool {
	return func(f fees.Fee) bool { return f.Item.Barcode == barcode && slices.Contains(j.opts.LostTypes, f.Type) }
}

// typeUnexported reports whether a lost-item type was never carried by an
// export file (as the journal has seen them): the export profile leaves
// fees of that type active.
func (j *Jobs) typeUnexported(ctx context.Context) (bool, error) {
	for _, t := range j.opts.LostTypes {
		if ok, err := j.lostCover.exported(ctx, j.deps.Journal, t, j.opts.Now()); err != nil || !ok {
			return err == nil, err
		}
	}
	return false, nil
}

// lacksExportedType reports whether list has no fee of the item barcode of
// a lost-item type that export files carry: Alma creates the item's
// lost-item fees together when it is declared lost, so the missing one may
// be in another status.
func (j *Jobs) lacksExportedType(ctx context.Context, barcode string, list []fees.Fee) (bool, error) {
	for _, t := range j.opts.LostTypes {
		ok, err := j.lostCover.exported(ctx, j.deps.Journal, t, j.opts.Now())
		if err != nil {
			return false, err
		}
		if ok && !slices.ContainsFunc(list, func(f fees.Fee) bool { return f.Item.Barcode == barcode && f.Type == t }) {
			return true, nil
		}
	}
	return false, nil
}

// listMore adds to open the student's fees of status s, each fee once.
func (j *Jobs) listMore(ctx context.Context, user string, open []fees.Fee, s fees.Status) ([]fees.Fee, error) {
	more, err := j.deps.Alma.ListFees(ctx, user, s)
	if err != nil {
		return nil, err
	}
	for _, f := range more {
		if !slices.ContainsFunc(open, func(g fees.Fee) bool { return g.ID == f.ID }) {
			open = append(open, f)
		}
	}
	return open, nil
}

// missing reports whether one of the charge keys is not in list.
func missing(keys []string, list []fees.Fee) bool {
	for _, k := range keys {
		if !slices.ContainsFunc(list, func(f fees.Fee) bool { return f.TransactionID != "" && f.ChargeKey() == k }) {
			return true
		}
	}
	return false
}

// lostCoverage remembers which fee types an export file has carried:
// once seen, always (the export profile takes the type); a type not seen
// is asked of the journal again after coverageTTL.
type lostCoverage struct {
	mu   sync.Mutex
	seen map[fees.Type]bool
	at   map[fees.Type]time.Time // when a type was last found unseen
}

// coverageTTL is how long a type found never exported is taken as such.
const coverageTTL = time.Hour

// exported reports whether an export file ever carried a fee of type t.
func (c *lostCoverage) exported(ctx context.Context, st Store, t fees.Type, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[t] {
		return true, nil
	}
	if at, ok := c.at[t]; ok && now.Sub(at) < coverageTTL && !now.Before(at) {
		return false, nil
	}
	found, err := st.ChargedType(ctx, t)
	if err != nil {
		return false, fmt.Errorf("exported fee types: %w", err)
	}
	if c.seen == nil {
		c.seen, c.at = map[fees.Type]bool{}, map[fees.Type]time.Time{}
	}
	if found {
		c.seen[t] = true
	} else {
		c.at[t] = now
	}
	return found, nil
}
