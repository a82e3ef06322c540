package pstest_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
)

// The library sends a charge file; one student pays online, another pays
// part of a fine at the cashier; the bursar writes a payment file.
func ExampleLedger() {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ledger := pstest.NewLedger(pstest.Options{Seed: 1, Now: func() time.Time { return now }})

	var charges bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&charges, peoplesoft.ReferenceChargeLayout(), now)
	enc.Encode(peoplesoft.Charge{EmplID: "12345678", ItemType: "300000000001", Amount: fees.MustParseMoney("4.25", fees.USD), Ref: "TX-1"})
	enc.Encode(peoplesoft.Charge{EmplID: "12345678", ItemType: "300000000002", Amount: fees.MustParseMoney("80.00", fees.USD), Ref: "TX-2"})
	enc.Encode(peoplesoft.Charge{EmplID: "09876", ItemType: "300000000001", Amount: fees.MustParseMoney("12.00", fees.USD), Ref: "TX-3"})
	enc.Close()

	res, err := ledger.LoadChargeFile("charges-20261130.dat", &charges)
	fmt.Println(res.Charges, res.Charged, err)

	if _, err := ledger.PayEServices("12345678", now); err != nil {
		fmt.Println(err)
	}
	_, err = ledger.Pay("09876", "TX-3", fees.MustParseMoney("5.00", fees.USD), fees.ChannelEServices, fees.MethodCreditCard, now)
	fmt.Println(fees.ErrorCode(err))
	if _, err := ledger.PayCashier("09876", "TX-3", fees.MustParseMoney("5.00", fees.USD), fees.MethodCash, now); err != nil {
		fmt.Println(err)
	}
	fmt.Println(ledger.Balance("09876"))

	if _, err := ledger.WritePayments(os.Stdout); err != nil {
		fmt.Println(err)
	}
	t := ledger.Totals()
	fmt.Println(t.Charged, t.Paid, t.Outstanding)
	// Output:
	// 3 96.25 USD <nil>
	// partial_eservices_payment
	// 7.00 USD
	// EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR
	// 12345678,TX-1,300000000001,4.25,4.25,2026-11-30,ESERVICES,CREDIT_CARD,E377928042
	// 12345678,TX-2,300000000002,80.00,80.00,2026-11-30,ESERVICES,CREDIT_CARD,E377928042
	// 09876,TX-3,300000000001,12.00,5.00,2026-11-30,CASHIER,CASH,C377928043
	// 96.25 USD 89.25 USD 7.00 USD
}

// A lost item paid for comes back: the library sends a refund line (R8)
// linked to the charge by its reference and refund item type; the ledger
// never refunds more than was paid.
func ExampleLedger_LoadChargeFile_refund() {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ledger := pstest.NewLedger(pstest.Options{Seed: 1, Now: func() time.Time { return now }})
	file := func(lines ...peoplesoft.Charge) *bytes.Buffer {
		var b bytes.Buffer
		enc := peoplesoft.NewChargeEncoder(&b, peoplesoft.ReferenceChargeLayout(), now)
		for _, l := range lines {
			enc.Encode(l)
		}
		enc.Close()
		return &b
	}
	ledger.LoadChargeFile("charges.dat", file(peoplesoft.Charge{EmplID: "12345678",
		ItemType: peoplesoft.ItemTypeLostItemReplacementFee, Amount: fees.MustParseMoney("80.00", fees.USD), Ref: "TX-2"}))
	ledger.PayCashier("12345678", "TX-2", fees.MustParseMoney("30.00", fees.USD), fees.MethodCash, now)

	res, err := ledger.LoadChargeFile("refunds.dat", file(
		peoplesoft.Charge{EmplID: "12345678", ItemType: peoplesoft.ItemTypeLostItemReplacementFeeRefund, Amount: fees.MustParseMoney("-30.00", fees.USD), Ref: "TX-2"},
		peoplesoft.Charge{EmplID: "12345678", ItemType: peoplesoft.ItemTypeLostItemReplacementFeeRefund, Amount: fees.MustParseMoney("-0.01", fees.USD), Ref: "TX-2"}))
	fmt.Println(res.Refunds, res.Refunded, len(res.Exceptions), err)
	it, _ := ledger.Item("TX-2")
	fmt.Println(it.Paid, it.Refunded, it.Balance)
	// Output:
	// 1 30.00 USD 1 <nil>
	// 30.00 USD 30.00 USD 50.00 USD
}

// In a district of several colleges, each charge line names its college's
// business unit; the ledger sums what each business unit holds.
func ExampleLedger_ByBusinessUnit() {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ledger := pstest.NewLedger(pstest.Options{Seed: 1, Now: func() time.Time { return now }})

	var charges bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&charges, peoplesoft.ReferenceChargeLayout(), now)
	enc.Encode(peoplesoft.Charge{EmplID: "12345678", ItemType: "300000000001", Amount: fees.MustParseMoney("4.25", fees.USD), Ref: "TX-1", BusinessUnit: "ARC01"})
	enc.Encode(peoplesoft.Charge{EmplID: "09876", ItemType: "410000000001", Amount: fees.MustParseMoney("12.00", fees.USD), Ref: "TX-2", BusinessUnit: "CRC01"})
	enc.Encode(peoplesoft.Charge{EmplID: "09876", ItemType: "300000000002", Amount: fees.MustParseMoney("80.00", fees.USD), Ref: "TX-3", BusinessUnit: "CRC01"})
	enc.Close()
	if _, err := ledger.LoadChargeFile("charges-20261130.dat", &charges); err != nil {
		fmt.Println(err)
	}
	units := ledger.ByBusinessUnit()
	for _, bu := range []string{"ARC01", "CRC01"} {
		fmt.Println(bu, units[bu].Items, units[bu].Outstanding)
	}
	// Output:
	// ARC01 1 4.25 USD
	// CRC01 2 92.00 USD
}
