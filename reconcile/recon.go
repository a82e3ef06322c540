package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/feebridge/feebridge/fees"
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
	FeeID         string // empty for a student's total
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
// bursar's statement; the others are counted as Quiet. They are taken one
// by one, [Options].AlmaWorkers at a time (Alma's client keeps to its
// call rate), so that memory holds one student's charges per worker,
// however many the journal has. Disagreements come in the order of the
// students' ids.
func (j *Jobs) Reconcile(ctx context.Context, balances BursarBalances) (Reconciliation, error) {
	var res Reconciliation
	if j.deps.Alma == nil {
		return res, fmt.Errorf("reconcile: no Alma API configured")
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
	each := make([]Reconciliation, len(users))
	err = j.forEachStudent(ctx, users, func(ctx context.Context, i int, u string) error {
		s, ok := stated[u]
		var err error
		each[i], err = j.reconcileStudent(ctx, u, s, ok)
		return err
	})
	if err != nil {
		return res, err
	}
	for _, r := range each {
		res.Fees += r.Fees
		res.Disagreements = append(res.Disagreements, r.Disagreements...)
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: reconciliation", slog.Int("students", res.Students),
		slog.Int("fees", res.Fees), slog.Int("quiet", res.Quiet), slog.Int("disagreements", len(res.Disagreements)))
	return res, nil
}

// reconcileStudent reconciles one student: the fees and disagreements of
// the result are the student's. stated is the bursar's statement of the
// student's total, when hasStated.
func (j *Jobs) reconcileStudent(ctx context.Context, u string, stated fees.Money, hasStated bool) (Reconciliation, error) {
	var res Reconciliation
	charges, err := j.chargesHeld(ctx, u)
	if err != nil {
		return res, err
	}
	almaFees, err := j.deps.Alma.ListFees(ctx, u)
	if err != nil {
		return res, fmt.Errorf("reconcile: fees of a student: %w", err)
	}
	byTx := map[string]fees.Fee{} // by charge key
	for _, f := range almaFees {
		if f.TransactionID != "" {
			byTx[f.ChargeKey()] = f
		}
	}
	var total fees.Money
	for _, ch := range charges {
		c, held := ch.rec, ch.held
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
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: c.FeeID, TransactionID: chargeTxID(c),
				Bursar: held, Problem: "charged to the bursar, unknown to Alma"})
			continue
		}
		delete(byTx, f.ChargeKey())
		if !f.Balance.Equal(held) {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: f.ID, TransactionID: chargeTxID(c),
				AlmaStatus: f.Status, Alma: f.Balance, Bursar: held,
				Problem: fmt.Sprintf("Alma shows %s left, the bursar holds %s", f.Balance, held)})
		}
	}
	for _, f := range almaFees {
		if _, left := byTx[f.ChargeKey()]; left && f.Status == fees.StatusTransferred {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, FeeID: f.ID, TransactionID: f.TransactionID,
				AlmaStatus: f.Status, Alma: f.Balance, Problem: "transferred in Alma, never sent to the bursar"})
		}
	}
	if hasStated && !total.Valid() {
		total = fees.Zero(stated.Currency())
	}
	if hasStated && !stated.Equal(total) {
		res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, Alma: total, Bursar: stated,
			Problem: fmt.Sprintf("the bursar states %s owed, the journal expects %s", stated, total)})
	}
	return res, nil
}

// heldCharge is a charge sent to the bursar and what the bursar still
// holds of it.
type heldCharge struct {
	rec  Record
	held fees.Money
}

// chargesHeld returns the charges sent for student u, in key order, each
// with what the bursar still holds of it (see [outstanding]), in one query.
func (j *Jobs) chargesHeld(ctx context.Context, u string) ([]heldCharge, error) {
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.deps.Journal.db.QueryContext(ctx, `SELECT c.key, c.fee_id, c.fee_type, c.amount, c.currency,
		(SELECT COALESCE(SUM(p.amount), 0) FROM records p
			WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency)
		FROM records c WHERE c.kind = 'charge' AND c.outcome = 'charged' AND c.user_id = ? ORDER BY c.key`, u)
	if err != nil {
		return nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	var out []heldCharge
	for rows.Next() {
		c := heldCharge{rec: Record{Kind: KindCharge, Outcome: OutcomeCharged, UserID: u}}
		var typ, cur string
		var amount, taken int64
		if err := rows.Scan(&c.rec.Key, &c.rec.FeeID, &typ, &amount, &cur, &taken); err != nil {
			return nil, fmt.Errorf("reconcile: journal: %w", err)
		}
		c.rec.FeeType, c.rec.Amount = fees.Type(typ), amountOf(amount, cur)
		c.held = amountOf(amount-taken, cur)
		out = append(out, c)
	}
	return out, rows.Err()
}

// activeStudents returns, sorted, the students with charges sent to the
// bursar that are active (the bursar still holds something of one of
// them, or one of them, or a payment, credit or waiver of it, changed in
// the last QuietAfter), and those that are quiet. With returns, the
// students of lost returns handled in that time (webhook events and
// waivers) are active too, charged or not.
func (j *Jobs) activeStudents(ctx context.Context, returns bool) (active, quiet []string, err error) {
	since := "" // every time is after it: all are active
	if j.opts.QuietAfter > 0 {
		since = formatTime(j.opts.Now().Add(-j.opts.QuietAfter))
	}
	// "p.ref != ''" lets SQLite use the partial index records_ref.
	rows, err := j.deps.Journal.db.QueryContext(ctx, `SELECT c.user_id, MAX(c.updated_at >= ?
			OR c.amount != (SELECT COALESCE(SUM(p.amount), 0) FROM records p
				WHERE p.ref = c.key AND p.ref != '' AND p.outcome IN ('forwarded', 'credited') AND p.currency = c.currency)
			OR EXISTS (SELECT 1 FROM records p WHERE p.ref = c.key AND p.ref != '' AND p.updated_at >= ?))
		FROM records c WHERE c.kind = 'charge' AND c.outcome = 'charged' AND c.user_id != ''
		GROUP BY c.user_id
		UNION ALL SELECT r.user_id, 1 FROM records r
		WHERE ? AND r.kind IN ('event', 'waiver') AND r.user_id != '' AND r.updated_at >= ?`,
		since, since, returns, since)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	on := map[string]bool{}
	for rows.Next() {
		var u string
		var a bool
		if err := rows.Scan(&u, &a); err != nil {
			return nil, nil, fmt.Errorf("reconcile: journal: %w", err)
		}
		on[u] = on[u] || a
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	for u, a := range on {
		if a {
			active = append(active, u)
		} else {
			quiet = append(quiet, u)
		}
	}
	slices.Sort(active)
	slices.Sort(quiet)
	return active, quiet, nil
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
