package peoplesoft

import (
	"fmt"
	"hash/maphash"
	"io"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Payment is one line of a payment file: money the bursar took against
// one charge.
type Payment struct {
	EmplID    string
	Ref       string // REF1_DESCR: the Alma bursar transaction id of the charge
	ItemType  string
	ChargeAmt fees.Money // the amount charged, when the file carries it
	PaidAmt   fees.Money // positive
	PaidDate  time.Time
	Channel   fees.Channel // ESERVICES or CASHIER
	Method    fees.Method
	Receipt   string // RECEIPT_NBR
	Line      int    // the line it was read from (set by the decoder)
}

// Key identifies the payment (R6): RECEIPT_NBR + "/" + REF1_DESCR + "/" +
// ITEM_TYPE. The rule's key is the receipt and the reference; it is
// qualified by the item type because Alma may give one bursar transaction
// id to several fees of different types (see [fees.ChargeKey]), and
// PeopleSoft tells their charges apart by (REF1_DESCR, ITEM_TYPE). One
// receipt may pay several charges, one line each.
func (p Payment) Key() string { return p.Receipt + "/" + p.Ref + "/" + p.ItemType }

// FeesPayment returns p as a domain payment for the charge with
// bursar transaction id p.Ref (and item type p.ItemType).
func (p Payment) FeesPayment() fees.Payment {
	return fees.Payment{
		Key:           p.Key(),
		TransactionID: p.Ref,
		UserID:        p.EmplID,
		Amount:        p.PaidAmt,
		Channel:       p.Channel,
		Method:        p.Method,
		Receipt:       p.Receipt,
		Date:          p.PaidDate,
	}
}

// keySet remembers the payment keys of one file by hash, so that a file
// of a million payments needs 16 or 32 MB rather than the keys themselves.
// The receipt, the reference and the item type are hashed apart under
// independent seeds, and an entry keeps 96 bits mixed from the hashes: two different keys
// pass for one with a probability near 2⁻⁹⁶. It is an open-addressing
// table with linear probing, which costs one cache miss per key where a Go
// map costs several.
type keySet struct {
	sr, sf, si maphash.Seed
	slots      []keyEntry // len is a power of two; mix 0 means empty
	n          int
}

type keyEntry struct {
	mix   uint64
	check uint32
	line  uint32
}

func newKeySet() *keySet {
	return &keySet{sr: maphash.MakeSeed(), sf: maphash.MakeSeed(), si: maphash.MakeSeed(), slots: make([]keyEntry, 1<<8)}
}

// add records the key at line and returns the line where it was first
// seen, or 0 if it is new.
func (k *keySet) add(receipt, ref, itemType string, line int) int {
	a := maphash.String(k.sr, receipt)
	b := maphash.String(k.sf, ref) ^ maphash.String(k.si, itemType)*0xFF51AFD7ED558CCD
	mix := a*0x9E3779B97F4A7C15 ^ b
	check := uint32((b*0xC2B2AE3D27D4EB4F ^ a) >> 32)
	if mix == 0 {
		mix = 1
	}
	mask := uint64(len(k.slots) - 1)
	i := mix & mask
	for k.slots[i].mix != 0 {
		if e := k.slots[i]; e.mix == mix && e.check == check {
			return int(e.line)
		}
		i = (i + 1) & mask
	}
	k.slots[i] = keyEntry{mix: mix, check: check, line: uint32(min(line, 1<<32-1))}
	if k.n++; k.n*4 > len(k.slots)*3 {
		k.grow()
	}
	return 0
}

func (k *keySet) grow() {
	old := k.slots
	k.slots = make([]keyEntry, 2*len(old))
	mask := uint64(len(k.slots) - 1)
	for _, e := range old {
		if e.mix == 0 {
			continue
		}
		i := e.mix & mask
		for k.slots[i].mix != 0 {
			i = (i + 1) & mask
		}
		k.slots[i] = e
	}
}

// PaymentDecoder reads a payment file in a layout.
//
// Decode returns the payments one by one. A bad record returns a
// *[ParseError] whose Err wraps the cause ([ErrAmount], [ErrDate],
// [ErrChannel], [ErrMethod], [ErrDuplicate], …) and decoding goes on with
// the next record; the Payment returned with it holds what could be read
// of the record (its key and student always, its amount when it was
// read), never to be sent, so that the record can be held with them. A problem with the whole file (a bad header row, a
// trailer that disagrees, a file above MaxBytes, a read error) is returned
// by Decode and every later call.
type PaymentDecoder struct {
	d    *decoder
	keys *keySet
}

// NewPaymentDecoder returns a decoder that reads a payment file in layout
// l from r. opts may be nil.
func NewPaymentDecoder(r io.Reader, l *Layout, opts *DecodeOptions) *PaymentDecoder {
	pd := &PaymentDecoder{d: newDecoder(r, l, KindPayments, opts)}
	if opts == nil || !opts.AllowDuplicates {
		pd.keys = newKeySet()
	}
	return pd
}

// Decode returns the next payment, or io.EOF after the last one (once the
// trailer, if the layout has one, has been checked).
func (pd *PaymentDecoder) Decode() (Payment, error) {
	d := pd.d
	if err := d.next(); err != nil {
		return Payment{}, err
	}
	p := Payment{Line: d.rr.line}
	paid, charged, err := pd.read(&p)
	if err != nil {
		return pd.partial(p, paid), err
	}
	if err := pd.check(&p, paid, charged); err != nil {
		return pd.partial(p, paid), err
	}
	p.PaidAmt = d.money.get(paid)
	if charged >= 0 {
		p.ChargeAmt = d.money.get(charged)
	}
	return p, nil
}

// partial returns what could be read of a bad record, p as far as read
// got (paid, when read), with its key and student: EMPLID, REF1_DESCR,
// ITEM_TYPE and RECEIPT_NBR as they stand in the record, whichever field
// was bad. The jobs hold the record under its line, and remember the key
// it was read as, so that the corrected payment supersedes it.
func (pd *PaymentDecoder) partial(p Payment, paid int64) Payment {
	rr := pd.d.rr
	for i := range rr.rec.fields {
		p.setText(rr.rec.fields[i].role, rr.vals[i])
	}
	if paid > 0 {
		p.PaidAmt = pd.d.money.get(paid)
	}
	return p
}

// setText sets the text field of p that role names (EMPLID, REF1_DESCR,
// ITEM_TYPE, RECEIPT_NBR) to v, and reports whether role was one of them.
func (p *Payment) setText(r role, v string) bool {
	switch r {
	case roleEmplID:
		p.EmplID = v
	case roleRef:
		p.Ref = v
	case roleItemType:
		p.ItemType = v
	case roleReceipt:
		p.Receipt = v
	default:
		return false
	}
	return true
}

// read fills p from the fields of the record just read, and returns the
// amounts paid and charged in minor units (charged is -1 when the layout
// has no CHARGE_AMT); on an error, those read before it.
func (pd *PaymentDecoder) read(p *Payment) (paid, charged int64, err error) {
	d := pd.d
	rr := d.rr
	charged = -1
	for i := range rr.rec.fields {
		f := &rr.rec.fields[i]
		v := rr.vals[i]
		if p.setText(f.role, v) {
			continue
		}
		switch f.role {
		case roleChargeAmt, rolePaidAmt:
			u, err := rr.amountOf(i)
			if err != nil {
				return paid, charged, rr.perr(rr.line, f.name, err)
			}
			if u <= 0 {
				return paid, charged, rr.perr(rr.line, f.name, fmt.Errorf("%w: %q: must be positive", ErrAmount, v))
			}
			if f.role == rolePaidAmt {
				// Every line whose amount reads counts in the trailer's
				// total, as in the sender's, even when a later rule holds it.
				if err := d.ctl.sum(u); err != nil {
					return 0, 0, rr.perr(rr.line, f.name, err)
				}
				paid = u
			} else {
				charged = u
			}
		case rolePaidDate:
			if v == "" {
				return paid, charged, rr.perr(rr.line, f.name, ErrMissing)
			}
			t, err := d.dates[i].parse(v, f.format)
			if err != nil {
				return paid, charged, rr.perr(rr.line, f.name, err)
			}
			p.PaidDate = t
		case roleChannel:
			if p.Channel, err = parseChannel(f.valueOf(v), v); err != nil {
				return paid, charged, rr.perr(rr.line, f.name, err)
			}
		case roleMethod:
			if p.Method, err = parseMethod(f.valueOf(v), v); err != nil {
				return paid, charged, rr.perr(rr.line, f.name, err)
			}
		}
	}
	return paid, charged, nil
}

// parseChannel reads the channel name, read from the file as raw.
func parseChannel(name, raw string) (fees.Channel, error) {
	switch name {
	case "ESERVICES":
		return fees.ChannelEServices, nil
	case "CASHIER":
		return fees.ChannelCashier, nil
	}
	return 0, fmt.Errorf("%w: %q: want ESERVICES or CASHIER", ErrChannel, raw)
}

// parseMethod reads the method name, read from the file as raw.
func parseMethod(name, raw string) (fees.Method, error) {
	switch name {
	case "CREDIT_CARD":
		return fees.MethodCreditCard, nil
	case "CASH":
		return fees.MethodCash, nil
	case "CHECK":
		return fees.MethodCheck, nil
	}
	return 0, fmt.Errorf("%w: %q: want CREDIT_CARD, CASH or CHECK", ErrMethod, raw)
}

// check applies the rules of a payment record as a whole: the keys are
// there, eServices takes cards only, no more is paid than charged, and
// (unless duplicates are allowed) the payment's key is new in the file.
func (pd *PaymentDecoder) check(p *Payment, paid, charged int64) error {
	d := pd.d
	rr := d.rr
	for _, req := range [...]struct{ name, v string }{{"EMPLID", p.EmplID}, {"REF1_DESCR", p.Ref}, {"RECEIPT_NBR", p.Receipt}} {
		if req.v == "" {
			return rr.perr(rr.line, req.name, ErrMissing)
		}
	}
	if p.Channel == fees.ChannelEServices && p.Method != fees.MethodCreditCard {
		return rr.perr(rr.line, "METHOD", fmt.Errorf("%w: eServices takes credit cards only, not %s", ErrMethod, p.Method))
	}
	cur := d.c.currency
	// A line paying more than its own CHARGE_AMT is malformed, whatever
	// the balance: a check of the record, in minor units on the hot path.
	// R4 against what is left to pay is fees.CheckPayment's, in the jobs.
	if charged >= 0 && paid > charged {
		return rr.perr(rr.line, "PAID_AMT", fmt.Errorf("%w: paid %s is more than the charge of %s", ErrAmount,
			fees.FromMinor(paid, cur).Amount(), fees.FromMinor(charged, cur).Amount()))
	}
	if pd.keys != nil { // nil with AllowDuplicates
		if first := pd.keys.add(p.Receipt, p.Ref, p.ItemType, rr.line); first != 0 {
			return rr.perr(rr.line, "RECEIPT_NBR", fmt.Errorf("%w: receipt %s for %s item type %s is also on line %d", ErrDuplicate, p.Receipt, p.Ref, p.ItemType, first))
		}
	}
	return nil
}

// Created returns the creation time in the file's header, if its layout
// has one, once the header has been read.
func (pd *PaymentDecoder) Created() time.Time { return pd.d.created }

// PaymentEncoder writes a payment file in a layout; the simulated ledger
// uses it. It refuses a payment whose key it already wrote.
type PaymentEncoder struct {
	encoder
	cur     *Payment
	p       Payment // the payment being written; cur points here
	paid    int64
	charged int64
	keys    map[string]bool
}

// NewPaymentEncoder returns an encoder that writes to w in layout l, with
// created as the file's creation time in its header, if it has one.
func NewPaymentEncoder(w io.Writer, l *Layout, created time.Time) *PaymentEncoder {
	e := &PaymentEncoder{keys: make(map[string]bool)}
	e.open(w, l, KindPayments, created)
	return e
}

// Encode writes one payment. A payment that cannot be written returns an
// *[EncodeError] and writes nothing.
func (e *PaymentEncoder) Encode(p Payment) error {
	if err := e.start(e); err != nil {
		return err
	}
	fail := func(field string, err error) error { return &EncodeError{Ref: p.Ref, Field: field, Err: err} }
	paid, err := minorOf(p.PaidAmt, e.c.currency)
	if err != nil {
		return fail("PAID_AMT", err)
	}
	if paid <= 0 {
		return fail("PAID_AMT", fmt.Errorf("%w: must be positive", ErrAmount))
	}
	e.charged = 0
	if e.c.detail.has(roleChargeAmt) {
		if e.charged, err = minorOf(p.ChargeAmt, e.c.currency); err != nil {
			return fail("CHARGE_AMT", err)
		}
	}
	switch {
	case p.EmplID == "":
		return fail("EMPLID", ErrMissing)
	case p.Ref == "":
		return fail("REF1_DESCR", ErrMissing)
	case p.Receipt == "":
		return fail("RECEIPT_NBR", ErrMissing)
	case p.Channel != fees.ChannelEServices && p.Channel != fees.ChannelCashier:
		return fail("CHANNEL", fmt.Errorf("%w: %s", ErrChannel, p.Channel))
	case p.Method < fees.MethodCreditCard || p.Method > fees.MethodCheck:
		return fail("METHOD", fmt.Errorf("%w: %s", ErrMethod, p.Method))
	case p.PaidDate.IsZero():
		return fail("PAID_DATE", ErrMissing)
	case e.keys[p.Key()]:
		return fail("RECEIPT_NBR", fmt.Errorf("%w: %s", ErrDuplicate, p.Key()))
	}
	e.p = p
	e.cur, e.paid = &e.p, paid
	field, err := e.rw.encode(e.c.detail, e)
	e.cur = nil
	if err != nil {
		if field != "" {
			return fail(field, err)
		}
		e.err = err
		return err
	}
	e.keys[p.Key()] = true
	return e.ctl.add(paid)
}

// WithTrailer makes Close write the layout's trailer also when it is
// optional (the reference layout's is), and returns e.
func (e *PaymentEncoder) WithTrailer() *PaymentEncoder {
	e.trailer = true
	return e
}

// Count returns the number of payments written so far.
func (e *PaymentEncoder) Count() int { return int(e.ctl.count) }

// Total returns the sum of PAID_AMT written so far.
func (e *PaymentEncoder) Total() fees.Money { return e.total() }

// Close writes the trailer, if the layout has one, flushes, and returns
// the first error met. It does not close the underlying writer.
func (e *PaymentEncoder) Close() error { return e.close(e) }

func (e *PaymentEncoder) text(f *cfield) string {
	p := e.cur
	switch f.role {
	case roleEmplID:
		return p.EmplID
	case roleRef:
		return p.Ref
	case roleItemType:
		return p.ItemType
	case roleReceipt:
		return p.Receipt
	case roleChannel:
		return f.codeFor(p.Channel.String())
	case roleMethod:
		return f.codeFor(p.Method.String())
	}
	return ""
}

func (e *PaymentEncoder) amount(f *cfield) int64 {
	switch f.role {
	case rolePaidAmt:
		return e.paid
	case roleChargeAmt:
		return e.charged
	}
	return e.control(f)
}

func (e *PaymentEncoder) date(f *cfield) time.Time {
	if f.role == rolePaidDate {
		return e.cur.PaidDate
	}
	return e.created
}
