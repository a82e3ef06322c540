package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
)

// bursar plays PeopleSoft's side: the External File Load that reads the
// charge files feebridge leaves in inbound/ (checking their control
// totals), the student ledger, eServices and the cashier taking payments
// by the rules (R4), and the query report that drops payment files in
// outbound/.
//
// Each charge is kept by its reference (the Alma bursar transaction id in
// REF1_DESCR). A file is loaded once: by name, and by content.
type bursar struct {
	drop     *transport.Drop
	now      func() time.Time
	currency fees.Currency

	charges map[string]*account
	order   []string // references in the order they were charged
	seen    map[string]bool
	pending []peoplesoft.Payment
	receipt int

	// What the ledger has done, for the timeline and the tables.
	loadedFiles, loadedCharges, loadedCredits int
	chargedTotal, creditedTotal               fees.Money
	paid                                      map[fees.Channel][]peoplesoft.Payment
}

type account struct {
	emplID, itemType string
	charged          fees.Money
	credited         fees.Money // positive
	paid             fees.Money
	left             fees.Money
}

var _ reconcile.BursarBalances = (*bursar)(nil)

func newBursar(drop *transport.Drop, now func() time.Time, c fees.Currency) *bursar {
	return &bursar{drop: drop, now: now, currency: c, charges: map[string]*account{}, seen: map[string]bool{},
		chargedTotal: fees.Zero(c), creditedTotal: fees.Zero(c), paid: map[fees.Channel][]peoplesoft.Payment{}}
}

// errRefused is a payment that eServices or the cashier would not take.
var errRefused = errors.New("payment refused")

// loadResult is what one run of the file load did.
type loadResult struct {
	files, charges, credits  int
	chargeTotal, creditTotal fees.Money
}

// load runs PeopleSoft's External File Load on every charge file in
// inbound/ and moves each one to inbound/loaded/ once applied.
func (b *bursar) load(ctx context.Context) (loadResult, error) {
	res := loadResult{chargeTotal: fees.Zero(b.currency), creditTotal: fees.Zero(b.currency)}
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
		sum := sha256.Sum256(data)
		key := hex.EncodeToString(sum[:])
		if b.seen[fi.Name] || b.seen[key] {
			return res, fmt.Errorf("peoplesoft: %s: loaded before (by name or content); a file must reach PeopleSoft once", fi.Name)
		}
		lines, err := b.decode(fi.Name, data)
		if err != nil {
			return res, err
		}
		for _, ch := range lines {
			if err := b.apply(fi.Name, ch); err != nil {
				return res, err
			}
			if ch.Amount.IsPositive() {
				res.charges++
				res.chargeTotal, _ = res.chargeTotal.Add(ch.Amount)
			} else {
				res.credits++
				res.creditTotal, _ = res.creditTotal.Add(ch.Amount.Neg())
			}
		}
		if err := b.drop.Rename(ctx, name, path.Join("inbound", "loaded", fi.Name)); err != nil {
			return res, err
		}
		b.seen[fi.Name], b.seen[key] = true, true
		res.files++
	}
	b.loadedFiles += res.files
	b.loadedCharges += res.charges
	b.loadedCredits += res.credits
	b.chargedTotal, _ = b.chargedTotal.Add(res.chargeTotal)
	b.creditedTotal, _ = b.creditedTotal.Add(res.creditTotal)
	return res, nil
}

// decode reads a whole charge file; its trailer is checked before any
// line is applied.
func (b *bursar) decode(name string, data []byte) ([]peoplesoft.Charge, error) {
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), peoplesoft.ReferenceChargeLayout(),
		&peoplesoft.DecodeOptions{File: name, Currency: b.currency})
	var lines []peoplesoft.Charge
	for {
		ch, err := dec.Decode()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		lines = append(lines, ch)
	}
}

func (b *bursar) apply(file string, ch peoplesoft.Charge) error {
	a := b.charges[ch.Ref]
	switch {
	case ch.Amount.IsPositive() && a == nil:
		b.charges[ch.Ref] = &account{emplID: ch.EmplID, itemType: ch.ItemType, charged: ch.Amount, left: ch.Amount,
			credited: fees.Zero(b.currency), paid: fees.Zero(b.currency)}
		b.order = append(b.order, ch.Ref)
	case ch.Amount.IsPositive():
		return fmt.Errorf("peoplesoft: %s: charge %s loaded twice", file, ch.Ref)
	case a == nil:
		return fmt.Errorf("peoplesoft: %s: credit for unknown charge %s", file, ch.Ref)
	default:
		left, _ := a.left.Add(ch.Amount)
		if left.IsNegative() {
			return fmt.Errorf("peoplesoft: %s: credit of %s on charge %s leaves %s", file, ch.Amount.Neg(), ch.Ref, left)
		}
		a.left = left
		a.credited, _ = a.credited.Add(ch.Amount.Neg())
	}
	return nil
}

// balance returns what is left to pay on the charge ref, and whether the
// ledger knows it.
func (b *bursar) balance(ref string) (fees.Money, bool) {
	a := b.charges[ref]
	if a == nil {
		return fees.Money{}, false
	}
	return a.left, true
}

// pay takes a payment on the charge ref: eServices only in full, the
// cashier any positive amount up to what is left.
func (b *bursar) pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method) (peoplesoft.Payment, error) {
	a := b.charges[ref]
	if a == nil {
		return peoplesoft.Payment{}, fmt.Errorf("peoplesoft: charge %s: %w: unknown charge", ref, errRefused)
	}
	c, _ := amount.Cmp(a.left)
	switch {
	case !amount.IsPositive() || c > 0:
		return peoplesoft.Payment{}, fmt.Errorf("peoplesoft: charge %s: %w: %s with %s left", ref, errRefused, amount, a.left)
	case ch == fees.ChannelEServices && c != 0:
		return peoplesoft.Payment{}, fmt.Errorf("peoplesoft: charge %s: %w: eServices pays %s in full, not %s", ref, errRefused, a.left, amount)
	}
	a.left, _ = a.left.Sub(amount)
	a.paid, _ = a.paid.Add(amount)
	b.receipt++
	p := peoplesoft.Payment{EmplID: a.emplID, Ref: ref, ItemType: a.itemType, ChargeAmt: a.charged,
		PaidAmt: amount, PaidDate: b.now(), Channel: ch, Method: m, Receipt: fmt.Sprintf("R%08d", b.receipt)}
	b.pending = append(b.pending, p)
	b.paid[ch] = append(b.paid[ch], p)
	return p, nil
}

// flush writes the payments taken since the last file to outbound/, as
// PeopleSoft's query report does, and returns the file name and the
// number of payments ("" and 0 when there were none).
func (b *bursar) flush(ctx context.Context) (string, int, error) {
	if len(b.pending) == 0 {
		return "", 0, nil
	}
	var buf bytes.Buffer
	enc := peoplesoft.NewPaymentEncoder(&buf, peoplesoft.ReferencePaymentLayout(), b.now())
	for _, p := range b.pending {
		if err := enc.Encode(p); err != nil {
			return "", 0, err
		}
	}
	if err := enc.Close(); err != nil {
		return "", 0, err
	}
	name := path.Join("outbound", "library-payments-"+b.now().Format("20060102-1504")+".csv")
	if err := b.drop.WriteFile(ctx, name, buf.Bytes()); err != nil {
		return "", 0, err
	}
	n := len(b.pending)
	b.pending = nil
	return name, n, nil
}

// Balances is the ledger's own statement of what each student owes for
// library charges, for the reconciliation.
func (b *bursar) Balances(context.Context) (map[string]fees.Money, error) {
	out := map[string]fees.Money{}
	for _, ref := range b.order {
		a := b.charges[ref]
		if s, ok := out[a.emplID]; ok {
			out[a.emplID], _ = s.Add(a.left)
		} else {
			out[a.emplID] = a.left
		}
	}
	return out, nil
}

// refs returns the references of the student's charges with something
// left to pay, in the order they were charged.
func (b *bursar) open() []string {
	return slices.DeleteFunc(slices.Clone(b.order), func(ref string) bool { return !b.charges[ref].left.IsPositive() })
}
