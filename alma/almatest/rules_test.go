package almatest_test

import (
	"bytes"
	"testing"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// The fake Alma does not decide R4 on its own: a payment at the desk, and
// a payment imported from the bursar, are refused exactly when
// fees.CheckPayment refuses them, with the same code.

// payCase is one payment on a fee whose balance is 100.00, or nothing
// when closed.
type payCase struct {
	name   string
	closed bool
	amount string
}

var payCases = []payCase{
	{"part", false, "30.00"},
	{"whole", false, "100.00"},
	{"a cent above", false, "100.01"},
	{"on a closed fee", true, "1.00"},
}

// lostFee returns the replacement fee (100.00) of an item Ana lost, paid
// in full at the desk first when closed.
func lostFee(t *testing.T, w *world, closed bool) fees.Fee {
	t.Helper()
	_, lost := w.lose(t, "0123456", "31234000111222")
	f := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	if closed {
		if _, err := w.srv.PayAtDesk(f.UserID, f.ID, f.Balance, "CASH", ""); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func wantCode(tc payCase, ch fees.Channel) string {
	left := usd("100.00")
	if tc.closed {
		left = usd("0.00")
	}
	return fees.ErrorCode(fees.CheckPayment(fees.Payment{FeeID: "F", Amount: usd(tc.amount), Channel: ch, Method: fees.MethodCash}, left))
}

func TestDeskPaymentRefusedAsCheckPayment(t *testing.T) {
	for _, tc := range append(payCases, payCase{"zero", false, "0.00"}) {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			f := lostFee(t, w, tc.closed)
			_, err := w.srv.PayAtDesk(f.UserID, f.ID, usd(tc.amount), "CASH", "")
			if got, want := fees.ErrorCode(err), wantCode(tc, fees.ChannelLibrary); got != want {
				t.Errorf("PayAtDesk = %v (code %q), fees.CheckPayment's code %q", err, got, want)
			}
		})
	}
}

func TestImportedPaymentRefusedAsCheckPayment(t *testing.T) {
	for _, tc := range payCases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			ctx := t.Context()
			drop := memdrop.New()
			f := lostFee(t, w, false)
			if _, err := w.srv.RunExport(ctx, drop, "out", "BURSAR"); err != nil {
				t.Fatal(err)
			}
			if tc.closed {
				if _, err := w.srv.Waive(f.UserID, f.ID, fees.Money{}, "LIBRARY_ERROR", ""); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			enc := alma.NewImportEncoder(&buf, nil)
			if err := enc.Encode(alma.ImportRecord{Patron: alma.Patron{ID: f.UserID, IDType: "02", Name: "Student"}, Type: f.Type,
				Amount: usd(tc.amount), TransactionID: f.TransactionID, LastTransaction: w.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			if err := drop.MkdirAll(ctx, "in"); err != nil {
				t.Fatal(err)
			}
			if err := drop.WriteFile(ctx, "in/PAYMENTS-1-1760000000000.xml", buf.Bytes()); err != nil {
				t.Fatal(err)
			}
			res, err := w.srv.RunImport(ctx, drop, "in")
			if err != nil {
				t.Fatal(err)
			}
			got, why := importCode(res)
			if want := wantCode(tc, fees.ChannelCashier); got != want {
				t.Errorf("import: %s (code %q), fees.CheckPayment's code %q", why, got, want)
			}
		})
	}
}

// importCode returns the code of the one record's refusal, "" when it was
// applied, and what happened.
func importCode(res almatest.ImportResult) (string, string) {
	if r := res.Rejected(); len(r) == 1 {
		return fees.ErrorCode(r[0].Err), r[0].Reason
	}
	return "", "applied"
}
