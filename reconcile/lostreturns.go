package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/feebridge/feebridge/fees"
)

// EventLoanReturned is the webhook event type of a loan return.
const EventLoanReturned = "LOAN_RETURNED"

// The lost-returns handler (F5, R7) runs for each journaled loan return
// (see events.go): it checks that the loan is really returned, waives the
// remaining balance of every open lost-item fee of that loan's item (by
// barcode) with the configured reason, and lifts the user's fee-related
// blocks, unless the student still owes for a lost item.
//
// A lost-item fee in dispute (INDISPUTE) is left for staff: the dispute is
// theirs to settle, and Alma takes no waiver of a fee in dispute. It
// counts as still owed, so the student keeps the lost-item block; the
// journal keeps it as a waiver record of outcome disputed, and while its
// item is back and it has a balance, the daily report lists it among the
// returned items still carrying fees, saying it is in dispute.
//
// It is idempotent by event id (an event handled once is not handled
// again), by the journal's record of each waiver, and by reading the
// user's open fees afresh (a fee already closed is left alone).

// loanReturned handles the return of ev's loan: it waives the lost-item
// fees of the loan's item and lifts the student's fee blocks, unless the
// student still owes for another lost item.
//
// Alma's calls are scarce (issue 17); a return makes these, each needed:
//
//  0. None at all for a loan that Alma's event shows was never lost
//     (process status NORMAL before the return): it has no lost-item fee
//     to waive and no lost-item block to lift, and most returns are of
//     such loans. An event that does not say (a redrive of an older one,
//     an event built by hand) is handled in full.
//  1. GetLoan, 1 call: the webhook says the item came back, but a
//     delivery may be late or replayed by a redrive; Alma's loan, as it
//     stands now, confirms the return and names the item's barcode and
//     the student.
//  2. ListFees, 1 call in the common cases: Alma's fee list takes one
//     status a call (ACTIVE, EXPORTED, INDISPUTE), so the journal picks
//     the one the item's lost-item fees should be in: EXPORTED when an
//     export file carried one of them (Alma marks the fees it exports),
//     ACTIVE when none ever was (the item came back before the evening's
//     export). The other is listed only when the answer lacks what the
//     journal expects: a fee it expects open (active again, or disputed),
//     a lost-item type the export profile never takes (it stays active
//     beside an exported sibling), or, for an item never exported, any
//     lost-item fee or one of a type the profile takes (an export file not
//     read yet may hold it). INDISPUTE is listed only when an expected fee
//     is still missing (see listLost in lostfees.go). The same answers
//     give each fee's balance (the amount waived) and whether another
//     lost-item fee is still open; the journal adds the lost-item fees of
//     other items that the bursar still holds (blocks stay).
//  3. Waive, 1 call per fee waived: the amount is the balance the list
//     showed, so Alma's client does not read the fee again first; it
//     reads it only after an attempt that may have reached Alma, so that
//     no fee is waived twice.
//  4. RemoveFeeBlocks, only when this return waived a fee and no
//     lost-item fee is left: 1 call to read the user (no earlier answer
//     carries the blocks), and 1 more to write it back only when a fee
//     block is there to lift. A read that finds no fee block is the one
//     call beyond issue 17's bound (2 + fees waived + 2 if the blocks
//     change): no answer before it tells whether the student has one.
//
// So a return costs no call for a loan never lost; 2 + fees waived while
// another lost item is owed; 2 + fees waived + 2 when the blocks are
// lifted (issue 17's bound), + 1 when no fee block is there; 3 with no
// lost-item fee at all (4 once the journal has seen lost-item fees
// exported: INDISPUTE too); 1 more than the bound with a profile that
// exports only some lost-item types; 4 + fees waived for a fee disputed
// since the export
// (it is left for staff and the blocks stay). A fee already closed, or
// one an earlier delivery waived, costs no call.
//
// What is not asked for: the fees of another item in a status not
// listed. A lost-item fee of another item that the journal does not know
// (active: lost since the last export; or disputed before any export)
// does not keep the blocks, and a fee of the returned item disputed
// before any export, of a type no export ever carried, is not recorded
// as a dispute by the return: the daily report's returned-lost-items
// check (Alma's Analytics report of open lost-item fees whose item is
// back, in any open status) lists it for staff.
func (j *Jobs) loanReturned(ctx context.Context, ev LoanEvent) error {
	if ev.ProcessStatus == ProcessNormal {
		return nil // never lost: nothing to waive, no call to make (see 0 above)
	}
	loan, err := j.deps.Alma.GetLoan(ctx, ev.UserID, ev.LoanID)
	if err != nil {
		return fmt.Errorf("loan %s: %w", ev.LoanID, err)
	}
	if !loan.Returned {
		return fmt.Errorf("loan %s of item %s is not returned yet", ev.LoanID, loan.ItemBarcode)
	}
	if loan.ItemBarcode == "" {
		loan.ItemBarcode = ev.ItemBarcode
	}
	if loan.UserID == "" {
		loan.UserID = ev.UserID
	}
	waived, owed, err := j.waiveLost(ctx, ev, loan.UserID, loan.ItemBarcode)
	if err != nil {
		return err
	}
	if waived == 0 {
		// A redelivery after a crash: the fees may be closed by now.
		if waived, err = j.deps.Journal.Waived(ctx, ev.ID); err != nil {
			return err
		}
	}
	if j.opts.DryRun || waived == 0 {
		// Nothing was waived for this return: the user's blocks, if any,
		// are for other fees and stay.
		return nil
	}
	// The blocks stay while the student still owes for another lost item.
	if owed {
		j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: blocks kept: another lost-item fee is open",
			slog.String("event", ev.ID), slog.String("user", j.logID(loan.UserID)))
		return nil
	}
	if err := j.run.hook(StepBlocks); err != nil {
		return err
	}
	if err := j.deps.Alma.RemoveFeeBlocks(ctx, loan.UserID); err != nil {
		return fmt.Errorf("remove fee blocks: %w", err)
	}
	return nil
}

// waiveLost waives the remaining balance of each open lost-item fee of the
// student user for the item barcode, once per event ev, and returns how
// many were waived (or had been, by an earlier delivery) and whether the
// student still owes a lost-item fee (of another item, or one restored).
func (j *Jobs) waiveLost(ctx context.Context, ev LoanEvent, user, barcode string) (waived int, owed bool, err error) {
	open, owed, err := j.listLost(ctx, user, barcode)
	if err != nil {
		return 0, false, fmt.Errorf("fees of the user: %w", err)
	}
	for _, f := range open {
		if !slices.Contains(j.opts.LostTypes, f.Type) {
			continue
		}
		if f.Item.Barcode != barcode {
			owed = owed || f.Balance.IsPositive()
			continue
		}
		if f.Status == fees.StatusInDispute {
			// Left for staff, and still owed: see above.
			owed = owed || f.Balance.IsPositive()
			if err := j.disputed(ctx, ev, ev.ID+"/"+f.ID, user, barcode, f); err != nil {
				return waived, owed, err
			}
			continue
		}
		key := ev.ID + "/" + f.ID
		if old, ok, err := j.deps.Journal.Get(ctx, KindWaiver, key); err != nil {
			return waived, owed, err
		} else if ok && old.Outcome == OutcomeWaived {
			// Waived by an earlier delivery; still open means someone
			// restored it, and the student owes it again.
			waived++
			owed = owed || f.Balance.IsPositive()
			continue
		}
		// The list was read just now, with this student's returns held
		// back: a redelivery after a crash finds a fee it waived closed,
		// and not in the list. (Alma's client reads the fee again only
		// before it retries an attempt that may have reached Alma.)
		if f.Status == fees.StatusClosed || !f.Balance.IsPositive() {
			continue
		}
		if !j.opts.DryRun {
			if err := j.waive(ctx, ev, key, user, barcode, f); err != nil {
				return waived, owed, err
			}
		}
		waived++
	}
	return waived, owed, nil
}

// waive waives the remaining balance of the fee f and journals the
// waiver under key.
func (j *Jobs) waive(ctx context.Context, ev LoanEvent, key, user, barcode string, f fees.Fee) error {
	if err := j.run.hook(StepWaive); err != nil {
		return err
	}
	after, err := j.deps.Alma.Waive(ctx, user, f.ID, f.Balance, j.opts.WaiveReason, j.opts.WaiveComment)
	if err != nil {
		return fmt.Errorf("waive fee %s of %s: %w", f.ID, f.Balance, err)
	}
	if err := j.deps.Journal.Put(ctx, Record{Kind: KindWaiver, Key: key, Outcome: OutcomeWaived,
		UserID: user, FeeID: f.ID, FeeType: f.Type, Barcode: barcode, Amount: f.Balance,
		Ref: waivedRef(f), Reason: j.opts.WaiveReason, Updated: j.opts.Now()}); err != nil {
		return err
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: lost item returned, fee waived", slog.String("event", ev.ID),
		slog.String("user", j.logID(user)), slog.String("fee", f.ID), slog.String("amount", f.Balance.String()),
		slog.String("status_after", after.Status.String()))
	return nil
}

// disputed journals that the lost-item fee f of the returned item is in
// dispute and left for staff, under key.
func (j *Jobs) disputed(ctx context.Context, ev LoanEvent, key, user, barcode string, f fees.Fee) error {
	j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: lost item returned, fee in dispute left for staff; blocks kept",
		slog.String("event", ev.ID), slog.String("user", j.logID(user)), slog.String("fee", f.ID),
		slog.String("amount", f.Balance.String()))
	if j.opts.DryRun {
		return nil
	}
	return j.deps.Journal.Put(ctx, Record{Kind: KindWaiver, Key: key, Outcome: OutcomeDisputed,
		UserID: user, FeeID: f.ID, FeeType: f.Type, Barcode: barcode, Amount: f.Balance, Ref: waivedRef(f),
		Reason: "in dispute: left for staff", Updated: j.opts.Now()})
}

// waivedRef is the charge a waiver concerns: the fee's charge key, when the
// fee has a bursar transaction id.
func waivedRef(f fees.Fee) string {
	if f.TransactionID == "" {
		return ""
	}
	return f.ChargeKey()
}

// keyedMutex is a set of mutexes by key, each there only while in use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int // holders and waiters
}

// lock locks key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
