package pstest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
)

var (
	t0   = time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	due  = time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)
	zero = fees.Zero(fees.USD)
)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

func clock() func() time.Time { return func() time.Time { return t0 } }

func newLedger(seed int64) *pstest.Ledger {
	return pstest.NewLedger(pstest.Options{Seed: seed, Now: clock()})
}

func charge(emplid, ref, amount string) peoplesoft.Charge {
	return peoplesoft.Charge{EmplID: emplid, ItemType: "300000000001", Amount: usd(amount), Term: "2268", DueDate: due, Ref: ref, Description: "Overdue fine"}
}

func credit(emplid, ref, amount string) peoplesoft.Charge {
	c := charge(emplid, ref, amount)
	c.Amount = c.Amount.Neg() // the item type of the charge it lowers
	return c
}

// withType returns c with another item type.
func withType(c peoplesoft.Charge, itemType string) peoplesoft.Charge {
	c.ItemType = itemType
	return c
}

func chargeFile(t testing.TB, charges ...peoplesoft.Charge) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, peoplesoft.ReferenceChargeLayout(), t0)
	for _, c := range charges {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func load(t testing.TB, l *pstest.Ledger, name string, data []byte) pstest.LoadResult {
	t.Helper()
	res, err := l.LoadChargeFile(name, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("LoadChargeFile(%s): %v", name, err)
	}
	return res
}

func TestLoadChargeFile(t *testing.T) {
	l := newLedger(1)
	file := chargeFile(t, charge("A1", "R1", "10.00"), charge("A1", "R2", "2.50"), charge("B2", "R3", "100.00"))
	res := load(t, l, "charges-1.dat", file)
	if res.Charges != 3 || !res.Charged.Equal(usd("112.50")) || res.AlreadyLoaded || len(res.SHA256) != 64 {
		t.Errorf("result %+v", res)
	}
	want := []pstest.Item{
		{EmplID: "A1", Ref: "R1", ItemType: "300000000001", Term: "2268", DueDate: due, Description: "Overdue fine",
			Original: usd("10.00"), Balance: usd("10.00"), Paid: zero, Credited: zero, Refunded: zero, File: "charges-1.dat", Line: 2},
		{EmplID: "A1", Ref: "R2", ItemType: "300000000001", Term: "2268", DueDate: due, Description: "Overdue fine",
			Original: usd("2.50"), Balance: usd("2.50"), Paid: zero, Credited: zero, Refunded: zero, File: "charges-1.dat", Line: 3},
	}
	if diff := cmp.Diff(want, l.Items("A1"), cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("Items (-want +got):\n%s", diff)
	}
	if got := l.Balance("A1"); !got.Equal(usd("12.50")) {
		t.Errorf("Balance = %s", got)
	}
	if got := l.Balance("nobody"); !got.Equal(zero) {
		t.Errorf("Balance(nobody) = %s", got)
	}

	// The same file again, under the same name or another: loaded once.
	for _, name := range []string{"charges-1.dat", "charges-1-copy.dat"} {
		again := load(t, l, name, file)
		if !again.AlreadyLoaded || again.LoadedAs != "charges-1.dat" || again.Charges != 0 {
			t.Errorf("second load as %s: %+v", name, again)
		}
	}
	// Another content under a name already loaded: refused as well.
	if again := load(t, l, "charges-1.dat", chargeFile(t, charge("C3", "R9", "1.00"))); !again.AlreadyLoaded {
		t.Errorf("same name, new content: %+v", again)
	}
	if tot := l.Totals(); tot.Files != 1 || tot.Items != 3 || !tot.Charged.Equal(usd("112.50")) {
		t.Errorf("Totals %+v", tot)
	}
}

func TestLoadChargeFileRejects(t *testing.T) {
	good := chargeFile(t, charge("A1", "R1", "10.00"), charge("A1", "R2", "2.50"))
	tests := []struct {
		name  string
		data  []byte
		cause error
	}{
		{"trailer total", bytes.Replace(good, []byte("+0000000012.50"), []byte("+0000000012.51"), 1), peoplesoft.ErrTrailerTotal},
		{"trailer count", bytes.Replace(good, []byte("T000000002"), []byte("T000000003"), 1), peoplesoft.ErrTrailerCount},
		{"cut short", good[:len(good)-25], peoplesoft.ErrTrailer},
		{"bad amount", bytes.Replace(good, []byte("00000010.00"), []byte("0000001O.00"), 1), peoplesoft.ErrAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(1)
			_, err := l.LoadChargeFile("bad.dat", bytes.NewReader(tt.data))
			var pe *peoplesoft.ParseError
			if !errors.Is(err, tt.cause) || !errors.As(err, &pe) || pe.File != "bad.dat" {
				t.Fatalf("LoadChargeFile = %v, want a ParseError on bad.dat wrapping %v", err, tt.cause)
			}
			if tot := l.Totals(); tot.Files != 0 || tot.Items != 0 || len(l.Items("A1")) != 0 {
				t.Errorf("a rejected file left %+v", tot)
			}
			// Once corrected, the file loads under the same name.
			if res := load(t, l, "bad.dat", good); res.AlreadyLoaded || res.Charges != 2 {
				t.Errorf("corrected file: %+v", res)
			}
		})
	}
}

func TestCredits(t *testing.T) {
	l := newLedger(1)
	load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00"), charge("B2", "R2", "5.00")))
	res := load(t, l, "c2.dat", chargeFile(t,
		credit("A1", "R1", "10.00"),  // applied
		credit("A1", "R404", "3.00"), // unknown ref
		credit("A1", "R2", "5.00"),   // another student's item
		credit("B2", "R2", "6.00"),   // above the balance
		charge("B2", "R2", "1.00"),   // a charge whose ref is held already
	))
	if res.Credits != 1 || !res.Credited.Equal(usd("10.00")) || len(res.Exceptions) != 4 {
		t.Fatalf("result %+v", res)
	}
	reasons := []string{"does not hold", "another student", "above the balance", "already charged"}
	for i, e := range l.Exceptions() {
		if e.File != "c2.dat" || e.Line != i+3 || !strings.Contains(e.Reason, reasons[i]) {
			t.Errorf("exception %d: %+v, want line %d and %q", i, e, i+3, reasons[i])
		}
	}
	it, _ := l.Item("R1")
	if !it.Balance.Equal(zero) || !it.Credited.Equal(usd("10.00")) {
		t.Errorf("R1 after the credit: %+v", it)
	}
	if _, err := l.PayCashier("A1", "R1", usd("1.00"), fees.MethodCash, t0); fees.ErrorCode(err) != fees.ECLOSED {
		t.Errorf("payment on a credited item = %v, want ECLOSED", err)
	}
	checkTotals(t, l)
}

// TestSharedReference loads charges that share a REF1_DESCR but not an
// ITEM_TYPE, as Alma's shared bursar transaction ids make them: they are
// items of their own, a credit lowers the one of its item type, payments
// carry the item's type, and the same pair twice is still an exception.
func TestSharedReference(t *testing.T) {
	const lost = "300000000003"
	l := newLedger(1)
	res := load(t, l, "c1.dat", chargeFile(t,
		charge("A1", "R1", "14.00"),
		withType(charge("A1", "R1", "10.00"), lost),
		withType(charge("A1", "R1", "9.00"), lost), // the same pair again
	))
	if res.Charges != 2 || len(res.Exceptions) != 1 || res.Exceptions[0].ItemType != lost || !strings.Contains(res.Exceptions[0].Reason, "already charged") {
		t.Fatalf("result %+v", res)
	}
	res = load(t, l, "c2.dat", chargeFile(t,
		withType(credit("A1", "R1", "4.00"), lost),
		withType(credit("A1", "R1", "1.00"), "300000000099"), // no such item
	))
	if res.Credits != 1 || len(res.Exceptions) != 1 || !strings.Contains(res.Exceptions[0].Reason, "does not hold") {
		t.Fatalf("credits: %+v", res)
	}
	fine, _ := l.ItemOf("R1", "300000000001")
	proc, _ := l.ItemOf("R1", lost)
	if !fine.Balance.Equal(usd("14.00")) || !proc.Balance.Equal(usd("6.00")) {
		t.Errorf("balances after the credit: fine %s, process fee %s", fine.Balance, proc.Balance)
	}
	// Pay by reference alone is ambiguous; PayItem names the item.
	if _, err := l.PayCashier("A1", "R1", usd("1.00"), fees.MethodCash, t0); fees.ErrorCode(err) != fees.EINVALID {
		t.Errorf("PayCashier on a shared reference = %v, want EINVALID", err)
	}
	p, err := l.PayItem("A1", "R1", lost, usd("6.00"), fees.ChannelCashier, fees.MethodCash, t0)
	if err != nil || p.ItemType != lost {
		t.Fatalf("PayItem = %+v, %v", p, err)
	}
	ps, err := l.PayEServices("A1", t0)
	if err != nil || len(ps) != 1 || ps[0].ItemType != "300000000001" || !ps[0].PaidAmt.Equal(usd("14.00")) {
		t.Fatalf("PayEServices = %+v, %v", ps, err)
	}
	var buf bytes.Buffer
	if n, err := l.WritePayments(&buf); err != nil || n != 2 {
		t.Fatalf("WritePayments = %d, %v", n, err)
	}
	var keys []string
	for _, p := range readPayments(t, buf.Bytes()) {
		keys = append(keys, p.Ref+"/"+p.ItemType)
	}
	if diff := cmp.Diff([]string{"R1/" + lost, "R1/300000000001"}, keys); diff != "" {
		t.Errorf("payments written (-want +got):\n%s", diff)
	}
	checkTotals(t, l)
}

func TestPayEServices(t *testing.T) {
	l := newLedger(7)
	load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00"), charge("A1", "R2", "2.50"), charge("B2", "R3", "4.00")))
	if _, err := l.PayCashier("A1", "R2", usd("1.00"), fees.MethodCash, t0); err != nil {
		t.Fatal(err)
	}
	ps, err := l.PayEServices("A1", t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Receipt != ps[1].Receipt || !strings.HasPrefix(ps[0].Receipt, "E") {
		t.Fatalf("payments %+v", ps)
	}
	if !ps[0].PaidAmt.Equal(usd("10.00")) || !ps[1].PaidAmt.Equal(usd("1.50")) || ps[1].Channel != fees.ChannelEServices || ps[1].Method != fees.MethodCreditCard {
		t.Errorf("payments %+v", ps)
	}
	if !l.Balance("A1").IsZero() {
		t.Errorf("balance after eServices: %s", l.Balance("A1"))
	}
	if _, err := l.PayEServices("A1", t0); fees.ErrorCode(err) != fees.ENOTFOUND {
		t.Errorf("eServices with nothing to pay = %v, want ENOTFOUND", err)
	}
	checkTotals(t, l)
}

func TestPayRules(t *testing.T) {
	l := newLedger(1)
	load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00"), charge("B2", "R2", "4.00")))
	tests := []struct {
		name   string
		emplid string
		ref    string
		amount string
		ch     fees.Channel
		m      fees.Method
		code   string
	}{
		{"eServices refuses a partial payment", "A1", "R1", "4.00", fees.ChannelEServices, fees.MethodCreditCard, fees.EPARTIALESERVICES},
		{"eServices takes cards only", "A1", "R1", "10.00", fees.ChannelEServices, fees.MethodCash, fees.EINVALID},
		{"above the balance", "A1", "R1", "10.01", fees.ChannelCashier, fees.MethodCash, fees.EOVERPAY},
		{"unknown item", "A1", "R9", "1.00", fees.ChannelCashier, fees.MethodCash, fees.ENOTFOUND},
		{"another student's item", "A1", "R2", "1.00", fees.ChannelCashier, fees.MethodCash, fees.ENOTFOUND},
		{"library channel", "A1", "R1", "1.00", fees.ChannelLibrary, fees.MethodCash, fees.EINVALID},
		{"not positive", "A1", "R1", "0", fees.ChannelCashier, fees.MethodCash, fees.EINVALID},
	}
	for _, tt := range tests {
		_, err := l.Pay(tt.emplid, tt.ref, usd(tt.amount), tt.ch, tt.m, t0)
		if fees.ErrorCode(err) != tt.code {
			t.Errorf("%s: Pay = %v, want code %s", tt.name, err, tt.code)
		}
	}
	if got := l.Payments(); len(got) != 0 {
		t.Errorf("refused payments were taken: %+v", got)
	}

	// The cashier takes a partial payment, then the rest.
	p, err := l.PayCashier("A1", "R1", usd("4.00"), fees.MethodCheck, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Receipt, "C") || p.Channel != fees.ChannelCashier || !p.ChargeAmt.Equal(usd("10.00")) {
		t.Errorf("payment %+v", p)
	}
	it, _ := l.Item("R1")
	if !it.Balance.Equal(usd("6.00")) || !it.Paid.Equal(usd("4.00")) {
		t.Errorf("item after a partial payment: %+v", it)
	}
	if _, err := l.Pay("A1", "R1", usd("6.00"), fees.ChannelEServices, fees.MethodCreditCard, t0); err != nil {
		t.Errorf("eServices paying the whole remaining balance: %v", err)
	}
	if _, err := l.PayCashier("A1", "R1", usd("1.00"), fees.MethodCash, t0); fees.ErrorCode(err) != fees.ECLOSED {
		t.Errorf("payment on a paid item = %v, want ECLOSED", err)
	}
	checkTotals(t, l)
}

// readPayments decodes a payment file the ledger wrote.
func readPayments(t testing.TB, data []byte) []peoplesoft.Payment {
	t.Helper()
	dec := peoplesoft.NewPaymentDecoder(bytes.NewReader(data), peoplesoft.ReferencePaymentLayout(), nil)
	var out []peoplesoft.Payment
	for {
		p, err := dec.Decode()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the ledger wrote a bad payment file: %v\n%s", err, data)
		}
		out = append(out, p)
	}
}

func TestWritePayments(t *testing.T) {
	l := newLedger(3)
	load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00"), charge("A1", "R2", "2.50"), charge("B2", "R3", "4.00")))
	if _, err := l.PayEServices("A1", t0); err != nil {
		t.Fatal(err)
	}
	var f1 bytes.Buffer
	if n, err := l.WritePayments(&f1); n != 2 || err != nil {
		t.Fatalf("WritePayments = %d, %v", n, err)
	}
	if _, err := l.PayCashier("B2", "R3", usd("1.25"), fees.MethodCash, t0); err != nil {
		t.Fatal(err)
	}
	var f2, f3 bytes.Buffer
	if n, err := l.WritePayments(&f2); n != 1 || err != nil {
		t.Fatalf("WritePayments = %d, %v", n, err)
	}
	if n, err := l.WritePayments(&f3); n != 0 || err != nil || f3.Len() != 0 {
		t.Fatalf("WritePayments with nothing new = %d, %v, %q", n, err, f3.String())
	}
	got := append(readPayments(t, f1.Bytes()), readPayments(t, f2.Bytes())...)
	want := l.Payments()
	for i := range want {
		want[i].Line = got[i].Line
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	checkTotals(t, l)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritePaymentsError(t *testing.T) {
	l := newLedger(3)
	load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00")))
	if _, err := l.PayEServices("A1", t0); err != nil {
		t.Fatal(err)
	}
	if n, err := l.WritePayments(failWriter{}); err == nil || n != 0 {
		t.Fatalf("WritePayments to a failing writer = %d, %v", n, err)
	}
	// The payment was not written, so it goes into the next file.
	var buf bytes.Buffer
	if n, err := l.WritePayments(&buf); n != 1 || err != nil {
		t.Fatalf("WritePayments = %d, %v", n, err)
	}
	checkTotals(t, l)
}

// checkTotals verifies the ledger's sums against its items and payments:
// Charged = Credited + Paid + Outstanding, Outstanding = Σ balances, and
// each item's Original = Paid + Credited + Balance.
func checkTotals(t testing.TB, l *pstest.Ledger) {
	t.Helper()
	tot := l.Totals()
	out, paid, credited, charged, refunded := zero, zero, zero, zero, zero
	for _, id := range l.Students() {
		for _, it := range l.Items(id) {
			sum, _ := fees.Sum(fees.USD, it.Paid, it.Credited, it.Balance)
			if !sum.Equal(it.Original) || it.Balance.IsNegative() {
				t.Errorf("item %s: %s paid + %s credited + %s balance != %s", it.Ref, it.Paid, it.Credited, it.Balance, it.Original)
			}
			if c, _ := it.Refunded.Cmp(it.Paid); c > 0 {
				t.Errorf("item %s: refunded %s above paid %s", it.Ref, it.Refunded, it.Paid)
			}
			refunded, _ = refunded.Add(it.Refunded)
			out, _ = out.Add(it.Balance)
			paid, _ = paid.Add(it.Paid)
			credited, _ = credited.Add(it.Credited)
			charged, _ = charged.Add(it.Original)
		}
	}
	sum, _ := fees.Sum(fees.USD, tot.Credited, tot.Paid, tot.Outstanding)
	if !refunded.Equal(tot.Refunded) {
		t.Errorf("items refunded %s, totals say %s", refunded, tot.Refunded)
	}
	if !sum.Equal(tot.Charged) || !out.Equal(tot.Outstanding) || !paid.Equal(tot.Paid) || !credited.Equal(tot.Credited) || !charged.Equal(tot.Charged) {
		t.Errorf("totals %+v disagree with the items (charged %s, credited %s, paid %s, outstanding %s)", tot, charged, credited, paid, out)
	}
	var all fees.Money = zero
	for _, p := range l.Payments() {
		all, _ = all.Add(p.PaidAmt)
	}
	if !all.Equal(tot.Paid) || len(l.Payments()) != tot.Payments {
		t.Errorf("payments add up to %s, totals say %s", all, tot.Paid)
	}
}

// A simulated month: random charge files, credits, eServices and cashier
// payments, and payment files. After every step the totals agree with the
// items, and in the end with the files the ledger wrote.
func TestSimulatedMonthTotalsAgreeWithFiles(t *testing.T) {
	for seed := range int64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			l := pstest.NewLedger(pstest.Options{Seed: seed, Now: clock()})
			var files [][]byte
			ref := 0
			for dayN := range 30 {
				at := t0.AddDate(0, 0, dayN)
				var lines []peoplesoft.Charge
				for s := range 5 {
					ref++
					lines = append(lines, charge(fmt.Sprintf("S%03d", (int(seed)+s*7+dayN)%40), fmt.Sprintf("R%05d", ref), fmt.Sprintf("%d.%02d", 1+ref%40, ref%100)))
				}
				if dayN > 0 && dayN%3 == 0 {
					// Waive an item in full when it is still open.
					victim := fmt.Sprintf("R%05d", ref-7)
					if it, ok := l.Item(victim); ok && it.Balance.IsPositive() {
						lines = append(lines, credit(it.EmplID, victim, it.Balance.Amount()))
					}
				}
				load(t, l, fmt.Sprintf("charges-%02d.dat", dayN), chargeFile(t, lines...))
				if _, err := l.SimulateDay(at, pstest.Behavior{EServices: 0.2, Cashier: 0.3}); err != nil {
					t.Fatal(err)
				}
				checkTotals(t, l)
				if dayN%2 == 1 {
					var buf bytes.Buffer
					if _, err := l.WritePayments(&buf); err != nil {
						t.Fatal(err)
					}
					files = append(files, buf.Bytes())
				}
			}
			var buf bytes.Buffer
			if _, err := l.WritePayments(&buf); err != nil {
				t.Fatal(err)
			}
			files = append(files, buf.Bytes())

			inFiles, keys := zero, map[string]bool{}
			count := 0
			for _, f := range files {
				if len(f) == 0 {
					continue
				}
				for _, p := range readPayments(t, f) {
					if keys[p.Key()] {
						t.Errorf("payment %s in two files", p.Key())
					}
					keys[p.Key()] = true
					inFiles, _ = inFiles.Add(p.PaidAmt)
					count++
				}
			}
			tot := l.Totals()
			if !inFiles.Equal(tot.Paid) || !inFiles.Equal(tot.PaidWritten) || count != tot.Payments || count != tot.PaymentsWritten {
				t.Errorf("files hold %d payments of %s; totals say %+v", count, inFiles, tot)
			}
			if count == 0 {
				t.Error("the simulation took no payment")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed int64) []peoplesoft.Payment {
		l := newLedger(seed)
		load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00"), charge("B2", "R2", "99.99"), charge("C3", "R3", "5.00")))
		var out []peoplesoft.Payment
		for d := range 5 {
			ps, err := l.SimulateDay(t0.AddDate(0, 0, d), pstest.Behavior{EServices: 0.3, Cashier: 0.6})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ps...)
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if diff := cmp.Diff(a, b, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("same seed, different runs:\n%s", diff)
	}
	if cmp.Equal(a, c, cmp.Comparer(fees.Money.Equal)) {
		t.Error("seeds 42 and 43 gave the same run")
	}
}

// TestPayRefusesAsCheckPayment checks that the ledger refuses a bursar
// payment exactly when fees.CheckPayment does, with the same code: the
// ledger does not decide R4 on its own.
func TestPayRefusesAsCheckPayment(t *testing.T) {
	tests := []struct {
		name    string
		balance string // what is left on the item when the payment comes
		amount  string
		ch      fees.Channel
		m       fees.Method
	}{
		{"eServices in full", "10.00", "10.00", fees.ChannelEServices, fees.MethodCreditCard},
		{"eServices in part", "10.00", "4.00", fees.ChannelEServices, fees.MethodCreditCard},
		{"eServices above", "10.00", "10.01", fees.ChannelEServices, fees.MethodCreditCard},
		{"eServices by cash", "10.00", "10.00", fees.ChannelEServices, fees.MethodCash},
		{"cashier in part", "10.00", "0.01", fees.ChannelCashier, fees.MethodCash},
		{"cashier in full", "10.00", "10.00", fees.ChannelCashier, fees.MethodCheck},
		{"cashier above", "10.00", "10.01", fees.ChannelCashier, fees.MethodCash},
		{"cashier on a paid item", "0", "1.00", fees.ChannelCashier, fees.MethodCash},
		{"eServices on a paid item", "0", "1.00", fees.ChannelEServices, fees.MethodCreditCard},
		{"zero", "10.00", "0", fees.ChannelCashier, fees.MethodCash},
		{"negative", "10.00", "-1.00", fees.ChannelCashier, fees.MethodCash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(1)
			load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00")))
			if tt.balance == "0" {
				if _, err := l.PayCashier("A1", "R1", usd("10.00"), fees.MethodCash, t0); err != nil {
					t.Fatal(err)
				}
			}
			want := fees.ErrorCode(fees.CheckPayment(fees.Payment{FeeID: "R1", Amount: usd(tt.amount), Channel: tt.ch, Method: tt.m}, usd(tt.balance)))
			_, err := l.Pay("A1", "R1", usd(tt.amount), tt.ch, tt.m, t0)
			if got := fees.ErrorCode(err); got != want {
				t.Errorf("Pay = %v (code %q), fees.CheckPayment's code %q", err, got, want)
			}
		})
	}
}

// TestCreditAsCheckCredit checks that the ledger holds a credit line
// exactly when fees.CheckCredit refuses it, except a credit below the
// balance (EPARTIALWAIVE), which PeopleSoft takes: R5 is kept before a
// credit is written, not by the bursar.
func TestCreditAsCheckCredit(t *testing.T) {
	for _, amount := range []string{"4.00", "10.00", "10.01"} {
		l := newLedger(1)
		load(t, l, "c1.dat", chargeFile(t, charge("A1", "R1", "10.00")))
		res := load(t, l, "c2.dat", chargeFile(t, credit("A1", "R1", amount)))
		code := fees.ErrorCode(fees.CheckCredit(fees.Credit{FeeID: "R1", Amount: usd(amount)}, usd("10.00")))
		if held, want := len(res.Exceptions) == 1, code != "" && code != fees.EPARTIALWAIVE; held != want {
			t.Errorf("credit of %s: held %v, want %v (fees.CheckCredit's code %q): %+v", amount, held, want, code, res)
		}
	}
}

// The ledger keeps each line's business unit and sums per unit; a credit
// lowers the item whatever unit it names, as before.
func TestBusinessUnits(t *testing.T) {
	l := newLedger(1)
	arc, crc := charge("A1", "R1", "10.00"), charge("B2", "R2", "4.00")
	arc.BusinessUnit, crc.BusinessUnit = "ARC01", "CRC01"
	crc2 := charge("B2", "R3", "1.00")
	crc2.BusinessUnit = "CRC01"
	load(t, l, "charges-1.dat", chargeFile(t, arc, crc, crc2, charge("C3", "R4", "2.00")))
	cr := credit("B2", "R2", "4.00")
	cr.BusinessUnit = "CRC01"
	load(t, l, "credits-1.dat", chargeFile(t, cr))
	if it, _ := l.ItemOf("R1", "300000000001"); it.BusinessUnit != "ARC01" {
		t.Errorf("item R1: business unit %q, want ARC01", it.BusinessUnit)
	}
	got := l.ByBusinessUnit()
	want := map[string]pstest.UnitTotal{
		"ARC01": {Items: 1, Charged: usd("10.00"), Outstanding: usd("10.00")},
		"CRC01": {Items: 2, Charged: usd("5.00"), Outstanding: usd("1.00")},
		"":      {Items: 1, Charged: usd("2.00"), Outstanding: usd("2.00")},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("ByBusinessUnit (-want +got):\n%s", diff)
	}
}
