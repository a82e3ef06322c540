package reconcile

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// ReportFee is one row of the library's bulk report of open fees (Alma
// Analytics' "Fines and Fees": see the README, "The Analytics report for
// the nightly reconciliation").
type ReportFee struct {
	// Fee carries the row's UserID, ID, Type, Status, Balance (the
	// remaining amount), TransactionID, Item.Barcode and Updated (when
	// its status last changed, zero when the report does not say).
	Fee fees.Fee
	// ItemKnown says whether the report shows the item's process type;
	// ItemLost is then whether the item is still lost.
	ItemKnown, ItemLost bool
	// Refreshed is when the library's data was extracted for the report
	// (Analytics is refreshed overnight); zero when the report does not
	// say.
	Refreshed time.Time
}

// OpenFeesReport is an optional ability of an [AlmaAPI]: the library's
// own report of every open fee (status Active, Transferred or In dispute,
// with a balance), read in bulk (Alma: 1,000 rows a call). When the
// AlmaAPI has it, the reconciliation reads it once and asks about a
// student fee by fee only when the report and the journal disagree or
// the journal changed after the report's data was refreshed; the daily
// report finds returned lost items in it. OpenFees returns
// [ErrUnsupported] when no report is configured.
type OpenFeesReport interface {
	// OpenFees calls fn with each row, in the report's order; an error
	// from fn stops it and is returned.
	OpenFees(ctx context.Context, fn func(ReportFee) error) error
}

// refreshUnknown is how far back the reconciliation assumes the report's
// data was refreshed when the report does not say (no row, or no "Data
// Updated as of" column): Alma refreshes Analytics every night.
const refreshUnknown = 24 * time.Hour

// digest sums, in any order, a set of (charge key, amount) pairs: two
// equal sets have equal digests, and two different sets almost surely
// not (two independent 64-bit sums).
type digest struct {
	n    uint32
	a, b uint64
}

var digestSeed = maphash.MakeSeed()

func (d *digest) add(key string, amount fees.Money) {
	k := maphash.String(digestSeed, key)
	v := maphash.String(digestSeed, amount.Amount())
	x := k*0x9E3779B97F4A7C15 ^ v
	d.n++
	d.a += x
	d.b += (x ^ x>>29) * 0xBF58476D1CE4E5B9
}

// reportSide is what the reconciliation keeps of one student while it
// reads the report and the journal: a few words, whatever the fees.
type reportSide struct {
	report, journal digest
	fees            int
	total           fees.Money // what the bursar holds of all the student's charges
	changed         bool       // a journal record changed after the report's refresh
}

// reconcileByReport reconciles users (sorted) with the open fees report,
// when the AlmaAPI has one configured: false when it has none. each has
// one result per user.
func (j *Jobs) reconcileByReport(ctx context.Context, users []string, stated map[string]fees.Money) (each []Reconciliation, ok bool, err error) {
	rep, has := j.deps.Alma.(OpenFeesReport)
	if !has {
		return nil, false, nil
	}
	side := make([]reportSide, len(users))
	var refreshed time.Time
	rows := 0
	err = rep.OpenFees(ctx, func(r ReportFee) error {
		rows++
		if r.Refreshed.After(refreshed) {
			refreshed = r.Refreshed
		}
		i, found := slices.BinarySearch(users, r.Fee.UserID)
		if found && r.Fee.TransactionID != "" { // a fee never exported is not the bursar's
			side[i].report.add(r.Fee.ChargeKey(), r.Fee.Balance)
		}
		return nil
	})
	if errors.Is(err, ErrUnsupported) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("reconcile: open fees report: %w", j.quotaErr(ctx, JobReconcile, err))
	}
	if err := j.journalSide(ctx, users, side); err != nil {
		return nil, true, err
	}
	since := refreshed
	if since.IsZero() {
		since = j.opts.Now().Add(-refreshUnknown)
	}
	changed, err := j.deps.Journal.ChangedSince(ctx, since)
	if err != nil {
		return nil, true, err
	}
	for _, u := range changed {
		if i, found := slices.BinarySearch(users, u); found {
			side[i].changed = true
		}
	}
	each = make([]Reconciliation, len(users))
	var confirm []int // indexes of users asked about in detail
	nChanged := 0
	for i, u := range users {
		s := &side[i]
		if s.changed {
			nChanged++
		}
		if s.changed || s.report != s.journal {
			confirm = append(confirm, i)
			continue
		}
		each[i] = Reconciliation{Fees: s.fees}
		if st, hasStated := stated[u]; hasStated {
			each[i] = statedCheck(each[i], u, s.total, st)
		}
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: open fees report read", slog.Int("rows", rows),
		slog.Time("refreshed", refreshed), slog.Int("changed_since", nChanged), slog.Int("asked", len(confirm)))
	names := make([]string, len(confirm))
	for k, i := range confirm {
		names[k] = users[i]
	}
	err = j.forEachStudent(ctx, names, func(ctx context.Context, k int, u string) error {
		st, hasStated := stated[u]
		var err error
		each[confirm[k]], err = j.confirmStudent(ctx, u, st, hasStated)
		return err
	})
	return each, true, err
}

// statedCheck adds to res the disagreement of the student's total, when
// the bursar's statement differs from what the journal expects.
func statedCheck(res Reconciliation, u string, total, stated fees.Money) Reconciliation {
	if !total.Valid() {
		total = fees.Zero(stated.Currency())
	}
	if !stated.Equal(total) {
		res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, Alma: total, Bursar: stated,
			Problem: fmt.Sprintf("the bursar states %s owed, the journal expects %s", stated, total)})
	}
	return res
}

// journalSide walks the journal's charges once, by student, and adds to
// side each charge of users with something left, and the counts.
func (j *Jobs) journalSide(ctx context.Context, users []string, side []reportSide) error {
	i, last := -1, ""
	return j.deps.Journal.EachOutstanding(ctx, func(h journal.Held) error {
		if u := h.Charge.UserID; u != last {
			last = u
			var found bool
			if i, found = slices.BinarySearch(users, u); !found {
				i = -1
			}
		}
		if i < 0 {
			return nil
		}
		s := &side[i]
		s.fees++
		s.total = addMoney(s.total, h.Left)
		if !h.Left.IsZero() {
			s.journal.add(h.Charge.Key, h.Left)
		}
		return nil
	})
}

// confirmStatuses are the statuses confirmStudent lists, in this order,
// until every charge of the student is found: Transferred first (where
// the bursar's charges are, and the fees never sent), then Closed (paid
// or waived in Alma), then the rare ones.
var confirmStatuses = []fees.Status{fees.StatusTransferred, fees.StatusClosed, fees.StatusInDispute, fees.StatusActive}

// confirmStudent asks Alma about one student in detail and compares, as
// the per-student reconciliation does: Alma's answer is the truth, the
// report only chose the student. It is the one place where the bulk
// reconciliation spends detail calls: one per status listed, usually one
// or two (see confirmStatuses).
func (j *Jobs) confirmStudent(ctx context.Context, u string, stated fees.Money, hasStated bool) (Reconciliation, error) {
	if err := j.opts.Quota.Check(ctx, JobReconcile); err != nil {
		return Reconciliation{}, err // deferred: Alma's daily quota is low or spent (quota.go)
	}
	charges, err := j.deps.Journal.Outstanding(ctx, u)
	if err != nil {
		return Reconciliation{}, err
	}
	want := make(map[string]bool, len(charges))
	for _, c := range charges {
		want[c.Charge.Key] = true
	}
	var almaFees []fees.Fee
	for _, st := range confirmStatuses {
		fs, err := j.deps.Alma.ListFees(ctx, u, st)
		if err != nil {
			return Reconciliation{}, fmt.Errorf("reconcile: fees of a student: %w", j.quotaErr(ctx, JobReconcile, err))
		}
		almaFees = append(almaFees, fs...)
		for _, f := range fs {
			if f.TransactionID != "" {
				delete(want, f.ChargeKey())
			}
		}
		if len(want) == 0 {
			break
		}
	}
	return compareStudent(u, charges, almaFees, stated, hasStated), nil
}

// returnedByReport lists, from the open fees report, the lost-item fees
// with a balance whose item is no longer lost: one call per 1,000 rows.
// false when there is no report, or it does not show the items' process
// type.
func (j *Jobs) returnedByReport(ctx context.Context) ([]fees.Fee, bool, error) {
	rep, has := j.deps.Alma.(OpenFeesReport)
	if !has {
		return nil, false, nil
	}
	errNoItems := errors.New("no process type")
	var out []fees.Fee
	err := rep.OpenFees(ctx, func(r ReportFee) error {
		if !r.ItemKnown {
			return errNoItems
		}
		f := r.Fee
		if !r.ItemLost && f.Item.Barcode != "" && f.Balance.IsPositive() && slices.Contains(j.opts.LostTypes, f.Type) {
			out = append(out, f)
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrUnsupported), errors.Is(err, errNoItems):
		return nil, false, nil
	case err != nil:
		return nil, true, err
	}
	// The report is as of its refresh: a fee the lost-returns handler
	// waived since then still shows open there. The journal knows.
	kept := out[:0]
	for _, f := range out {
		recs, err := j.deps.Journal.RecordsFor(ctx, "", f.ID)
		if err != nil {
			return nil, true, err
		}
		if !slices.ContainsFunc(recs, func(r Record) bool { return r.Kind == KindWaiver && r.Outcome == OutcomeWaived }) {
			kept = append(kept, f)
		}
	}
	return kept, true, nil
}
