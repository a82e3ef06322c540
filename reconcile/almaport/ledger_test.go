package almaport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
	"github.com/feebridge/feebridge/transport"
)

// ledger plays PeopleSoft over the bursar drop with the simulated ledger of
// package pstest: it loads the charge files feebridge publishes in
// inbound/ (moving them to inbound/loaded/), takes payments by the rules,
// and writes payment files to outbound/.
type ledger struct {
	drop *transport.Drop
	l    *pstest.Ledger
	now  func() time.Time
}

func newLedger(drop *transport.Drop, now func() time.Time) *ledger {
	return &ledger{drop: drop, l: pstest.NewLedger(pstest.Options{Seed: 11, Now: now}), now: now}
}

// load loads every charge file in inbound/; a file refused or a line held
// as an exception is an error, since feebridge must never send either.
func (p *ledger) load(ctx context.Context) error {
	list, err := p.drop.List(ctx, "inbound")
	if err != nil {
		return err
	}
	if err := p.drop.MkdirAll(ctx, "inbound/loaded"); err != nil {
		return err
	}
	for _, fi := range list {
		if fi.IsDir {
			continue
		}
		name := path.Join("inbound", fi.Name)
		data, err := p.drop.ReadFile(ctx, name)
		if err != nil {
			return err
		}
		res, err := p.l.LoadChargeFile(fi.Name, bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if len(res.Exceptions) > 0 {
			return fmt.Errorf("ledger: %s: exceptions %+v", fi.Name, res.Exceptions)
		}
		if err := p.drop.Rename(ctx, name, path.Join("inbound/loaded", fi.Name)); err != nil {
			return err
		}
	}
	return nil
}

// pay takes a payment of amount on the charge ref.
func (p *ledger) pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method) error {
	it, ok := p.l.Item(ref)
	if !ok {
		return errors.New("ledger: no item " + ref)
	}
	_, err := p.l.Pay(it.EmplID, ref, amount, ch, m, p.now())
	return err
}

// flush writes the payments not yet written to one file in outbound/.
func (p *ledger) flush(ctx context.Context) (string, error) {
	var b bytes.Buffer
	n, err := p.l.WritePayments(&b)
	if err != nil || n == 0 {
		return "", err
	}
	name := "outbound/payments-" + p.now().Format("20060102-150405") + ".csv"
	return name, p.drop.WriteFile(ctx, name, b.Bytes())
}

// items is how many charges the ledger holds.
func (p *ledger) items() int { return p.l.Totals().Items }

// owed returns what each student owes, by EMPLID.
func (p *ledger) owed() map[string]string {
	out := map[string]string{}
	for _, s := range p.l.Students() {
		out[s] = p.l.Balance(s).String()
	}
	return out
}

// Balances states what each student owes, as a campus's balance file
// would: the ledger is a reconcile.BursarBalances.
func (p *ledger) Balances(context.Context) (map[string]fees.Money, error) {
	out := map[string]fees.Money{}
	for _, s := range p.l.Students() {
		out[s] = p.l.Balance(s)
	}
	return out, nil
}
