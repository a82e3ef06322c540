package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/feebridge/feebridge/fees"
)

// reconcileRefunds compares, to the cent, each refund sent to the bursar
// (R8) with the fee's refunds in Alma: the refund lines sent for a charge
// add up to what Alma refunded on its fee. Refunds sent in the last
// [Options].QuietAfter are compared (all of them when it is negative).
// A refunded fee is closed in Alma (paid in full, or its rest waived), so
// each student with such a refund costs one more call (the CLOSED list);
// a fee that is not there (its rest not waived yet) is left for a later
// night. Refunds held for staff (policy report) are not compared: the
// bursar was sent nothing, by design. Disagreements come in the order of
// the students' ids.
func (j *Jobs) reconcileRefunds(ctx context.Context) ([]Disagreement, error) {
	sent, err := j.deps.Journal.Records(ctx, KindRefund, OutcomeRefunded)
	if err != nil {
		return nil, err
	}
	since := j.opts.Now().Add(-j.opts.QuietAfter)
	byUser := map[string]map[string]fees.Money{} // student → charge key → refunds sent
	for _, r := range sent {
		if r.UserID == "" || (j.opts.QuietAfter >= 0 && r.Updated.Before(since)) {
			continue
		}
		if byUser[r.UserID] == nil {
			byUser[r.UserID] = map[string]fees.Money{}
		}
		byUser[r.UserID][r.Ref] = addMoney(byUser[r.UserID][r.Ref], r.Amount)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users)
	each := make([][]Disagreement, len(users))
	err = j.forEachStudent(ctx, users, func(ctx context.Context, i int, u string) error {
		if err := j.opts.Quota.Check(ctx, JobReconcile); err != nil {
			return err
		}
		closed, err := j.deps.Alma.ListFees(ctx, u, fees.StatusClosed)
		if err != nil {
			return fmt.Errorf("reconcile: refunded fees of a student: %w", j.quotaErr(ctx, JobReconcile, err))
		}
		each[i] = compareRefunds(u, byUser[u], closed)
		return nil
	})
	return slices.Concat(each...), err
}

// compareRefunds compares the refunds sent for the student u's charges
// (by charge key) with what Alma refunded on the student's closed fees.
func compareRefunds(u string, sent map[string]fees.Money, closed []fees.Fee) []Disagreement {
	var out []Disagreement
	for _, f := range closed {
		if f.TransactionID == "" {
			continue
		}
		amount, ok := sent[f.ChargeKey()]
		if !ok {
			continue
		}
		refunded := f.Refunded
		if !refunded.Valid() {
			refunded = fees.Zero(amount.Currency())
		}
		if !refunded.Equal(amount) {
			out = append(out, Disagreement{UserID: u, FeeID: f.ID, FeeType: f.Type, TransactionID: f.TransactionID,
				AlmaStatus: f.Status, Alma: refunded, Bursar: amount,
				Problem: fmt.Sprintf("Alma refunded %s, the bursar was sent refunds of %s (rule R8)", refunded, amount)})
		}
	}
	return out
}
