package fees_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

func TestCheckPayment(t *testing.T) {
	eur := fees.MustParseMoney("10.00", "EUR")
	for _, tt := range []struct {
		name     string
		p        fees.Payment
		left     fees.Money
		wantCode string
	}{
		{"cashier pays all", cashier("25.00"), usd("25.00"), ""},
		{"cashier pays part", cashier("10.00"), usd("25.00"), ""},
		{"eServices pays all", eservices("25.00"), usd("25.00"), ""},
		{"eServices pays part", eservices("10.00"), usd("25.00"), fees.EPARTIALESERVICES},
		{"above what is left", cashier("30.00"), usd("25.00"), fees.EOVERPAY},
		{"nothing left", cashier("1.00"), usd("0.00"), fees.ECLOSED},
		{"another currency", cashier("10.00"), eur, fees.ECURRENCY},
		{"not positive", cashier("0.00"), usd("25.00"), fees.EINVALID},
		{"eServices by cash", fees.Payment{Amount: usd("5.00"), Channel: fees.ChannelEServices, Method: fees.MethodCash}, usd("5.00"), fees.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.FeeID, tt.p.Key = "F1", "R1/BT1"
			err := fees.CheckPayment(tt.p, tt.left)
			if got := fees.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			var fe *fees.Error
			if err != nil && (!errors.As(err, &fe) || fe.Fee != "F1") {
				t.Errorf("error %v does not name fee F1", err)
			}
		})
	}
}

func TestCheckCredit(t *testing.T) {
	for _, tt := range []struct {
		name     string
		amount   fees.Money
		left     fees.Money
		wantCode string
	}{
		{"whole balance", usd("25.00"), usd("25.00"), ""},
		{"part of it", usd("10.00"), usd("25.00"), fees.EPARTIALWAIVE},
		{"above it", usd("30.00"), usd("25.00"), fees.EOVERPAY},
		{"nothing left", usd("1.00"), usd("0.00"), fees.EOVERPAY},
		{"another currency", fees.MustParseMoney("25.00", "EUR"), usd("25.00"), fees.ECURRENCY},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := fees.CheckCredit(fees.Credit{FeeID: "F1", UserID: "S1", Amount: tt.amount}, tt.left)
			if got := fees.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			var fe *fees.Error
			if err != nil && (!errors.As(err, &fe) || fe.Fee != "F1" || !fe.Balance.Equal(tt.left)) {
				t.Errorf("error %+v does not name fee F1 and the balance %s", fe, tt.left)
			}
		})
	}
}

// TestPayAgreesWithCheckPayment is a property: on a transferred fee,
// Fee.Pay refuses a bursar payment exactly when CheckPayment does against
// the fee's balance, with the same code.
func TestPayAgreesWithCheckPayment(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		f := newFee(t, "40.00", fees.StatusTransferred)
		bal, _ := f.Balance.MinorUnits()
		p := cashier("0.01")
		if r.IntN(2) == 0 {
			p = eservices("0.01")
		}
		p.Amount = fees.FromMinor(r.Int64N(bal+3)-1, fees.USD)
		want := fees.ErrorCode(fees.CheckPayment(p, f.Balance))
		if got := fees.ErrorCode(f.Pay(p)); got != want {
			t.Fatalf("Pay(%s %s) code %q, CheckPayment %q", p.Channel, p.Amount, got, want)
		}
	}
}

func ExampleCheckPayment() {
	left := fees.MustParseMoney("80.00", fees.USD)
	p := fees.Payment{Key: "R77/BT1", FeeID: "FEE-1", Amount: fees.MustParseMoney("30.00", fees.USD),
		Channel: fees.ChannelEServices, Method: fees.MethodCreditCard}
	err := fees.CheckPayment(p, left)
	fmt.Println(fees.ErrorCode(err))
	fmt.Println(err)

	p.Channel, p.Method = fees.ChannelCashier, fees.MethodCash
	fmt.Println(fees.CheckPayment(p, left))
	// Output:
	// partial_eservices_payment
	// fee FEE-1: eServices payment R77/BT1 of 30.00 USD does not pay the whole 80.00 USD
	// <nil>
}

func ExampleCheckCredit() {
	left := fees.MustParseMoney("80.00", fees.USD)
	err := fees.CheckCredit(fees.Credit{FeeID: "FEE-1", Amount: fees.MustParseMoney("30.00", fees.USD)}, left)
	fmt.Println(fees.ErrorCode(err))
	fmt.Println(fees.CheckCredit(fees.Credit{FeeID: "FEE-1", Amount: left}, left))
	// Output:
	// partial_waiver
	// <nil>
}
