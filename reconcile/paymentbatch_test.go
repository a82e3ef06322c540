package reconcile_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/google/go-cmp/cmp"
)

// randomPayments returns an export of fees and payment files drawn from
// seed: payments in full and in part, over the balance, partial at
// eServices, for unknown references and other students, with and without
// the fee type, unreadable, and receipts repeated within a file and
// across files.
func randomPayments(seed uint64) (export []string, payFiles [][]string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	types := []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee}
	type fee struct {
		txid, user string
		typ        fees.Type
		cents      int
	}
	var fs []fee
	for i := range 40 {
		f := fee{txid: fmt.Sprintf("T%d", i), user: fmt.Sprintf("S%03d", i/3), typ: types[i%3], cents: 1 + rng.IntN(5000)}
		if i%10 == 9 { // a transaction id shared with the fee before, of another type
			f.txid, f.user, f.typ = fs[i-1].txid, fs[i-1].user, types[(i+1)%3]
		}
		fs = append(fs, f)
		export = append(export, fmt.Sprintf("fee|%s|%s|F%d|%s|B%d|%s", f.txid, f.user, i, f.typ, i,
			fees.FromMinor(int64(f.cents), fees.USD).Amount()))
	}
	export = append(export, fmt.Sprintf("end|%d", len(fs)))
	channels := []string{"CASHIER|CASH", "CASHIER|CHECK", "ESERVICES|CREDIT_CARD"}
	for range 3 {
		var lines []string
		n := 40 + rng.IntN(60)
		for range n {
			f := fs[rng.IntN(len(fs))]
			ref, user, cents := f.txid, f.user, f.cents
			switch rng.IntN(10) {
			case 0:
				ref = fmt.Sprintf("T%d", 100+rng.IntN(5)) // never sent
			case 1:
				user = "S999" // another student
			case 2:
				user = ""
			}
			amount := ""
			switch rng.IntN(5) {
			case 0:
				amount = "abc"
			case 1:
				cents += 1 + rng.IntN(100) // over the balance
			case 2, 3:
				cents = 1 + rng.IntN(cents) // in part
			}
			if amount == "" {
				amount = fees.FromMinor(int64(cents), fees.USD).Amount()
			}
			line := fmt.Sprintf("R%d|%s|%s|%s|%s", rng.IntN(70), ref, user, amount, channels[rng.IntN(len(channels))])
			if rng.IntN(4) != 0 {
				line += "|" + string(f.typ)
			}
			lines = append(lines, line)
		}
		payFiles = append(payFiles, append(lines, fmt.Sprintf("end|%d", n)))
	}
	return export, payFiles
}

// TestPaymentBatchSizeChangesNoDecision runs the same random payment files
// with batches of one payment, of a few and of many: the batches read the
// journal ahead and write it at their end, and every decision, result,
// import file and journal row must be the same as one payment at a time.
func TestPaymentBatchSizeChangesNoDecision(t *testing.T) {
	for seed := range uint64(12) {
		export, payFiles := randomPayments(seed)
		run := func(batch int) (results []string, st state) {
			defer reconcile.SetPaymentBatch(batch)()
			e := newEnv(t)
			e.put(e.library, "exports/alma-1-0301.xml", export...)
			if res, err := e.jobs(nil).Charges(t.Context()); err != nil || !res.Clean() {
				t.Fatalf("charges: %+v, %v", res, err)
			}
			for i, lines := range payFiles {
				e.put(e.bursar, fmt.Sprintf("outbound/pay-%d.csv", i), lines...)
				res, err := e.jobs(nil).Payments(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, fmt.Sprintf("%+v", res))
			}
			return results, e.state()
		}
		wantRes, want := run(1)
		for _, batch := range []int{2, 7, 256} {
			gotRes, got := run(batch)
			if diff := cmp.Diff(wantRes, gotRes); diff != "" {
				t.Errorf("seed %d, batches of %d: results differ from one at a time (-want +got):\n%s", seed, batch, diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("seed %d, batches of %d: state differs from one at a time (-want +got):\n%s", seed, batch, diff)
			}
		}
		checkPaymentInvariants(t, seed, want)
	}
}

// checkPaymentInvariants checks what the payments job must never do,
// whatever the input: forward more than a charge's amount, or forward a
// payment key twice.
func checkPaymentInvariants(t *testing.T, seed uint64, st state) {
	t.Helper()
	charged := map[string]fees.Money{}
	paid := map[string]fees.Money{}
	var forwarded, held int
	for _, r := range st.Records {
		f := strings.Fields(r)
		kind, key, outcome := f[0], f[1], f[2]
		var amount, ref string
		for _, kv := range f[3:] {
			if v, ok := strings.CutPrefix(kv, "ref="); ok {
				ref = v
			}
		}
		if i := strings.Index(r, " amount="); i >= 0 {
			amount = strings.Fields(r[i+len(" amount="):])[0]
		}
		m, err := fees.ParseMoney(amount, fees.USD)
		if err != nil {
			continue
		}
		switch {
		case kind == reconcile.KindCharge && outcome == reconcile.OutcomeCharged:
			charged[key] = m
		case kind == reconcile.KindPayment && outcome == reconcile.OutcomeForwarded:
			forwarded++
			sum, err := m.Add(paid[ref])
			if !paid[ref].Valid() {
				sum, err = m, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			paid[ref] = sum
		case kind == reconcile.KindPayment && outcome == reconcile.OutcomeRejected:
			held++
		}
	}
	for ref, sum := range paid {
		c, ok := charged[ref]
		if !ok {
			t.Errorf("seed %d: payments forwarded for %s, which was not charged", seed, ref)
			continue
		}
		if cmp, _ := sum.Cmp(c); cmp > 0 {
			t.Errorf("seed %d: %s forwarded for %s, charged %s", seed, sum, ref, c)
		}
	}
	if forwarded == 0 || held == 0 {
		t.Errorf("seed %d: %d forwarded and %d held: the input does not exercise both", seed, forwarded, held)
	}
}
