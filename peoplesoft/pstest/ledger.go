package pstest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// Options configure a [Ledger]. The zero value is usable.
type Options struct {
	// Seed makes receipt numbers and [Ledger.SimulateDay] repeatable.
	Seed int64
	// Now is the ledger's clock; the default is time.Now.
	Now func() time.Time
	// ChargeLayout is the layout of the charge files it loads, and
	// PaymentLayout that of the payment files it writes; the defaults
	// are the reference layouts.
	ChargeLayout, PaymentLayout *peoplesoft.Layout
	// Currency of the ledger; the default is USD.
	Currency fees.Currency
	// MaxFileBytes bounds a charge file; the default is 256 MiB.
	MaxFileBytes int64
	// RefundItemTypes maps each refund item type to the item type of the
	// charges it refunds (R8, see refunds.go); nil means those of
	// peoplesoft.DefaultMapping.
	RefundItemTypes map[string]string
	// ItemTypes, when set, are the item types set up in the ledger: a
	// line of another item type is refused, as a real load refuses an
	// item type not set up. Nil takes every item type.
	ItemTypes []string
	// ResultLayout is the layout of the results files it writes
	// ([Ledger.WriteResults]); the default is the reference layout.
	ResultLayout *peoplesoft.Layout
}

// Item is one charge on a student's account, as the ledger holds it.
// Original = Paid + Credited + Balance always holds.
type Item struct {
	EmplID      string
	Ref         string // REF1_DESCR: the library's bursar transaction id
	ItemType    string
	Term        string
	DueDate     time.Time
	Description string
	// BusinessUnit is the line's BUSINESS_UNIT: the college's SF business
	// unit, or "" when the file names none.
	BusinessUnit string
	Original     fees.Money
	Balance      fees.Money
	Paid         fees.Money
	Credited     fees.Money
	// Refunded is what refund lines gave back of Paid (R8): it leaves
	// Balance as it is, and is never more than Paid.
	Refunded fees.Money
	File     string // the charge file it came from
	Line     int
}

// Exception is a charge-file line the ledger did not apply, and why.
type Exception struct {
	File     string
	Line     int
	EmplID   string
	Ref      string
	ItemType string
	Amount   fees.Money // signed, as in the file
	Reason   string
	// Setup is set when the line was refused for what the ledger is set
	// up with (a student it does not know, an item type not set up),
	// not for the line against what the ledger holds.
	Setup bool
}

// LoadResult reports what [Ledger.LoadChargeFile] did with a file.
type LoadResult struct {
	Name   string
	SHA256 string // hex
	// AlreadyLoaded is set when a file of the same name or the same
	// content was loaded before; nothing was applied. LoadedAs is that
	// file's name.
	AlreadyLoaded bool
	LoadedAs      string
	Charges       int        // new items
	Credits       int        // credit lines applied
	Charged       fees.Money // sum of the new items
	Credited      fees.Money // sum of the credits applied (positive)
	Refunds       int        // refund lines applied
	Refunded      fees.Money // sum of the refunds applied (positive)
	Exceptions    []Exception
	// Results are the load's verdict on every line of the file, in
	// order: posted, or refused with the reason of its exception; what
	// [Ledger.WriteResults] writes.
	Results []peoplesoft.Result
}

// Totals are the ledger's running sums. Charged = Credited + Paid +
// Outstanding always holds, Refunded (what refund lines gave back) is
// never more than Paid, and PaidWritten is the sum of the PAID_AMT of
// every payment file written.
type Totals struct {
	Files           int
	Items           int
	Charged         fees.Money
	Credited        fees.Money
	Paid            fees.Money
	Refunded        fees.Money
	Refunds         int
	Outstanding     fees.Money
	Payments        int
	PaymentsWritten int
	PaidWritten     fees.Money
	Exceptions      int
}

// Ledger is a simulated PeopleSoft student-financials ledger. It is safe
// for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	now      func() time.Time
	charge   *peoplesoft.Layout
	payment  *peoplesoft.Layout
	cur      fees.Currency
	maxBytes int64
	rng      *rand.Rand

	results *peoplesoft.Layout
	types   map[string]bool // the item types set up; nil: any
	unknown map[string]bool // students the ledger does not know yet

	byName   map[string]string // file name → sha256
	bySum    map[string]string // sha256 → file name
	items    map[itemKey]*Item // by (Ref, ItemType)
	byRef    map[string][]*Item
	students map[string][]*Item
	payments []peoplesoft.Payment
	written  int // payments[:written] are in a file
	receipt  int64
	except   []Exception
	t        Totals
	refunds  map[string]string // refund item type → charge item type
}

// NewLedger returns an empty ledger.
func NewLedger(opts Options) *Ledger {
	l := &Ledger{
		now:      opts.Now,
		charge:   opts.ChargeLayout,
		payment:  opts.PaymentLayout,
		cur:      opts.Currency,
		maxBytes: opts.MaxFileBytes,
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x6665656272696467)),
		byName:   make(map[string]string),
		bySum:    make(map[string]string),
		items:    make(map[itemKey]*Item),
		byRef:    make(map[string][]*Item),
		students: make(map[string][]*Item),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.charge == nil {
		l.charge = peoplesoft.ReferenceChargeLayout()
	}
	if l.payment == nil {
		l.payment = peoplesoft.ReferencePaymentLayout()
	}
	if l.cur == "" {
		l.cur = fees.USD
	}
	if l.maxBytes == 0 {
		l.maxBytes = 256 << 20
	}
	l.setUp(opts)
	l.receipt = 100_000_000 + l.rng.Int64N(400_000_000)
	zero := fees.Zero(l.cur)
	l.t.Charged, l.t.Credited, l.t.Paid, l.t.Outstanding, l.t.PaidWritten = zero, zero, zero, zero, zero
	l.t.Refunded = zero
	l.refunds = refundItemTypes(opts.RefundItemTypes)
	return l
}

// LoadChargeFile loads a charge file, as PeopleSoft's External File Load
// does: the whole file or nothing.
//
// A file whose name or content (SHA-256) was loaded before is not loaded
// again: the result says AlreadyLoaded and the error is nil. A file with
// any bad record, a bad header, or a trailer whose count or total
// disagrees with its records is rejected: the error (a
// *peoplesoft.ParseError naming the file and line) says why, nothing is
// applied, and the file may be sent again once corrected.
//
// In a good file, each debit line becomes an item, and each credit line
// lowers the item whose REF1_DESCR and ITEM_TYPE it carries: the pair
// names an item, since the library may give one reference to charges of
// different item types (see [fees.ChargeKey]); such lines are items of
// their own. A line whose item type is a refund item type gives paid
// money back on the charge it names (see [Ledger.applyRefund]). Lines
// that cannot be applied are held as exceptions (listed
// in the result and by [Ledger.Exceptions]) and the rest of the file is
// applied:
//   - a debit whose reference and item type the ledger already holds
//     (payments are keyed by receipt, reference and item type, so two
//     items may not share a pair);
//   - a credit for a reference and item type the ledger does not hold; it
//     is not kept for a later charge, since PeopleSoft has nothing to
//     apply it to;
//   - a credit for another student's item, or above the item's balance.
func (l *Ledger) LoadChargeFile(name string, r io.Reader) (LoadResult, error) {
	data, err := io.ReadAll(io.LimitReader(r, l.maxBytes+1))
	if err != nil {
		return LoadResult{}, fmt.Errorf("pstest: read %s: %w", name, err)
	}
	if int64(len(data)) > l.maxBytes {
		return LoadResult{}, fmt.Errorf("pstest: %s: %w: larger than %d bytes", name, peoplesoft.ErrTooLarge, l.maxBytes)
	}
	sum := sha256.Sum256(data)
	res := LoadResult{Name: name, SHA256: hex.EncodeToString(sum[:]), Charged: fees.Zero(l.cur), Credited: fees.Zero(l.cur), Refunded: fees.Zero(l.cur)}

	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byName[name]; ok {
		res.AlreadyLoaded, res.LoadedAs = true, name
		return res, nil
	}
	if first, ok := l.bySum[res.SHA256]; ok {
		res.AlreadyLoaded, res.LoadedAs = true, first
		return res, nil
	}
	lines, err := l.decodeChargeFile(name, data)
	if err != nil {
		return LoadResult{}, err
	}
	for _, ln := range lines {
		held := len(res.Exceptions)
		switch {
		case l.refuse(&res, name, ln):
		case l.isRefund(ln):
			l.applyRefund(&res, name, ln)
		case ln.ch.Amount.IsPositive():
			l.applyDebit(&res, name, ln)
		default:
			l.applyCredit(&res, name, ln)
		}
		res.Results = append(res.Results, resultOf(ln, res.Exceptions[held:]))
	}
	l.byName[name] = res.SHA256
	l.bySum[res.SHA256] = name
	l.t.Files++
	l.t.Exceptions = len(l.except)
	return res, nil
}

// chargeLine is one line of a charge file being loaded.
type chargeLine struct {
	ch   peoplesoft.Charge
	line int
}

// decodeChargeFile reads every line of a charge file, or rejects the
// whole file at its first bad line, header or trailer.
func (l *Ledger) decodeChargeFile(name string, data []byte) ([]chargeLine, error) {
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), l.charge, &peoplesoft.DecodeOptions{File: name, Currency: l.cur})
	var lines []chargeLine
	for {
		ch, err := dec.Decode()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("pstest: file rejected: %w", err)
		}
		lines = append(lines, chargeLine{ch, dec.Line()})
	}
}

// hold keeps a line that cannot be applied as an exception, in res and in
// the ledger.
func (l *Ledger) hold(res *LoadResult, file string, ln chargeLine, format string, args ...any) {
	ch := ln.ch
	e := Exception{File: file, Line: ln.line, EmplID: ch.EmplID, Ref: ch.Ref, ItemType: ch.ItemType, Amount: ch.Amount, Reason: fmt.Sprintf(format, args...)}
	res.Exceptions = append(res.Exceptions, e)
	l.except = append(l.except, e)
}

// applyDebit makes a debit line a new item, unless its reference and
// item type are already charged.
func (l *Ledger) applyDebit(res *LoadResult, file string, ln chargeLine) {
	ch := ln.ch
	key := itemKey{ch.Ref, ch.ItemType}
	if it, known := l.items[key]; known {
		l.hold(res, file, ln, "reference %s item type %s is already charged (file %s, line %d)", ch.Ref, ch.ItemType, it.File, it.Line)
		return
	}
	it := &Item{
		EmplID: ch.EmplID, Ref: ch.Ref, ItemType: ch.ItemType, Term: ch.Term, DueDate: ch.DueDate,
		Description: ch.Description, BusinessUnit: ch.BusinessUnit, Original: ch.Amount, Balance: ch.Amount,
		Paid: fees.Zero(l.cur), Credited: fees.Zero(l.cur), Refunded: fees.Zero(l.cur), File: file, Line: ln.line,
	}
	l.items[key] = it
	l.byRef[ch.Ref] = append(l.byRef[ch.Ref], it)
	l.students[ch.EmplID] = append(l.students[ch.EmplID], it)
	l.t.Items++
	res.Charges++
	res.Charged = must(res.Charged.Add(ch.Amount))
	l.t.Charged = must(l.t.Charged.Add(ch.Amount))
	l.t.Outstanding = must(l.t.Outstanding.Add(ch.Amount))
}

// applyCredit lowers the student's item with the line's reference and
// item type, by no more than its balance: [fees.CheckCredit] decides.
//
// PeopleSoft takes a credit below the balance (EPARTIALWAIVE), so the
// ledger does too: the full-waive rule (R5) is feebridge's, kept before a
// credit is written (the credits job calls the same check), and a real
// bursar ledger cannot refuse what a clerk keys in by hand.
func (l *Ledger) applyCredit(res *LoadResult, file string, ln chargeLine) {
	ch := ln.ch
	credit := ch.Amount.Neg()
	it, known := l.items[itemKey{ch.Ref, ch.ItemType}]
	switch {
	case !known:
		l.hold(res, file, ln, "credit for reference %s item type %s, which the ledger does not hold", ch.Ref, ch.ItemType)
		return
	case it.EmplID != ch.EmplID:
		l.hold(res, file, ln, "credit for reference %s item type %s, which belongs to another student", ch.Ref, ch.ItemType)
		return
	}
	switch err := fees.CheckCredit(fees.Credit{FeeID: ch.Ref, Amount: credit}, it.Balance); fees.ErrorCode(err) {
	case "", fees.EPARTIALWAIVE:
	case fees.EOVERPAY:
		l.hold(res, file, ln, "credit of %s is above the balance of %s on reference %s item type %s", credit, it.Balance, ch.Ref, ch.ItemType)
		return
	default:
		l.hold(res, file, ln, "credit on reference %s item type %s: %v", ch.Ref, ch.ItemType, err)
		return
	}
	it.Balance = must(it.Balance.Sub(credit))
	it.Credited = must(it.Credited.Add(credit))
	res.Credits++
	res.Credited = must(res.Credited.Add(credit))
	l.t.Credited = must(l.t.Credited.Add(credit))
	l.t.Outstanding = must(l.t.Outstanding.Sub(credit))
}

// must unwraps money arithmetic, which cannot fail inside one ledger:
// every amount is in the ledger's currency.
func must[T any](v T, err error) T {
	if err != nil {
		panic("pstest: " + err.Error())
	}
	return v
}

// Pay takes a payment of amount on the item ref of student emplid, by the
// rules of the channel (R4, decided by [fees.CheckPayment] against the
// item's balance), and returns the payment line it will write.
// It returns a *fees.Error: ENOTFOUND for an item the student does not
// have, ECLOSED for an item with nothing left to pay, EOVERPAY above the
// balance, EPARTIALESERVICES for an eServices payment that is not the
// whole balance, EINVALID for a channel other than ESERVICES or CASHIER, a
// method the channel does not take, or an amount that is not positive.
// at is the payment's date; the zero time means the ledger's clock.
//
// When the student has several items with reference ref (of different
// item types), ref alone does not say which to pay: Pay returns EINVALID
// and the caller uses [Ledger.PayItem].
func (l *Ledger) Pay(emplid, ref string, amount fees.Money, ch fees.Channel, m fees.Method, at time.Time) (peoplesoft.Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.IsZero() {
		at = l.now()
	}
	var mine []*Item
	for _, it := range l.byRef[ref] {
		if it.EmplID == emplid {
			mine = append(mine, it)
		}
	}
	itemType := ""
	switch len(mine) {
	case 0:
	case 1:
		itemType = mine[0].ItemType
	default:
		return peoplesoft.Payment{}, &fees.Error{Code: fees.EINVALID, Fee: ref, Amount: amount,
			Message: fmt.Sprintf("student has %d items with reference %s; name the item type", len(mine), ref)}
	}
	return l.pay(emplid, ref, itemType, amount, ch, m, at, "")
}

// PayItem is [Ledger.Pay] on the item with reference ref and item type
// itemType: the pair names one item even when the reference is shared.
func (l *Ledger) PayItem(emplid, ref, itemType string, amount fees.Money, ch fees.Channel, m fees.Method, at time.Time) (peoplesoft.Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.IsZero() {
		at = l.now()
	}
	return l.pay(emplid, ref, itemType, amount, ch, m, at, "")
}

func (l *Ledger) nextReceipt(prefix string) string {
	l.receipt++
	return fmt.Sprintf("%s%09d", prefix, l.receipt)
}

// pay applies one payment. An empty receipt means a new receipt number,
// drawn only once the payment is accepted. What only the ledger knows
// (the bursar's channels, its currency, the student's items) is checked
// here; the money rules (R4) are fees.CheckPayment's.
func (l *Ledger) pay(emplid, ref, itemType string, amount fees.Money, ch fees.Channel, m fees.Method, at time.Time, receipt string) (peoplesoft.Payment, error) {
	fp := fees.Payment{TransactionID: ref, UserID: emplid, Amount: amount, Channel: ch, Method: m, Date: at}
	if err := fp.Validate(); err != nil {
		return peoplesoft.Payment{}, err
	}
	if !ch.Bursar() {
		return peoplesoft.Payment{}, &fees.Error{Code: fees.EINVALID, Fee: ref, Amount: amount,
			Message: fmt.Sprintf("payment of %s on channel %s: the bursar takes ESERVICES and CASHIER payments only", amount, ch)}
	}
	if amount.Currency() != l.cur {
		return peoplesoft.Payment{}, &fees.Error{Code: fees.ECURRENCY, Fee: ref, Amount: amount,
			Message: fmt.Sprintf("payment of %s: the ledger keeps %s", amount, l.cur)}
	}
	it, ok := l.items[itemKey{ref, itemType}]
	if !ok || it.EmplID != emplid {
		return peoplesoft.Payment{}, &fees.Error{Code: fees.ENOTFOUND, Fee: ref, Amount: amount,
			Message: fmt.Sprintf("student has no item with reference %s and item type %q", ref, itemType)}
	}
	fp.FeeID = ref
	if err := fees.CheckPayment(fp, it.Balance); err != nil {
		return peoplesoft.Payment{}, err
	}
	if receipt == "" {
		prefix := "C"
		if ch == fees.ChannelEServices {
			prefix = "E"
		}
		receipt = l.nextReceipt(prefix)
	}
	it.Balance = must(it.Balance.Sub(amount))
	it.Paid = must(it.Paid.Add(amount))
	l.t.Paid = must(l.t.Paid.Add(amount))
	l.t.Outstanding = must(l.t.Outstanding.Sub(amount))
	l.t.Payments++
	p := peoplesoft.Payment{
		EmplID: emplid, Ref: ref, ItemType: it.ItemType, ChargeAmt: it.Original, PaidAmt: amount,
		PaidDate: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC),
		Channel:  ch, Method: m, Receipt: receipt,
	}
	l.payments = append(l.payments, p)
	return p, nil
}

// PayEServices is a student paying online: every open item is paid in
// full, by credit card, under one receipt. It returns a *fees.Error with
// code ENOTFOUND when the student has nothing to pay.
func (l *Ledger) PayEServices(emplid string, at time.Time) ([]peoplesoft.Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.IsZero() {
		at = l.now()
	}
	var open []*Item
	for _, it := range l.students[emplid] {
		if it.Balance.IsPositive() {
			open = append(open, it)
		}
	}
	if len(open) == 0 {
		return nil, &fees.Error{Code: fees.ENOTFOUND, Message: "student has nothing to pay in eServices"}
	}
	receipt := l.nextReceipt("E")
	out := make([]peoplesoft.Payment, 0, len(open))
	for _, it := range open {
		p, err := l.pay(emplid, it.Ref, it.ItemType, it.Balance, fees.ChannelEServices, fees.MethodCreditCard, at, receipt)
		if err != nil {
			return out, err // cannot happen: the balance is open and paid whole
		}
		out = append(out, p)
	}
	return out, nil
}

// PayCashier is a payment at the Business Services Office: any positive
// amount up to the item's balance, by cash, check or card. It returns the
// errors of [Ledger.Pay].
func (l *Ledger) PayCashier(emplid, ref string, amount fees.Money, m fees.Method, at time.Time) (peoplesoft.Payment, error) {
	return l.Pay(emplid, ref, amount, fees.ChannelCashier, m, at)
}

// WritePayments writes every payment not yet written to a payment file in
// the ledger's payment layout and returns how many it wrote. Each payment
// goes into exactly one file: a payment counts as written only when the
// whole file was written without error. With nothing to write it writes
// nothing and returns 0.
func (l *Ledger) WritePayments(w io.Writer) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	todo := l.payments[l.written:]
	if len(todo) == 0 {
		return 0, nil
	}
	enc := peoplesoft.NewPaymentEncoder(w, l.payment, l.now())
	for _, p := range todo {
		if err := enc.Encode(p); err != nil {
			return 0, fmt.Errorf("pstest: write payments: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return 0, fmt.Errorf("pstest: write payments: %w", err)
	}
	l.written += len(todo)
	l.t.PaymentsWritten += len(todo)
	l.t.PaidWritten = must(l.t.PaidWritten.Add(enc.Total()))
	return len(todo), nil
}

// Items returns the student's items, in the order they were charged.
func (l *Ledger) Items(emplid string) []Item {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Item, len(l.students[emplid]))
	for i, it := range l.students[emplid] {
		out[i] = *it
	}
	return out
}

// Item returns the item with reference ref; when items of several item
// types share ref, the first charged. [Ledger.ItemOf] names one.
func (l *Ledger) Item(ref string) (Item, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	its := l.byRef[ref]
	if len(its) == 0 {
		return Item{}, false
	}
	return *its[0], true
}

// ItemOf returns the item with reference ref and item type itemType.
func (l *Ledger) ItemOf(ref, itemType string) (Item, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.items[itemKey{ref, itemType}]
	if !ok {
		return Item{}, false
	}
	return *it, true
}

// itemKey names an item as PeopleSoft does: REF1_DESCR and ITEM_TYPE.
type itemKey struct{ ref, itemType string }

// Students returns the EMPLIDs of every student with an item, sorted.
func (l *Ledger) Students() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.students))
	for id := range l.students {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Balance returns what the student owes.
func (l *Ledger) Balance(emplid string) fees.Money {
	l.mu.Lock()
	defer l.mu.Unlock()
	total := fees.Zero(l.cur)
	for _, it := range l.students[emplid] {
		total = must(total.Add(it.Balance))
	}
	return total
}

// Payments returns every payment taken, written or not, in order.
func (l *Ledger) Payments() []peoplesoft.Payment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.payments)
}

// Exceptions returns the charge-file lines the ledger did not apply.
func (l *Ledger) Exceptions() []Exception {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.except)
}

// UnitTotal is what the ledger holds for one business unit.
type UnitTotal struct {
	Items       int
	Charged     fees.Money // the sum of the items' original amounts
	Outstanding fees.Money // the sum of their balances
}

// ByBusinessUnit returns the items, charged and outstanding amounts of
// each business unit, keyed by BUSINESS_UNIT ("" for lines that named
// none).
func (l *Ledger) ByBusinessUnit() map[string]UnitTotal {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]UnitTotal)
	for _, it := range l.items {
		u, ok := out[it.BusinessUnit]
		if !ok {
			u = UnitTotal{Charged: fees.Zero(l.cur), Outstanding: fees.Zero(l.cur)}
		}
		u.Items++
		u.Charged = must(u.Charged.Add(it.Original))
		u.Outstanding = must(u.Outstanding.Add(it.Balance))
		out[it.BusinessUnit] = u
	}
	return out
}

// Totals returns the running sums.
func (l *Ledger) Totals() Totals {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t
}

// Behavior is how simulated students pay in [Ledger.SimulateDay]: each
// student who owes something pays everything in eServices with
// probability EServices, else pays part of one item at the cashier with
// probability Cashier, else does nothing that day.
type Behavior struct {
	EServices float64
	Cashier   float64
}

// SimulateDay lets every student who owes something act once, at time at,
// drawing from the ledger's seeded generator, and returns the payments
// taken. Given the same seed, files and calls, it takes the same payments.
func (l *Ledger) SimulateDay(at time.Time, b Behavior) ([]peoplesoft.Payment, error) {
	var out []peoplesoft.Payment
	for _, id := range l.Students() {
		l.mu.Lock()
		var open []Item
		for _, it := range l.students[id] {
			if it.Balance.IsPositive() {
				open = append(open, *it)
			}
		}
		roll := l.rng.Float64()
		pick, cents, method := 0, int64(0), fees.MethodCash
		if len(open) > 0 {
			pick = l.rng.IntN(len(open))
			bal, _ := open[pick].Balance.MinorUnits()
			cents = 1 + l.rng.Int64N(bal)
			method = []fees.Method{fees.MethodCash, fees.MethodCheck, fees.MethodCreditCard}[l.rng.IntN(3)]
		}
		l.mu.Unlock()
		switch {
		case len(open) == 0:
		case roll < b.EServices:
			ps, err := l.PayEServices(id, at)
			if err != nil {
				return out, err
			}
			out = append(out, ps...)
		case roll < b.EServices+b.Cashier:
			p, err := l.PayItem(id, open[pick].Ref, open[pick].ItemType, fees.FromMinor(cents, l.cur), fees.ChannelCashier, method, at)
			if err != nil {
				return out, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}
