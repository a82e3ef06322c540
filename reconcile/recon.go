package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// BursarBalances is a campus's own statement of what each student owes the
// bursar for library fees (a PeopleSoft balance file), when it has one.
type BursarBalances interface {
	// Balances returns each student's library balance at the bursar.
	Balances(ctx context.Context) (map[string]fees.Money, error)
}

// Disagreement is one difference between Alma and the bursar.
type Disagreement struct {
	UserID        string
	FeeID         string    // empty for a student's total
	FeeType       fees.Type // the fee's type, when known (empty for a student's total)
	TransactionID string
	AlmaStatus    fees.Status
	Alma          fees.Money // Alma's remaining balance
	Bursar        fees.Money // what the bursar holds, per the journal or its balance file
	Problem       string
}

// Reconciliation is the outcome of [Jobs.Reconcile].
type Reconciliation struct {
	Students      int // students compared
	Fees          int // their charges compared
	Quiet         int // students settled and quiet, not asked about (see [Options].QuietAfter)
	Disagreements []Disagreement
	// Colleges are, when charges are routed to colleges, each college's
	// charges sent, what the bursar holds of them and this
	// reconciliation's disagreements about them, then the district's
	// total (see [Report].Colleges); nil when no colleges are configured.
	Colleges []CollegeLine
}

// Agree reports whether Alma and the bursar agree to the cent.
func (r Reconciliation) Agree() bool { return len(r.Disagreements) == 0 }

// Reconcile compares Alma's view of every student the journal knows (each
// fee's status and remaining balance) with the bursar's as the journal
// knows it (each charge sent, less the payments forwarded and the credits
// sent), and lists every disagreement to the cent: a balance that differs,
// a charge Alma does not know, a fee Alma shows as transferred that was
// never sent. When balances is not nil, each student's total is also
// compared with the bursar's own statement.
//
// The students compared are those the bursar still holds something of,
// those with a change in the last [Options].QuietAfter, and those of the
// bursar's statement; the others are counted as Quiet. The refunds sent
// to the bursar (R8) are then compared with Alma's (see
// reconcileRefunds), and their disagreements follow. When the AlmaAPI
// has an open fees report ([OpenFeesReport]), the report is read once and
// only the students it disagrees with, or whose journal records changed
// after its refresh, are asked about (see reconcileByReport). Otherwise
// they are taken one
// by one, [Options].AlmaWorkers at a time (Alma's client keeps to its
// call rate), so that memory holds one student's charges per worker,
// however many the journal has. Disagreements come in the order of the
// students' ids.
func (j *Jobs) Reconcile(ctx context.Context, balances BursarBalances) (Reconciliation, error) {
	var res Reconciliation
	if err := j.missing[JobReconcile]; err != nil {
		return res, err
	}
	users, quiet, err := j.activeStudents(ctx, false)
	if err != nil {
		return res, err
	}
	var stated map[string]fees.Money
	if balances != nil {
		if stated, err = balances.Balances(ctx); err != nil {
			return res, fmt.Errorf("reconcile: bursar balances: %w", err)
		}
		known := users // sorted; what is appended is sorted in below
		for u := range stated {
			if _, found := slices.BinarySearch(known, u); !found {
				users = append(users, u)
			}
		}
		slices.Sort(users)
		quiet = slices.DeleteFunc(quiet, func(u string) bool { _, ok := stated[u]; return ok })
	}
	res.Quiet = len(quiet)
	res.Students = len(users)
	each, byReport, err := j.reconcileByReport(ctx, users, stated)
	if err == nil && !byReport {
		each = make([]Reconciliation, len(users))
		err = j.forEachStudent(ctx, users, func(ctx context.Context, i int, u string) error {
			s, ok := stated[u]
			var err error
			each[i], err = j.reconcileStudent(ctx, u, s, ok)
			return err
		})
	}
	if err != nil {
		return res, err
	}
	for _, r := range each {
		res.Fees += r.Fees
		res.Disagreements = append(res.Disagreements, r.Disagreements...)
	}
	refunds, err := j.reconcileRefunds(ctx)
	if err != nil {
		return res, err
	}
	res.Disagreements = append(res.Disagreements, refunds...)
	if res.Colleges, err = j.reconciliationColleges(ctx, res.Disagreements); err != nil {
		return res, err
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: reconciliation", slog.Int("students", res.Students),
		slog.Int("fees", res.Fees), slog.Int("quiet", res.Quiet), slog.Int("disagreements", len(res.Disagreements)))
	j.logColleges(ctx, res.Colleges)
	if !j.opts.DryRun {
		if err := j.deps.Journal.SetDisagreements(ctx, j.opts.Now(), journalDisagreements(res.Disagreements)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// reconcileStudent reconciles one student: the fees and disagreements of
// the result are the student's. stated is the bursar's statement of the
// student's total, when hasStated.
func (j *Jobs) reconcileStudent(ctx context.Context, u string, stated fees.Money, hasStated bool) (Reconciliation, error) {
	if err := j.opts.Quota.Check(ctx, JobReconcile); err != nil {
		return Reconciliation{}, err // deferred: Alma's daily quota is low or spent (quota.go)
	}
	charges, err := j.deps.Journal.Outstanding(ctx, u)
	if err != nil {
		return Reconciliation{}, err
	}
	almaFees, err := j.deps.Alma.ListFees(ctx, u)
	if err != nil {
		return Reconciliation{}, fmt.Errorf("reconcile: fees of a student: %w", j.quotaErr(ctx, JobReconcile, err))
	}
	res := compareStudent(u, charges, almaFees, stated, hasStated)
	return res, j.refusedWords(ctx, u, res.Disagreements)
}

// neverSent is the problem of a fee Alma shows as transferred that the
// bursar does not hold.
const neverSent = "transferred in Alma, never sent to the bursar"

// refusedWords rewords, among ds (the student u's), the fees transferred
// in Alma that the bursar does not hold because its load refused them
// (see [Jobs.Results]): they were sent, and are held to be re-driven.
func (j *Jobs) refusedWords(ctx context.Context, u string, ds []Disagreement) error {
	if !slices.ContainsFunc(ds, func(d Disagreement) bool { return d.Problem == neverSent }) {
		return nil
	}
	recs, err := j.deps.Journal.RecordsFor(ctx, u, "")
	if err != nil {
		return err
	}
	refused := map[string]Record{}
	for _, r := range recs {
		if r.Kind == KindCharge && r.Outcome == OutcomeRejected && r.Code == CodeBursarRefused {
			refused[r.Key] = r
		}
	}
	for i := range ds {
		d := &ds[i]
		if r, ok := refused[fees.ChargeKey(d.TransactionID, d.FeeType)]; ok && d.Problem == neverSent {
			_, msg, _ := strings.Cut(r.Reason, "refused by PeopleSoft: ")
			d.Problem = "transferred in Alma, sent but refused by PeopleSoft (" + msg + "): held, to be re-driven"
		}
	}
	return nil
}

// compareStudent compares one student's charges, as the journal knows
// them, with the student's fees in Alma (almaFees), and the total with
// stated when hasStated.
func compareStudent(u string, charges []journal.Held, almaFees []fees.Fee, stated fees.Money, hasStated bool) Reconciliation {
	var res Reconciliation
	byTx := map[string]fees.Fee{} // by charge key
	for _, f := range almaFees {
		if f.TransactionID != "" {
			byTx[f.ChargeKey()] = f
		}
	}
	var total fees.Money
	for _, ch := range charges {
		c, held := ch.Charge, ch.Left
		res.Fees++
		total = addMoney(total, held)
		f, ok := byTx[c.Key]
		if !ok {
			for _, g := range almaFees {
				if g.ID == c.FeeID {
					f, ok = g, true
				}
			}
		}
		if !ok {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: c.FeeID, FeeType: c.FeeType, TransactionID: chargeTxID(c),
				Bursar: held, Problem: "charged to the bursar, unknown to Alma"})
			continue
		}
		delete(byTx, f.ChargeKey())
		if !f.Balance.Equal(held) {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: f.ID, FeeType: c.FeeType, TransactionID: chargeTxID(c),
				AlmaStatus: f.Status, Alma: f.Balance, Bursar: held,
				Problem: fmt.Sprintf("Alma shows %s left, the bursar holds %s", f.Balance, held)})
		}
	}
	for _, f := range almaFees {
		if _, left := byTx[f.ChargeKey()]; left && f.Status == fees.StatusTransferred {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: f.ID, FeeType: f.Type, TransactionID: f.TransactionID,
				AlmaStatus: f.Status, Alma: f.Balance, Problem: neverSent})
		}
	}
	if hasStated {
		res = statedCheck(res, u, total, stated)
	}
	return res
}

// activeStudents returns, sorted, the students with charges sent to the
// bursar that are active (the bursar still holds something of one of
// them, or one of them, or a payment, credit or waiver of it, changed in
// the last QuietAfter), and those that are quiet. With returns, the
// students of lost returns handled in that time (webhook events and
// waivers) are active too, charged or not.
func (j *Jobs) activeStudents(ctx context.Context, returns bool) (active, quiet []string, err error) {
	var since time.Time // zero: all are active
	if j.opts.QuietAfter > 0 {
		since = j.opts.Now().Add(-j.opts.QuietAfter)
	}
	return j.deps.Journal.Students(ctx, since, returns)
}

// forEachStudent calls fn for each of users, [Options].AlmaWorkers at a
// time, with the user's index, and returns the first error, which stops
// the rest.
func (j *Jobs) forEachStudent(ctx context.Context, users []string, fn func(ctx context.Context, i int, user string) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.opts.AlmaWorkers)
	for i, u := range users {
		g.Go(func() error { return fn(gctx, i, u) })
	}
	return g.Wait()
}

// journalDisagreements are ds as the journal keeps them, for the report.
func journalDisagreements(ds []Disagreement) []journal.Disagreement {
	out := make([]journal.Disagreement, len(ds))
	for i, d := range ds {
		out[i] = journal.Disagreement{UserID: d.UserID, FeeID: d.FeeID, FeeType: d.FeeType, TransactionID: d.TransactionID,
			AlmaStatus: d.AlmaStatus, Alma: d.Alma, Bursar: d.Bursar, Problem: d.Problem}
	}
	return out
}
