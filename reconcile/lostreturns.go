package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/feebridge/feebridge/fees"
)

// ErrRedeliver is wrapped by the errors of [Jobs.LoanReturned] that a
// later delivery of the same event may overcome (Alma down, a waiver
// refused for now): the webhook handler answers so that Alma delivers the
// event again.
var ErrRedeliver = errors.New("reconcile: the event should be delivered again")

// EventLoanReturned is the webhook event type of a loan return.
const EventLoanReturned = "LOAN_RETURNED"

// LoanReturned is the lost-returns handler (F5, R7), called for each loan
// webhook. On LOAN_RETURNED it checks that the loan is really returned,
// waives the remaining balance of every open lost-item fee of that loan's
// item (by barcode) with the configured reason, and lifts the user's
// fee-related blocks, unless the student still owes for another lost item.
// Other event types are ignored.
//
// It is idempotent by event id (an event handled once is not handled
// again) and by re-reading each fee before waiving it (a fee already
// closed is left alone). A failure is journaled, shows in the report, and
// is returned wrapping [ErrRedeliver].
func (j *Jobs) LoanReturned(ctx context.Context, ev LoanEvent) error {
	if ev.Type != EventLoanReturned {
		return nil
	}
	if j.deps.Alma == nil {
		return errors.New("reconcile: lost returns: no Alma API configured")
	}
	if ev.ID == "" {
		return fmt.Errorf("reconcile: lost returns: event without an id (loan %s)", ev.LoanID)
	}
	// Alma may deliver an event again while the first delivery is still
	// being handled; taking returns one at a time keeps the re-read of
	// each fee and its waiver together.
	j.returns.Lock()
	defer j.returns.Unlock()
	jr := j.deps.Journal
	if old, ok, err := jr.Get(ctx, KindEvent, ev.ID); err != nil {
		return err
	} else if ok && old.Outcome == OutcomeDone {
		return nil
	}
	err := j.loanReturned(ctx, ev)
	if j.opts.DryRun {
		return err
	}
	rec := Record{Kind: KindEvent, Key: ev.ID, UserID: ev.UserID, Barcode: ev.ItemBarcode, Ref: ev.LoanID,
		Outcome: OutcomeDone}
	if err != nil {
		rec.Outcome, rec.Reason = OutcomeFailed, err.Error()
	}
	if perr := putRecord(ctx, jr.db, rec, j.opts.Now()); perr != nil && err == nil {
		return perr
	}
	if err != nil {
		j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: lost return failed", slog.String("event", ev.ID),
			slog.String("user", j.mask(ev.UserID)), slog.String("error", err.Error()))
		return fmt.Errorf("%w: event %s: %w", ErrRedeliver, ev.ID, err)
	}
	return nil
}

func (j *Jobs) loanReturned(ctx context.Context, ev LoanEvent) error {
	api := j.deps.Alma
	loan, err := api.GetLoan(ctx, ev.UserID, ev.LoanID)
	if err != nil {
		return fmt.Errorf("loan %s: %w", ev.LoanID, err)
	}
	if !loan.Returned {
		return fmt.Errorf("loan %s of item %s is not returned yet", ev.LoanID, loan.ItemBarcode)
	}
	barcode := loan.ItemBarcode
	if barcode == "" {
		barcode = ev.ItemBarcode
	}
	user := loan.UserID
	if user == "" {
		user = ev.UserID
	}
	open, err := api.ListFees(ctx, user, fees.StatusActive, fees.StatusTransferred)
	if err != nil {
		return fmt.Errorf("fees of the user: %w", err)
	}
	waived := 0
	for _, f := range open {
		if f.Item.Barcode != barcode || !slices.Contains(j.opts.LostTypes, f.Type) {
			continue
		}
		key := ev.ID + "/" + f.ID
		if old, ok, err := j.deps.Journal.Get(ctx, KindWaiver, key); err != nil {
			return err
		} else if ok && old.Outcome == OutcomeWaived {
			waived++
			continue
		}
		// Re-read: a redelivery after a crash may find the fee closed.
		cur, err := api.GetFee(ctx, user, f.ID)
		if err != nil {
			return fmt.Errorf("fee %s: %w", f.ID, err)
		}
		if cur.Status == fees.StatusClosed || !cur.Balance.IsPositive() {
			continue
		}
		if j.opts.DryRun {
			waived++
			continue
		}
		if err := j.hook(StepWaive); err != nil {
			return err
		}
		after, err := api.Waive(ctx, user, cur.ID, cur.Balance, j.opts.WaiveReason, j.opts.WaiveComment)
		if err != nil {
			return fmt.Errorf("waive fee %s of %s: %w", cur.ID, cur.Balance, err)
		}
		waived++
		if err := putRecord(ctx, j.deps.Journal.db, Record{Kind: KindWaiver, Key: key, Outcome: OutcomeWaived,
			UserID: user, FeeID: cur.ID, FeeType: cur.Type, Barcode: barcode, Amount: cur.Balance,
			Ref: waivedRef(cur), Reason: j.opts.WaiveReason}, j.opts.Now()); err != nil {
			return err
		}
		j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: lost item returned, fee waived", slog.String("event", ev.ID),
			slog.String("user", j.mask(user)), slog.String("fee", cur.ID), slog.String("amount", cur.Balance.String()),
			slog.String("status_after", after.Status.String()))
	}
	if waived == 0 {
		// A redelivery after a crash: the fees may be closed by now.
		var n int
		if err := j.deps.Journal.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records
			WHERE kind = 'waiver' AND outcome = 'waived' AND substr(key, 1, ?) = ?`,
			len(ev.ID)+1, ev.ID+"/").Scan(&n); err != nil {
			return err
		}
		waived = n
	}
	if j.opts.DryRun || waived == 0 {
		// Nothing was waived for this return: the user's blocks, if any,
		// are for other fees and stay.
		return nil
	}
	// The blocks stay while the student still owes for another lost item.
	after, err := api.ListFees(ctx, user, fees.StatusActive, fees.StatusTransferred)
	if err != nil {
		return fmt.Errorf("fees of the user: %w", err)
	}
	for _, f := range after {
		if slices.Contains(j.opts.LostTypes, f.Type) && f.Balance.IsPositive() {
			j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: blocks kept: another lost-item fee is open",
				slog.String("event", ev.ID), slog.String("user", j.mask(user)), slog.String("fee", f.ID))
			return nil
		}
	}
	if err := j.hook(StepBlocks); err != nil {
		return err
	}
	if err := api.RemoveFeeBlocks(ctx, user); err != nil {
		return fmt.Errorf("remove fee blocks: %w", err)
	}
	return nil
}

// waivedRef is the charge a waiver concerns: the fee's charge key, when the
// fee has a bursar transaction id.
func waivedRef(f fees.Fee) string {
	if f.TransactionID == "" {
		return ""
	}
	return f.ChargeKey()
}
