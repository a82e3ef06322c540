package peoplesoft_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// A college on Ellucian Colleague: its built-in mapping gives the fee its
// AR code and its term ("26/FA"), its charge layout writes the amount in
// cents, and its payment layout reads the college's codes for how and
// where a payment was made.
func ExampleBursar() {
	b, err := peoplesoft.BuiltinBursar(peoplesoft.BursarColleague)
	if err != nil {
		fmt.Println(err)
		return
	}
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	fine, _ := fees.NewFee("F1", fees.TypeOverdueFine, "1402037", fees.MustParseMoney("12.50", fees.USD), asOf)
	fine.TransactionID, fine.Item.Title = "15216075630006761", "Ecology of the saguaro /"

	ch, err := b.Mapping.ChargeFor(*fine, asOf)
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&file, b.Charges, asOf)
	if err := enc.Encode(ch); err != nil {
		fmt.Println(err)
	}
	if err := enc.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(file.String())

	payments := "1402037,01,1250,12/01/26,CC,W88120,15216075630006761,LIBOD,WEB\n"
	dec := peoplesoft.NewPaymentDecoder(strings.NewReader(payments), b.Payments, nil)
	p, err := dec.Decode()
	if err != nil {
		fmt.Println(err)
		return
	}
	typ, _ := b.Mapping.FeeTypeOf(p.ItemType)
	fmt.Println(p.EmplID, p.Ref, typ, p.PaidAmt, p.Channel, p.Method, p.PaidDate.Format("2006-01-02"))
	// Output:
	// 01,1402037,26/FA,LIBOD,1250,12/28/26,15216075630006761,Overdue fine: Ecology of the saguaro /
	// TRAILER,1,1250
	// 1402037 15216075630006761 OVERDUEFINE 12.50 USD ESERVICES CREDIT_CARD 2026-12-01
}
