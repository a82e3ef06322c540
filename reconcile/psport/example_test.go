package psport_test

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile/psport"
)

// Reading a PeopleSoft payment file the way the payments job does: each
// payment comes back with the fee type its ITEM_TYPE maps back to, and a
// bad line comes back as a record to hold, with its reason, while the file
// goes on.
func ExamplePaymentFormat() {
	const file = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n" +
		"12345678,15216075630006761,300000000001,123.45,123.45,2026-12-01,ESERVICES,CREDIT_CARD,E000104233\n" +
		"09876,15216075700006761,300000000002,100.00,40.00,2026-12-02,KIOSK,CASH,C000200017\n" +
		"09876,15216075700006761,300000000002,100.00,60.00,2026-12-09,CASHIER,CHECK,C000200145\n"
	mapping := peoplesoft.DefaultMapping()
	r := psport.PaymentFormat{Mapping: &mapping}.NewPaymentReader(strings.NewReader(file))
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("the whole file fails:", err)
			return
		}
		if rec.Err != nil {
			fmt.Printf("line %d held: %v\n", rec.Line, rec.Err)
			continue
		}
		fmt.Printf("line %d: %s paid %s for %s\n", rec.Line, rec.Payment.Amount, rec.Payment.TransactionID, rec.FeeType)
	}
	// Output:
	// line 2: 123.45 USD paid 15216075630006761 for OVERDUEFINE
	// line 3 held: peoplesoft: line 3: CHANNEL: unknown channel: "KIOSK": want ESERVICES or CASHIER
	// line 4: 60.00 USD paid 15216075700006761 for LOSTITEMREPLACEMENTFEE
}

// Reading the results of PeopleSoft's load the way the results job does:
// each line names the charge it is about by reference and fee type, says
// whether the load refused it, and why.
func ExampleResultFormat() {
	const file = "REF1_DESCR,ITEM_TYPE,EMPLID,AMOUNT,STATUS,MESSAGE\n" +
		"15216075630006761,300000000001,12345678,123.45,POSTED,\n" +
		"15216075700006761,300000000002,09876,25.00,ERROR,Invalid Employee ID\n" +
		"15216075630006761,300000000001,12345678,-23.45,ERROR,Cannot reverse this charge\n" +
		"15216075700006761,300000000012,09876,-25.00,POSTED,\n"
	mapping := peoplesoft.DefaultMapping()
	r := psport.ResultFormat{Mapping: &mapping}.NewResultReader(strings.NewReader(file))
	for {
		res, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("the whole file fails:", err)
			return
		}
		verdict := "posted"
		if res.Refused {
			verdict = "refused: " + res.Message
		}
		kind := "charge"
		switch {
		case res.Refund: // a refund item type: the refund of a paid fee (R8)
			kind = "refund"
		case res.Credit:
			kind = "credit"
		}
		fmt.Println(res.Line, kind, res.Ref, res.FeeType, verdict)
	}
	// Output:
	// 2 charge 15216075630006761 OVERDUEFINE posted
	// 3 charge 15216075700006761 LOSTITEMREPLACEMENTFEE refused: Invalid Employee ID
	// 4 credit 15216075630006761 OVERDUEFINE refused: Cannot reverse this charge
	// 5 refund 15216075700006761 LOSTITEMREPLACEMENTFEE posted
}

// With colleges configured, each charge and credit line names the
// college of the library that owns its fee: the charges job journals it
// with the charge, for the per-college figures of the reconciliation and
// the daily report. Without colleges the name is empty.
func ExampleChargeFormat_colleges() {
	mapping := peoplesoft.DefaultMapping()
	mapping.Colleges = []peoplesoft.College{
		{Name: "ARC", BusinessUnit: "ARC01", Libraries: []string{"ARC"}},
		{Name: "CRC", BusinessUnit: "CRC01", Libraries: []string{"CRC"}},
	}
	asOf := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	for _, owner := range []string{"ARC", "CRC"} {
		fee, _ := fees.NewFee("F-"+owner, fees.TypeOverdueFine, "1234567", fees.MustParseMoney("2.50", fees.USD), asOf)
		fee.TransactionID, fee.Owner = "TX-"+owner, owner
		line, err := psport.ChargeFormat{Mapping: mapping}.MapCharge(*fee, asOf)
		if err != nil {
			fmt.Println(err)
			continue
		}
		credit := fees.Credit{Key: "C-" + owner, TransactionID: fee.TransactionID, UserID: fee.UserID, FeeID: fee.ID,
			Type: fee.Type, Amount: fees.MustParseMoney("1.00", fees.USD), Owner: owner}
		back, err := psport.ChargeFormat{Mapping: mapping}.MapCredit(credit, asOf)
		fmt.Println(owner, line.Amount, line.College, back.Amount, back.College, err)
	}
	none, _ := psport.ChargeFormat{Mapping: peoplesoft.DefaultMapping()}.MapCharge(func() fees.Fee {
		f, _ := fees.NewFee("F1", fees.TypeOverdueFine, "1234567", fees.MustParseMoney("2.50", fees.USD), asOf)
		f.TransactionID, f.Owner = "TX1", "ARC"
		return *f
	}(), asOf)
	fmt.Printf("no colleges: %q\n", none.College)
	// Output:
	// ARC 2.50 USD ARC -1.00 USD ARC <nil>
	// CRC 2.50 USD CRC -1.00 USD CRC <nil>
	// no colleges: ""
}
