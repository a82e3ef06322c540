package fees_test

import (
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

func ExampleParseMoney() {
	m, err := fees.ParseMoney("12.5", fees.USD)
	fmt.Println(m, err)

	_, err = fees.ParseMoney("12.345", fees.USD)
	fmt.Println(err)
	// Output:
	// 12.50 USD <nil>
	// amount "12.345": more than 2 decimal places
}

func ExampleFee_Pay() {
	f, _ := fees.NewFee("FEE-1", fees.TypeLostItemReplacementFee, "0001234", fees.MustParseMoney("80.00", fees.USD), day)
	_ = f.Transfer(day) // the 18:00 export sent it to the bursar

	// At the cashier the student pays part of the fee in cash.
	err := f.Pay(fees.Payment{Amount: fees.MustParseMoney("30.00", fees.USD), Channel: fees.ChannelCashier, Method: fees.MethodCash})
	fmt.Println(err, f.Status, f.Balance)

	// eServices only pays a fee in full.
	err = f.Pay(fees.Payment{Amount: fees.MustParseMoney("20.00", fees.USD), Channel: fees.ChannelEServices, Method: fees.MethodCreditCard})
	fmt.Println(fees.ErrorCode(err))
	// Output:
	// <nil> Transferred 50.00 USD
	// partial_eservices_payment
}

func ExamplePlanPartialWaive() {
	f, _ := fees.NewFee("FEE-2", fees.TypeLostItemReplacementFee, "0001234", fees.MustParseMoney("80.00", fees.USD), day)
	_ = f.Transfer(day)

	// The student and the library agree that the student pays 30.00.
	plan, _ := fees.PlanPartialWaive(f, fees.MustParseMoney("30.00", fees.USD))
	for i, step := range plan.Steps {
		fmt.Printf("%d. %s\n", i+1, step.Text)
	}
	// Output:
	// 1. Take a payment of 30.00 USD at the cashier (Business Services Office).
	// 2. Wait until Alma shows the payment and a balance of 50.00 USD (Alma imports bursar payments hourly).
	// 3. Waive the remaining 50.00 USD in full.
}

func ExampleFee_Refund() {
	f, _ := fees.NewFee("FEE-3", fees.TypeLostItemReplacementFee, "0001234", fees.MustParseMoney("80.00", fees.USD), day)
	_ = f.Transfer(day)
	_ = f.Pay(fees.Payment{Amount: fees.MustParseMoney("30.00", fees.USD), Channel: fees.ChannelCashier, Method: fees.MethodCash})

	// The item comes back: the rest is waived (R7), and what was paid
	// goes back by the district's ratio (R8), here Alma's 100%.
	_ = f.Waive(fees.Waiver{Amount: f.Balance, Reason: "LOST_ITEM_FOUND"})
	due, _ := f.RefundDue(fees.FullRefund)
	err := f.Refund(fees.Refund{Key: "RET-1", Amount: due})
	fmt.Println(due, err, f.Check())

	// Nothing more can go back than was paid.
	err = f.Refund(fees.Refund{Key: "RET-2", Amount: fees.MustParseMoney("0.01", fees.USD)})
	fmt.Println(fees.ErrorCode(err))
	fmt.Println(f.Paid, f.Waived, f.Balance, f.Refunded)
	// Output:
	// 30.00 USD <nil> <nil>
	// excessive_refund
	// 30.00 USD 80.00 USD 0.00 USD 30.00 USD
}
