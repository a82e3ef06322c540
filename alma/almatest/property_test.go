package almatest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestRandomActionsKeepBalances plays random sequences of staff actions,
// exports and bursar imports: after every step each fee's balances add up
// (R3), every export carries each fee's balance of the moment, and in the
// end package alma's client reads every fee as the fake holds it.
func TestRandomActionsKeepBalances(t *testing.T) {
	users := []string{"0123456", "0987654"}
	var applied, exported, credited int
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			w := newWorld(t, &almatest.Options{PartialWaiveBeforeTransfer: seed%2 == 0})
			ctx := t.Context()
			drop := memdrop.New()
			cents := func(max int64) fees.Money { return fees.FromMinor(1+rng.Int64N(max), fees.USD) }
			pick := func() (fees.Fee, bool) {
				all := w.srv.AllFees()
				if len(all) == 0 {
					return fees.Fee{}, false
				}
				return all[rng.IntN(len(all))], true
			}
			imports := 0
			for step := range 80 {
				w.clock.Advance(time.Duration(1+rng.IntN(180)) * time.Minute)
				f, ok := pick()
				var err error
				switch op := rng.IntN(9); {
				case op == 0 || !ok:
					_, err = w.srv.AddFee(users[rng.IntN(2)], almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: cents(5000)})
				case op == 1:
					_, err = w.srv.PayAtDesk(f.UserID, f.ID, cents(3000), "CASH", "")
				case op == 2:
					amount := f.Balance
					if rng.IntN(2) == 0 {
						amount = cents(3000)
					}
					_, err = w.srv.Waive(f.UserID, f.ID, amount, "LIBRARY_ERROR", "")
				case op == 3:
					if f.Status == fees.StatusInDispute {
						_, err = w.srv.Restore(f.UserID, f.ID, "")
					} else {
						_, err = w.srv.Dispute(f.UserID, f.ID, "CLAIM", "")
					}
				case op == 4:
					before := map[string]fees.Money{}
					for _, f := range w.srv.AllFees() {
						before[f.ID] = f.Balance
					}
					var res almatest.ExportResult
					res, err = w.srv.RunExport(ctx, drop, "out", "BURSAR")
					exported += len(res.Records)
					for _, r := range res.Records {
						if !r.Amount.Equal(before[r.FeeID]) {
							t.Errorf("step %d: fee %s exported at %s, its balance was %s", step, r.FeeID, r.Amount, before[r.FeeID])
						}
					}
				case op == 5:
					var res almatest.ExportResult
					res, err = w.srv.RunCreditExport(ctx, drop, "credits", "BURSAR")
					credited += len(res.Records)
				default: // a bursar payment, sometimes above the balance
					imports++
					var buf bytes.Buffer
					enc := alma.NewImportEncoder(&buf, nil)
					enc.Encode(alma.ImportRecord{Patron: alma.Patron{ID: f.UserID}, Type: f.Type, Amount: cents(4000), TransactionID: f.TransactionID, LastTransaction: paidAt})
					if err := enc.Close(); err != nil {
						t.Fatal(err)
					}
					if err := drop.MkdirAll(ctx, "in"); err != nil {
						t.Fatal(err)
					}
					if err := drop.WriteFile(ctx, fmt.Sprintf("in/p-%04d.xml", imports), buf.Bytes()); err != nil {
						t.Fatal(err)
					}
					var res almatest.ImportResult
					res, err = w.srv.RunImport(ctx, drop, "in")
					applied += len(res.Applied())
					if n := len(res.Applied()) + len(res.Rejected()); err == nil && n != 1 {
						t.Errorf("step %d: the import accounted for %d records, want 1", step, n)
					}
				}
				var ae *almatest.Error
				if err != nil && !asAlmatestError(err, &ae) {
					t.Fatalf("step %d: %v", step, err)
				}
				for _, f := range w.srv.AllFees() {
					if err := f.Check(); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
				}
			}
			c := w.client(t, 0)
			for _, u := range users {
				got, err := c.ListFees(ctx, u, 0)
				if err != nil {
					t.Fatal(err)
				}
				closed, err := c.ListFees(ctx, u, fees.StatusClosed)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, closed...)
				var want []fees.Fee
				for _, f := range w.srv.Fees(u) {
					want = append(want, asSeenByREST(f))
				}
				sortByID(got)
				sortByID(want)
				if d := cmp.Diff(want, got, feeCmp); d != "" {
					t.Errorf("user %s (-fake +client):\n%s", u, d)
				}
			}
		})
	}
	if applied == 0 || exported == 0 || credited == 0 {
		t.Errorf("the runs applied %d payments, exported %d fees and %d credits: some path was never taken", applied, exported, credited)
	}
}

func asAlmatestError(err error, target **almatest.Error) bool {
	e, ok := err.(*almatest.Error)
	if ok {
		*target = e
	}
	return ok
}
