package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// fakeAlma is a small in-memory stand-in for reconcile.AlmaAPI.
type fakeAlma struct {
	mu       sync.Mutex
	fees     map[string][]*fees.Fee // by user
	loans    map[string]reconcile.Loan
	lost     map[string]bool // by barcode
	blocks   map[string]int  // removals by user
	waives   int
	failNext error                        // returned by the next Waive
	onLoan   func()                       // when set, called as GetLoan starts
	onList   func(statuses []fees.Status) // when set, called as ListFees starts
	listErr  error                        // when set, returned by every ListFees (Alma down)
	itemErr  map[string]error             // by barcode: returned by ItemLost
}

// concurrency returns a hook for onLoan or onList that holds each call
// until want calls are in at once (or a moment has passed: fewer may come),
// and the function that tells the most calls that were in at once.
func concurrency(want int) (hook func(), most func() int) {
	var (
		mu         sync.Mutex
		inside, mx int
		closed     bool
	)
	all := make(chan struct{})
	hook = func() {
		mu.Lock()
		inside++
		mx = max(mx, inside)
		if inside == want && !closed {
			close(all)
			closed = true
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(300 * time.Millisecond):
		}
		mu.Lock()
		inside--
		mu.Unlock()
	}
	return hook, func() int {
		mu.Lock()
		defer mu.Unlock()
		return mx
	}
}

func newFakeAlma() *fakeAlma {
	return &fakeAlma{fees: map[string][]*fees.Fee{}, loans: map[string]reconcile.Loan{}, lost: map[string]bool{}, blocks: map[string]int{}}
}

// add adds a transferred fee.
func (a *fakeAlma) add(user, id, txid string, typ fees.Type, barcode, amount string) *fees.Fee {
	f, err := fees.NewFee(id, typ, user, usd(amount), day(0))
	if err != nil {
		panic(err)
	}
	f.TransactionID, f.Item.Barcode = txid, barcode
	if err := f.Transfer(day(0)); err != nil {
		panic(err)
	}
	a.fees[user] = append(a.fees[user], f)
	return f
}

func (a *fakeAlma) find(user, id string) (*fees.Fee, error) {
	for _, f := range a.fees[user] {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, fees.Errorf(fees.ENOTFOUND, "fee %s not found", id)
}

func (a *fakeAlma) ListFees(ctx context.Context, user string, st ...fees.Status) ([]fees.Fee, error) {
	if a.onList != nil {
		a.onList(st)
	}
	if a.listErr != nil {
		return nil, a.listErr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []fees.Fee
	for _, f := range a.fees[user] {
		if len(st) == 0 || slices.Contains(st, f.Status) {
			out = append(out, *f)
		}
	}
	return out, nil
}

func (a *fakeAlma) GetFee(ctx context.Context, user, id string) (fees.Fee, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := a.find(user, id)
	if err != nil {
		return fees.Fee{}, err
	}
	return *f, nil
}

func (a *fakeAlma) Waive(ctx context.Context, user, id string, amount fees.Money, reason, comment string) (fees.Fee, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.failNext; err != nil {
		a.failNext = nil
		return fees.Fee{}, err
	}
	f, err := a.find(user, id)
	if err != nil {
		return fees.Fee{}, err
	}
	if err := f.Waive(fees.Waiver{FeeID: id, Amount: amount, Reason: reason, Comment: comment, Date: day(0)}); err != nil {
		return fees.Fee{}, err
	}
	a.waives++
	return *f, nil
}

// pay applies a payment imported from the bursar.
func (a *fakeAlma) pay(user, id, amount string) {
	f, err := a.find(user, id)
	if err != nil {
		panic(err)
	}
	if err := f.Pay(fees.Payment{FeeID: id, Amount: usd(amount), Channel: fees.ChannelCashier, Method: fees.MethodCash, Date: day(1)}); err != nil {
		panic(err)
	}
}

func (a *fakeAlma) RemoveFeeBlocks(ctx context.Context, user string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.blocks[user]++
	return nil
}

func (a *fakeAlma) GetLoan(ctx context.Context, user, loan string) (reconcile.Loan, error) {
	if a.onLoan != nil {
		a.onLoan()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.loans[loan]
	if !ok || l.UserID != user {
		return reconcile.Loan{}, fmt.Errorf("loan %s: %w", loan, errors.New("not found"))
	}
	return l, nil
}

func (a *fakeAlma) ItemLost(ctx context.Context, barcode string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.itemErr[barcode]; err != nil {
		return false, err
	}
	return a.lost[barcode], nil
}
