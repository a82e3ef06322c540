package fees_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/google/go-cmp/cmp"
)

var day = time.Date(2026, 9, 14, 18, 0, 0, 0, time.UTC)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// newFee returns a fee of amount in the given status, reached by the
// lifecycle methods.
func newFee(t *testing.T, amount string, status fees.Status) *fees.Fee {
	t.Helper()
	f, err := fees.NewFee("F1", fees.TypeLostItemReplacementFee, "S100", usd(amount), day)
	if err != nil {
		t.Fatal(err)
	}
	f.TransactionID = "BT1"
	switch status {
	case fees.StatusActive:
	case fees.StatusTransferred:
		mustDo(t, f.Transfer(day))
	case fees.StatusClosed:
		mustDo(t, f.Transfer(day))
		mustDo(t, f.Pay(fees.Payment{Amount: f.Balance, Channel: fees.ChannelEServices, Method: fees.MethodCreditCard}))
	case fees.StatusInDispute:
		mustDo(t, f.Dispute(day))
	}
	return f
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cashier(amount string) fees.Payment {
	return fees.Payment{Amount: usd(amount), Channel: fees.ChannelCashier, Method: fees.MethodCash, Date: day}
}

func eservices(amount string) fees.Payment {
	return fees.Payment{Amount: usd(amount), Channel: fees.ChannelEServices, Method: fees.MethodCreditCard, Date: day}
}

func TestPay(t *testing.T) {
	tests := []struct {
		name        string
		status      fees.Status
		balance     string
		pay         fees.Payment
		wantCode    string
		wantStatus  fees.Status
		wantBalance string
	}{
		{"eservices in full closes", fees.StatusTransferred, "25.00", eservices("25.00"), "", fees.StatusClosed, "0.00"},
		{"cashier partial lowers balance", fees.StatusTransferred, "25.00", cashier("10.00"), "", fees.StatusTransferred, "15.00"},
		{"cashier in full closes", fees.StatusTransferred, "25.00", cashier("25.00"), "", fees.StatusClosed, "0.00"},
		{"cashier by check", fees.StatusTransferred, "25.00", fees.Payment{Amount: usd("0.01"), Channel: fees.ChannelCashier, Method: fees.MethodCheck}, "", fees.StatusTransferred, "24.99"},
		{"library desk on active fee", fees.StatusActive, "25.00", fees.Payment{Amount: usd("5.00"), Channel: fees.ChannelLibrary, Method: fees.MethodCash}, "", fees.StatusActive, "20.00"},
		{"library desk closes before export", fees.StatusActive, "25.00", fees.Payment{Amount: usd("25.00"), Channel: fees.ChannelLibrary, Method: fees.MethodCash}, "", fees.StatusClosed, "0.00"},

		{"partial eservices", fees.StatusTransferred, "25.00", eservices("10.00"), fees.EPARTIALESERVICES, fees.StatusTransferred, "25.00"},
		{"eservices by cash", fees.StatusTransferred, "25.00", fees.Payment{Amount: usd("25.00"), Channel: fees.ChannelEServices, Method: fees.MethodCash}, fees.EINVALID, fees.StatusTransferred, "25.00"},
		{"above the balance", fees.StatusTransferred, "25.00", cashier("25.01"), fees.EOVERPAY, fees.StatusTransferred, "25.00"},
		{"eservices above the balance", fees.StatusTransferred, "25.00", eservices("30.00"), fees.EOVERPAY, fees.StatusTransferred, "25.00"},
		{"on a closed fee", fees.StatusClosed, "25.00", cashier("1.00"), fees.ECLOSED, fees.StatusClosed, "0.00"},
		{"bursar payment on active fee", fees.StatusActive, "25.00", cashier("1.00"), fees.ENOTTRANSFERRED, fees.StatusActive, "25.00"},
		{"in dispute", fees.StatusInDispute, "25.00", fees.Payment{Amount: usd("1.00"), Channel: fees.ChannelLibrary, Method: fees.MethodCash}, fees.ESTATE, fees.StatusInDispute, "25.00"},
		{"zero", fees.StatusTransferred, "25.00", cashier("0"), fees.EINVALID, fees.StatusTransferred, "25.00"},
		{"negative", fees.StatusTransferred, "25.00", cashier("-1.00"), fees.EINVALID, fees.StatusTransferred, "25.00"},
		{"currency mismatch", fees.StatusTransferred, "25.00", fees.Payment{Amount: fees.MustParseMoney("25.00", "EUR"), Channel: fees.ChannelCashier, Method: fees.MethodCash}, fees.ECURRENCY, fees.StatusTransferred, "25.00"},
		{"no amount", fees.StatusTransferred, "25.00", fees.Payment{Channel: fees.ChannelCashier, Method: fees.MethodCash}, fees.EINVALID, fees.StatusTransferred, "25.00"},
		{"unknown channel", fees.StatusTransferred, "25.00", fees.Payment{Amount: usd("1.00"), Method: fees.MethodCash}, fees.EINVALID, fees.StatusTransferred, "25.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFee(t, tt.balance, tt.status)
			err := f.Pay(tt.pay)
			if got := fees.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Pay error = %v (code %q), want code %q", err, got, tt.wantCode)
			}
			if f.Status != tt.wantStatus || f.Balance.Amount() != tt.wantBalance {
				t.Errorf("after Pay: %s with balance %s, want %s with %s", f.Status, f.Balance.Amount(), tt.wantStatus, tt.wantBalance)
			}
			mustDo(t, f.Check())
		})
	}
}

func TestPayErrorNamesFeeAndAmounts(t *testing.T) {
	f := newFee(t, "25.00", fees.StatusTransferred)
	err := f.Pay(cashier("30.00"))
	var fe *fees.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *fees.Error", err)
	}
	if fe.Fee != "F1" || !fe.Amount.Equal(usd("30.00")) || !fe.Balance.Equal(usd("25.00")) {
		t.Errorf("error fields = %+v", fe)
	}
	for _, want := range []string{"F1", "30.00 USD", "25.00 USD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestTransferredBalanceFollowsPayments(t *testing.T) {
	f := newFee(t, "40.00", fees.StatusActive)
	if !f.Transferred.IsZero() {
		t.Fatalf("transferred before transfer = %s", f.Transferred)
	}
	mustDo(t, f.Transfer(day))
	mustDo(t, f.Pay(cashier("15.00")))
	if f.Transferred.Amount() != "25.00" {
		t.Fatalf("transferred balance = %s, want 25.00", f.Transferred)
	}
	if err := f.Transfer(day); fees.ErrorCode(err) != fees.ESTATE {
		t.Fatalf("second Transfer error = %v, want %s", err, fees.ESTATE)
	}
}

func TestWaive(t *testing.T) {
	lenient := fees.Policy{PartialWaiveBeforeTransfer: true}
	tests := []struct {
		name        string
		policy      fees.Policy
		status      fees.Status
		waive       string
		reason      string
		wantCode    string
		wantBalance string
	}{
		{"transferred in full", fees.Policy{}, fees.StatusTransferred, "25.00", "FOUND", "", "0.00"},
		{"active in full", fees.Policy{}, fees.StatusActive, "25.00", "FOUND", "", "0.00"},
		{"partial transferred", fees.Policy{}, fees.StatusTransferred, "10.00", "FOUND", fees.EPARTIALWAIVE, "25.00"},
		{"partial transferred, lenient policy", lenient, fees.StatusTransferred, "10.00", "FOUND", fees.EPARTIALWAIVE, "25.00"},
		{"partial active, strict policy", fees.Policy{}, fees.StatusActive, "10.00", "FOUND", fees.EPARTIALWAIVE, "25.00"},
		{"partial active, lenient policy", lenient, fees.StatusActive, "10.00", "FOUND", "", "15.00"},
		{"no reason", fees.Policy{}, fees.StatusTransferred, "25.00", "", fees.EINVALID, "25.00"},
		{"above balance", fees.Policy{}, fees.StatusTransferred, "26.00", "FOUND", fees.EOVERPAY, "25.00"},
		{"closed", fees.Policy{}, fees.StatusClosed, "1.00", "FOUND", fees.ECLOSED, "0.00"},
		{"zero", fees.Policy{}, fees.StatusTransferred, "0", "FOUND", fees.EINVALID, "25.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFee(t, "25.00", tt.status)
			err := tt.policy.Waive(f, fees.Waiver{Amount: usd(tt.waive), Reason: tt.reason, Date: day})
			if got := fees.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Waive error = %v (code %q), want %q", err, got, tt.wantCode)
			}
			if f.Balance.Amount() != tt.wantBalance {
				t.Errorf("balance = %s, want %s", f.Balance.Amount(), tt.wantBalance)
			}
			mustDo(t, f.Check())
		})
	}
}

func TestPartialWaiveErrorExplainsTheTwoSteps(t *testing.T) {
	f := newFee(t, "25.00", fees.StatusTransferred)
	err := f.Waive(fees.Waiver{Amount: usd("10.00"), Reason: "AGREED"})
	for _, want := range []string{"F1", "10.00 USD", "25.00 USD", "cashier", "Alma shows that payment", "waive the rest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestDisputeAndRestore(t *testing.T) {
	f := newFee(t, "25.00", fees.StatusTransferred)
	mustDo(t, f.Dispute(day))
	if f.Status != fees.StatusInDispute {
		t.Fatalf("status = %s", f.Status)
	}
	mustDo(t, f.Restore(day))
	if f.Status != fees.StatusTransferred {
		t.Fatalf("restored to %s, want Transferred", f.Status)
	}
	if err := f.Restore(day); fees.ErrorCode(err) != fees.ESTATE {
		t.Fatalf("Restore of a fee not in dispute: %v", err)
	}
	closed := newFee(t, "25.00", fees.StatusClosed)
	if err := closed.Dispute(day); fees.ErrorCode(err) != fees.ESTATE {
		t.Fatalf("Dispute of a closed fee: %v", err)
	}
}

func TestNewFeeNeedsPositiveAmount(t *testing.T) {
	for _, amount := range []string{"0", "-1.00"} {
		if _, err := fees.NewFee("F9", fees.TypeOverdueFine, "S1", usd(amount), day); fees.ErrorCode(err) != fees.EINVALID {
			t.Errorf("NewFee(%s) error = %v", amount, err)
		}
	}
	if _, err := fees.NewFee("", fees.TypeOverdueFine, "S1", usd("1"), day); fees.ErrorCode(err) != fees.EINVALID {
		t.Errorf("NewFee with no id: %v", err)
	}
}

func TestStatusCodesBothWays(t *testing.T) {
	for _, s := range []fees.Status{fees.StatusActive, fees.StatusTransferred, fees.StatusClosed, fees.StatusInDispute} {
		got, err := fees.ParseAlmaStatus(s.AlmaCode())
		if err != nil || got != s {
			t.Errorf("ParseAlmaStatus(%q) = %v, %v; want %v", s.AlmaCode(), got, err, s)
		}
	}
	if fees.StatusTransferred.AlmaCode() != "EXPORTED" || fees.StatusTransferred.String() != "Transferred" {
		t.Errorf("Transferred = %q / %q", fees.StatusTransferred.AlmaCode(), fees.StatusTransferred)
	}
	if _, err := fees.ParseAlmaStatus("PAID"); err == nil {
		t.Error("ParseAlmaStatus(PAID) succeeded")
	}
	if got, _ := fees.ParseAlmaStatus("TRANSFERRED"); got != fees.StatusTransferred {
		t.Errorf("TRANSFERRED = %v", got)
	}
}

func TestTypeCodes(t *testing.T) {
	typ, err := fees.ParseType("LOSTITEMREPLACEMENTFEE")
	if err != nil || typ != fees.TypeLostItemReplacementFee || !typ.IsLostItem() || !typ.Known() {
		t.Fatalf("ParseType = %v, %v", typ, err)
	}
	if typ.Description() != "Lost item replacement fee" {
		t.Errorf("Description = %q", typ.Description())
	}
	custom, err := fees.ParseType("LAPTOPCHARGER")
	if err != nil || custom.Known() || custom.Description() != "LAPTOPCHARGER" {
		t.Errorf("custom type = %v, %v", custom, err)
	}
	if _, err := fees.ParseType(""); err == nil {
		t.Error("empty type accepted")
	}
}

func TestChannelAndMethodCodes(t *testing.T) {
	for _, code := range []string{"ESERVICES", "CASHIER", "LIBRARY"} {
		c, err := fees.ParseChannel(code)
		if err != nil || c.String() != code {
			t.Errorf("ParseChannel(%q) = %v, %v", code, c, err)
		}
	}
	for _, code := range []string{"CREDIT_CARD", "CASH", "CHECK"} {
		m, err := fees.ParseMethod(code)
		if err != nil || m.String() != code {
			t.Errorf("ParseMethod(%q) = %v, %v", code, m, err)
		}
	}
	if _, err := fees.ParseChannel("PHONE"); err == nil {
		t.Error("ParseChannel(PHONE) succeeded")
	}
	if _, err := fees.ParseMethod("BITCOIN"); err == nil {
		t.Error("ParseMethod(BITCOIN) succeeded")
	}
}

func TestPlanPartialWaive(t *testing.T) {
	transferred := newFee(t, "80.00", fees.StatusTransferred)
	plan, err := fees.PlanPartialWaive(transferred, usd("30.00"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []fees.StepKind
	var amounts []string
	for _, s := range plan.Steps {
		kinds = append(kinds, s.Kind)
		amounts = append(amounts, s.Amount.Amount())
	}
	if diff := cmp.Diff([]fees.StepKind{fees.StepPay, fees.StepWaitForAlma, fees.StepWaive}, kinds); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if plan.Steps[0].Channel != fees.ChannelCashier || amounts[0] != "30.00" || amounts[2] != "50.00" {
		t.Errorf("plan = %+v", plan)
	}

	// Following the plan keeps every rule.
	mustDo(t, transferred.Pay(fees.Payment{Amount: plan.Steps[0].Amount, Channel: plan.Steps[0].Channel, Method: fees.MethodCash}))
	mustDo(t, transferred.Waive(fees.Waiver{Amount: plan.Steps[2].Amount, Reason: "AGREED"}))
	if transferred.Status != fees.StatusClosed {
		t.Errorf("after the plan the fee is %s", transferred.Status)
	}

	active := newFee(t, "80.00", fees.StatusActive)
	plan, err = fees.PlanPartialWaive(active, usd("30.00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 2 || plan.Steps[0].Channel != fees.ChannelLibrary {
		t.Errorf("plan for an active fee = %+v", plan)
	}

	nothing, err := fees.PlanPartialWaive(newFee(t, "80.00", fees.StatusTransferred), usd("0"))
	if err != nil || len(nothing.Steps) != 1 || nothing.Steps[0].Kind != fees.StepWaive {
		t.Errorf("plan for agreed 0 = %+v, %v", nothing, err)
	}

	for _, bad := range []struct {
		agreed string
		code   string
	}{{"80.00", fees.EOVERPAY}, {"90.00", fees.EOVERPAY}, {"-1.00", fees.EINVALID}} {
		if _, err := fees.PlanPartialWaive(newFee(t, "80.00", fees.StatusTransferred), usd(bad.agreed)); fees.ErrorCode(err) != bad.code {
			t.Errorf("plan agreed %s: error %v, want %s", bad.agreed, err, bad.code)
		}
	}
	if _, err := fees.PlanPartialWaive(newFee(t, "80.00", fees.StatusClosed), usd("1.00")); fees.ErrorCode(err) != fees.ESTATE {
		t.Errorf("plan on a closed fee: %v", err)
	}
	if _, err := fees.PlanPartialWaive(newFee(t, "80.00", fees.StatusTransferred), fees.MustParseMoney("1.00", "EUR")); fees.ErrorCode(err) != fees.ECURRENCY {
		t.Errorf("plan in another currency: %v", err)
	}
}

// TestBalancesAddUpUnderRandomActions is the property test of R3: any
// sequence of actions, valid or refused, keeps original = paid + waived +
// remaining, never goes below zero, and ends Closed exactly when nothing
// remains.
func TestBalancesAddUpUnderRandomActions(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 7))
		original := fees.FromMinor(1+r.Int64N(50000), fees.USD)
		f, err := fees.NewFee("F", fees.TypeOverdueFine, "S", original, day)
		if err != nil {
			t.Fatal(err)
		}
		policy := fees.Policy{PartialWaiveBeforeTransfer: r.IntN(2) == 0}
		for step := range 30 {
			applyRandomAction(r, f, policy)
			if err := f.Check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if f.Status == fees.StatusTransferred && !f.Transferred.Equal(f.Balance) {
				t.Fatalf("seed %d step %d: transferred %s != balance %s", seed, step, f.Transferred, f.Balance)
			}
		}
	}
}

func applyRandomAction(r *rand.Rand, f *fees.Fee, policy fees.Policy) {
	// Amounts around the balance, so that exact, partial and excessive
	// amounts all occur.
	bal, _ := f.Balance.MinorUnits()
	amount := fees.FromMinor(r.Int64N(bal+3)-1, fees.USD)
	if r.IntN(4) == 0 {
		amount = f.Balance
	}
	channels := []fees.Channel{fees.ChannelEServices, fees.ChannelCashier, fees.ChannelLibrary}
	methods := []fees.Method{fees.MethodCreditCard, fees.MethodCash, fees.MethodCheck}
	switch r.IntN(6) {
	case 0:
		_ = f.Transfer(day)
	case 1, 2:
		_ = f.Pay(fees.Payment{Amount: amount, Channel: channels[r.IntN(3)], Method: methods[r.IntN(3)]})
	case 3:
		_ = policy.Waive(f, fees.Waiver{Amount: amount, Reason: "R"})
	case 4:
		_ = f.Dispute(day)
	case 5:
		_ = f.Restore(day)
	}
}

func TestCreditAndWaiverValidate(t *testing.T) {
	if err := (fees.Credit{Key: "C1", UserID: "S1", Amount: usd("5.00")}).Validate(); err != nil {
		t.Errorf("valid credit: %v", err)
	}
	if err := (fees.Credit{Key: "C1", UserID: "S1", Amount: usd("-5.00")}).Validate(); fees.ErrorCode(err) != fees.EINVALID {
		t.Errorf("negative credit: %v", err)
	}
	if err := (fees.Credit{Key: "C1", Amount: usd("5.00")}).Validate(); fees.ErrorCode(err) != fees.EINVALID {
		t.Errorf("credit without user: %v", err)
	}
}
