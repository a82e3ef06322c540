package pstest_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
)

// TestLedgerInOtherBursarsLayouts: given Banner's or Colleague's
// layouts, the ledger loads a charge file written in them (a charge and a
// credit that lowers it), takes payments, and writes a payment file that
// the same layout reads back to the same payments.
func TestLedgerInOtherBursarsLayouts(t *testing.T) {
	for _, name := range []string{peoplesoft.BursarBanner, peoplesoft.BursarColleague} {
		b, err := peoplesoft.BuiltinBursar(name)
		if err != nil {
			t.Fatal(err)
		}
		code := b.Mapping.ItemTypes[fees.TypeLostItemReplacementFee]
		term, err := b.Mapping.Calendar.TermFor(t0)
		if err != nil {
			t.Fatal(err)
		}
		lost := peoplesoft.Charge{EmplID: "1402037", ItemType: code, Amount: usd("80.00"), Term: term, DueDate: due, Ref: "15216075490006761", Description: "Lost item"}
		fine := lost
		fine.ItemType, fine.Amount, fine.Ref = b.Mapping.ItemTypes[fees.TypeOverdueFine], usd("3.25"), "15216075630006761"
		credit := lost
		credit.Amount = usd("-30.00")

		var file bytes.Buffer
		enc := peoplesoft.NewChargeEncoder(&file, b.Charges, t0)
		for _, ch := range []peoplesoft.Charge{lost, fine, credit} {
			if err := enc.Encode(ch); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		l := pstest.NewLedger(pstest.Options{Seed: 1, Now: clock(), ChargeLayout: b.Charges, PaymentLayout: b.Payments})
		res, err := l.LoadChargeFile("charges-"+name, &file)
		if err != nil || res.Charges != 2 || res.Credits != 1 || len(res.Exceptions) != 0 {
			t.Fatalf("%s: LoadChargeFile = %+v, %v", name, res, err)
		}
		if got := l.Balance("1402037"); !got.Equal(usd("53.25")) {
			t.Errorf("%s: balance %s, want 53.25", name, got)
		}
		paid := []peoplesoft.Payment{}
		p, err := l.PayCashier("1402037", lost.Ref, usd("20.00"), fees.MethodCheck, t0)
		if err != nil {
			t.Fatal(err)
		}
		paid = append(paid, p)
		ps, err := l.PayEServices("1402037", t0)
		if err != nil || len(ps) != 2 {
			t.Fatalf("%s: PayEServices = %v, %v", name, ps, err)
		}
		paid = append(paid, ps...)

		var out bytes.Buffer
		if n, err := l.WritePayments(&out); err != nil || n != 3 {
			t.Fatalf("%s: WritePayments = %d, %v", name, n, err)
		}
		dec := peoplesoft.NewPaymentDecoder(&out, b.Payments, nil)
		for i := 0; ; i++ {
			p, err := dec.Decode()
			if err == io.EOF {
				if i != len(paid) {
					t.Errorf("%s: read %d payments, want %d", name, i, len(paid))
				}
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			w := paid[i]
			if p.Key() != w.Key() || !p.PaidAmt.Equal(w.PaidAmt) || p.Channel != w.Channel || p.Method != w.Method || p.EmplID != w.EmplID {
				t.Errorf("%s: read %+v, want %+v", name, p, w)
			}
		}
		if !l.Balance("1402037").IsZero() {
			t.Errorf("%s: balance %s after paying everything", name, l.Balance("1402037"))
		}
	}
}
