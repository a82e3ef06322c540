package district

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
)

// PeopleSoft plays PeopleSoft's side around the simulated ledger
// (peoplesoft/pstest): its External File Load picks up the charge files
// feebridge leaves in inbound/ and moves each one to inbound/loaded/, and
// its query report drops the payments taken since the last one in
// outbound/.
type PeopleSoft struct {
	drop   *transport.Drop
	now    func() time.Time
	cur    fees.Currency
	ledger *pstest.Ledger
	// paymentExt ends the names of the payment files: ".csv", or ".dat"
	// for a fixed-width layout (see NewBursar).
	paymentExt string

	// problems are what PeopleSoft could not take: a file delivered
	// twice, a line the ledger held as an exception.
	problems []string
	// results, when set, is the folder where the load writes the results
	// of each file it loaded (refusals.go).
	results string
	// refused counts the lines the load refused for its setup (a student
	// it does not know), which the results tell feesync of.
	refused int
}

var _ reconcile.BursarBalances = (*PeopleSoft)(nil)

// NewPeopleSoft returns PeopleSoft over its folders in drop (inbound/,
// inbound/loaded/ and outbound/), with a ledger that dates what it does
// by now and draws its receipts from seed.
func NewPeopleSoft(drop *transport.Drop, now func() time.Time, c fees.Currency, seed int64) *PeopleSoft {
	return &PeopleSoft{drop: drop, now: now, cur: c, paymentExt: ".csv",
		ledger: pstest.NewLedger(pstest.Options{Seed: seed, Now: now, Currency: c})}
}

// LoadResult is what one run of the file load did.
type LoadResult struct {
	Files, Charges, Credits  int
	ChargeTotal, CreditTotal fees.Money
}

// Load runs PeopleSoft's External File Load on every charge file in
// inbound/ and moves each one to inbound/loaded/ once loaded.
func (b *PeopleSoft) Load(ctx context.Context) (LoadResult, error) {
	res := LoadResult{ChargeTotal: fees.Zero(b.cur), CreditTotal: fees.Zero(b.cur)}
	list, err := b.drop.List(ctx, "inbound")
	if err != nil {
		return res, err
	}
	for _, fi := range list {
		if fi.IsDir || transport.IsTempName(fi.Name) {
			continue
		}
		name := path.Join("inbound", fi.Name)
		data, err := b.drop.ReadFile(ctx, name)
		if err != nil {
			return res, err
		}
		lr, err := b.ledger.LoadChargeFile(fi.Name, bytes.NewReader(data))
		if err != nil {
			return res, fmt.Errorf("PeopleSoft refused %s: %w", fi.Name, err)
		}
		if lr.AlreadyLoaded {
			b.problems = append(b.problems, fmt.Sprintf("PeopleSoft received %s twice (loaded before as %s)", fi.Name, lr.LoadedAs))
		}
		for _, e := range lr.Exceptions {
			if e.Setup && b.results != "" {
				b.refused++ // the results file tells feesync
				continue
			}
			b.problems = append(b.problems, fmt.Sprintf("PeopleSoft held %s:%d (%s, %s): %s", e.File, e.Line, e.Ref, e.Amount, e.Reason))
		}
		if err := b.writeResults(ctx, lr); err != nil {
			return res, err
		}
		if err := b.drop.Rename(ctx, name, path.Join("inbound", "loaded", fi.Name)); err != nil {
			return res, err
		}
		res.Files++
		res.Charges += lr.Charges
		res.Credits += lr.Credits
		res.ChargeTotal = add(res.ChargeTotal, lr.Charged)
		res.CreditTotal = add(res.CreditTotal, lr.Credited)
	}
	return res, nil
}

// Item returns the ledger's item for the charge ref.
func (b *PeopleSoft) Item(ref string) (pstest.Item, bool) { return b.ledger.Item(ref) }

// Balance returns what is left to pay on the charge ref, and whether the
// ledger knows it.
func (b *PeopleSoft) Balance(ref string) (fees.Money, bool) {
	it, ok := b.ledger.Item(ref)
	return it.Balance, ok
}

// Pay takes a payment on the charge ref, by the rules of the channel.
func (b *PeopleSoft) Pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method) (peoplesoft.Payment, error) {
	it, ok := b.ledger.Item(ref)
	if !ok {
		return peoplesoft.Payment{}, fmt.Errorf("PeopleSoft has no charge %s", ref)
	}
	return b.ledger.Pay(it.EmplID, ref, amount, ch, m, time.Time{})
}

// Flush writes the payments taken since the last file to outbound/, as
// PeopleSoft's query report does, and returns the file name and the
// number of payments ("" and 0 when there were none).
func (b *PeopleSoft) Flush(ctx context.Context) (string, int, error) {
	var buf bytes.Buffer
	n, err := b.ledger.WritePayments(&buf)
	if err != nil || n == 0 {
		return "", 0, err
	}
	name := path.Join("outbound", "library-payments-"+b.now().Format("20060102-1504")+b.paymentExt)
	if err := b.drop.WriteFile(ctx, name, buf.Bytes()); err != nil {
		return "", 0, err
	}
	return name, n, nil
}

// Balances is the ledger's own statement of what each student owes for
// library charges, for the reconciliation.
func (b *PeopleSoft) Balances(context.Context) (map[string]fees.Money, error) {
	out := map[string]fees.Money{}
	for _, s := range b.ledger.Students() {
		out[s] = b.ledger.Balance(s)
	}
	return out, nil
}

// Items returns every item of the ledger, student by student.
func (b *PeopleSoft) Items() []pstest.Item {
	var all []pstest.Item
	for _, s := range b.ledger.Students() {
		all = append(all, b.ledger.Items(s)...)
	}
	return all
}

// Open returns the references of the charges with something left to pay.
func (b *PeopleSoft) Open() []string {
	var refs []string
	for _, it := range b.Items() {
		if it.Balance.IsPositive() {
			refs = append(refs, it.Ref)
		}
	}
	return refs
}

// Ledger is the simulated student ledger itself.
func (b *PeopleSoft) Ledger() *pstest.Ledger { return b.ledger }

// Problems are what PeopleSoft could not take so far: a charge file
// delivered twice, a line the ledger held as an exception. In a good week,
// none.
func (b *PeopleSoft) Problems() []string { return b.problems }
