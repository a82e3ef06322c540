package reconcile

import (
	"context"
	"fmt"
	"log/slog"

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
	Students      int
	Fees          int
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
func (j *Jobs) Reconcile(ctx context.Context, balances BursarBalances) (Reconciliation, error) {
	var res Reconciliation
	if j.deps.Alma == nil {
		return res, fmt.Errorf("reconcile: no Alma API configured")
	}
	jr := j.deps.Journal
	charges, err := queryRecords(ctx, jr.db, `WHERE r.kind = 'charge' AND r.outcome = 'charged' ORDER BY r.user_id, r.key`)
	if err != nil {
		return res, err
	}
	byUser := map[string][]Record{}
	var users []string
	for _, c := range charges {
		if _, ok := byUser[c.UserID]; !ok {
			users = append(users, c.UserID)
		}
		byUser[c.UserID] = append(byUser[c.UserID], c)
	}
	var stated map[string]fees.Money
	if balances != nil {
		if stated, err = balances.Balances(ctx); err != nil {
			return res, fmt.Errorf("reconcile: bursar balances: %w", err)
		}
		for u := range stated {
			if _, ok := byUser[u]; !ok {
				users = append(users, u)
			}
		}
	}
	res.Students = len(users)
	for _, u := range users {
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
		for _, c := range byUser[u] {
			res.Fees++
			_, held, _, err := outstanding(ctx, jr.db, c.Key, "", "")
			if err != nil {
				return res, err
			}
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
		if s, ok := stated[u]; ok && !total.Valid() {
			total = fees.Zero(s.Currency())
		}
		if s, ok := stated[u]; ok && !s.Equal(total) {
			res.Disagreements = append(res.Disagreements, Disagreement{UserID: u, Alma: total, Bursar: s,
				Problem: fmt.Sprintf("the bursar states %s owed, the journal expects %s", s, total)})
		}
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: reconciliation", slog.Int("students", res.Students),
		slog.Int("fees", res.Fees), slog.Int("disagreements", len(res.Disagreements)))
	return res, nil
}
