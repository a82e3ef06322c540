package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/transport"
)

// ledger is a small stand-in for the PeopleSoft student ledger: it loads
// the charge files feebridge publishes in inbound/ (checking their control
// totals), takes eServices and cashier payments by the rules, and writes
// payment files to outbound/. Each charge is kept by its reference.
type ledger struct {
	drop    *transport.Drop
	charges map[string]*ledgerCharge
	pending []peoplesoft.Payment
	loaded  int
	receipt int
	now     func() time.Time
}

type ledgerCharge struct {
	emplID, itemType string
	charged          fees.Money
	left             fees.Money
}

func newLedger(drop *transport.Drop, now func() time.Time) *ledger {
	return &ledger{drop: drop, charges: map[string]*ledgerCharge{}, now: now}
}

// load applies every charge file in inbound/ and moves it to inbound/loaded/.
func (l *ledger) load(ctx context.Context) error {
	list, err := l.drop.List(ctx, "inbound")
	if err != nil {
		return err
	}
	if err := l.drop.MkdirAll(ctx, "inbound/loaded"); err != nil {
		return err
	}
	for _, fi := range list {
		if fi.IsDir {
			continue
		}
		name := path.Join("inbound", fi.Name)
		data, err := l.drop.ReadFile(ctx, name)
		if err != nil {
			return err
		}
		dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), peoplesoft.ReferenceChargeLayout(), &peoplesoft.DecodeOptions{File: fi.Name})
		var lines []peoplesoft.Charge
		for {
			ch, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("ledger: %s: %w", fi.Name, err)
			}
			lines = append(lines, ch)
		}
		for _, ch := range lines {
			c := l.charges[ch.Ref]
			switch {
			case ch.Amount.IsPositive() && c == nil:
				l.charges[ch.Ref] = &ledgerCharge{emplID: ch.EmplID, itemType: ch.ItemType, charged: ch.Amount, left: ch.Amount}
			case ch.Amount.IsPositive():
				return fmt.Errorf("ledger: %s: charge %s loaded twice", fi.Name, ch.Ref)
			case c == nil:
				return fmt.Errorf("ledger: %s: credit for unknown charge %s", fi.Name, ch.Ref)
			default:
				left, _ := c.left.Add(ch.Amount)
				if left.IsNegative() {
					return fmt.Errorf("ledger: %s: credit %s below zero", fi.Name, ch.Ref)
				}
				c.left = left
			}
		}
		if err := l.drop.Rename(ctx, name, path.Join("inbound/loaded", fi.Name)); err != nil {
			return err
		}
		l.loaded++
	}
	return nil
}

// pay takes a payment of amount on the charge ref.
func (l *ledger) pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method) error {
	c := l.charges[ref]
	if c == nil {
		return fmt.Errorf("ledger: no charge %s", ref)
	}
	cmp, _ := amount.Cmp(c.left)
	if cmp > 0 || !amount.IsPositive() || (ch == fees.ChannelEServices && cmp != 0) {
		return errors.New("ledger: payment refused")
	}
	c.left, _ = c.left.Sub(amount)
	l.receipt++
	l.pending = append(l.pending, peoplesoft.Payment{EmplID: c.emplID, Ref: ref, ItemType: c.itemType, ChargeAmt: c.charged,
		PaidAmt: amount, PaidDate: l.now(), Channel: ch, Method: m, Receipt: fmt.Sprintf("R%06d", l.receipt)})
	return nil
}

// flush writes the pending payments to outbound/, as PeopleSoft's query
// report, and returns the file name ("" when there were none).
func (l *ledger) flush(ctx context.Context) (string, error) {
	if len(l.pending) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	enc := peoplesoft.NewPaymentEncoder(&b, peoplesoft.ReferencePaymentLayout(), l.now())
	for _, p := range l.pending {
		if err := enc.Encode(p); err != nil {
			return "", err
		}
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	name := "outbound/payments-" + l.now().Format("20060102-150405") + ".csv"
	l.pending = nil
	return name, l.drop.WriteFile(ctx, name, b.Bytes())
}

// owed returns what each student owes, by EMPLID.
func (l *ledger) owed() map[string]string {
	sum := map[string]fees.Money{}
	for _, c := range l.charges {
		if s, ok := sum[c.emplID]; ok {
			sum[c.emplID], _ = s.Add(c.left)
		} else {
			sum[c.emplID] = c.left
		}
	}
	out := map[string]string{}
	keys := make([]string, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = sum[k].String()
	}
	return out
}
