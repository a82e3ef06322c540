package peoplesoft_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// Writing a charge file in the reference layout: two fees and a credit
// that reverses the second.
func ExampleChargeEncoder() {
	m := peoplesoft.DefaultMapping()
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)

	fine, _ := fees.NewFee("F1", fees.TypeOverdueFine, "12345678", fees.MustParseMoney("123.45", fees.USD), asOf)
	fine.TransactionID, fine.Item.Title = "15216075630006761", "Ecology of the saguaro /"
	lost, _ := fees.NewFee("F2", fees.TypeLostItemReplacementFee, "12345678", fees.MustParseMoney("300", fees.USD), asOf)
	lost.TransactionID, lost.Item.Title = "15216075490006761", "The Rough-Stuff Fellowship archive /"
	found := fees.Credit{Key: "C1", TransactionID: lost.TransactionID, UserID: lost.UserID,
		Type: lost.Type, Amount: lost.Balance, Reason: "Lost item was found"}

	var file bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&file, peoplesoft.ReferenceChargeLayout(), asOf)
	for _, f := range []*fees.Fee{fine, lost} {
		ch, err := m.ChargeFor(*f, asOf)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if err := enc.Encode(ch); err != nil {
			fmt.Println(err)
		}
	}
	cr, _ := m.CreditFor(found, asOf)
	if err := enc.Encode(cr); err != nil {
		fmt.Println(err)
	}
	if err := enc.Close(); err != nil {
		fmt.Println(err)
	}
	// Show where each line ends.
	fmt.Print(strings.ReplaceAll(file.String(), "\n", "|\n"))
	fmt.Println(enc.Count(), enc.Total())
	// Output:
	// H20261128180500LIBRARY   |
	// D12345678   300000000001+00000123.4522682026122815216075630006761             Overdue fine: Ecology of the s     |
	// D12345678   300000000002+00000300.0022682026122815216075490006761             Lost item replacement fee: The     |
	// D12345678   300000000002-00000300.0022682026122815216075490006761             Credit: Lost item replacement      |
	// T000000003+0000000123.45|
	// 3 123.45 USD
}

// Reading a payment file: good records come back as payments, bad ones
// as errors that name the line and field, and decoding goes on.
func ExamplePaymentDecoder() {
	const file = "\uFEFFEMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\r\n" +
		"12345678,15216075630006761,300000000001,123.45,123.45,2026-12-01,ESERVICES,CREDIT_CARD,E000104233\r\n" +
		"09876,15216075700006761,300000000002,100.00,40.00,2026-12-02,KIOSK,CASH,C000200017\r\n" +
		"09876,15216075700006761,300000000002,100.00,60.00,2026-12-09,CASHIER,CHECK,\"C0002,00145\"\r\n"
	dec := peoplesoft.NewPaymentDecoder(strings.NewReader(file), peoplesoft.ReferencePaymentLayout(),
		&peoplesoft.DecodeOptions{File: "payments-20261209.csv"})
	for {
		p, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if errors.Is(err, peoplesoft.ErrChannel) {
			fmt.Println("exception:", err)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Key(), p.PaidAmt, p.Channel, p.Method, p.PaidDate.Format("2006-01-02"))
	}
	// Output:
	// E000104233/15216075630006761/300000000001 123.45 USD ESERVICES CREDIT_CARD 2026-12-01
	// exception: peoplesoft: payments-20261209.csv:3: CHANNEL: unknown channel: "KIOSK": want ESERVICES or CASHIER
	// C0002,00145/15216075700006761/300000000002 60.00 USD CASHIER CHECK 2026-12-09
}

// A campus layout in TOML: a fixed-width file with implied decimals.
func ExampleLoadLayout() {
	const campus = `
name = "campus charges"
kind = "charges"
format = "fixed"

[detail]
fields = [
  { name = "RECORD_TYPE", start = 1, length = 3, const = "DTL" },
  { name = "EMPLID", start = 4, length = 9 },
  { name = "ITEM_TYPE", start = 13, length = 12 },
  { name = "REF1_DESCR", start = 25, length = 8 },
  { name = "AMOUNT", start = 33, length = 9, implied_decimal = true, sign = "minus" },
]

[trailer]
fields = [
  { name = "RECORD_TYPE", start = 1, length = 3, const = "TRL" },
  { name = "RECORD_COUNT", start = 4, length = 6 },
  { name = "TOTAL", start = 10, length = 11, implied_decimal = true },
]
`
	l, err := peoplesoft.LoadLayout(strings.NewReader(campus))
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, l, time.Now())
	enc.Encode(peoplesoft.Charge{EmplID: "W1234567", ItemType: "300000000001", Amount: fees.MustParseMoney("12.50", fees.USD), Ref: "TX-1"})
	enc.Encode(peoplesoft.Charge{EmplID: "W1234567", ItemType: "300000000001", Amount: fees.MustParseMoney("-2.50", fees.USD), Ref: "TX-1"})
	enc.Close()
	fmt.Print(buf.String())

	// A layout error names the field.
	_, err = peoplesoft.LoadLayout(strings.NewReader(strings.Replace(campus, "start = 33", "start = 31", 1)))
	fmt.Println(err)
	// Output:
	// DTLW1234567 300000000001TX-1    000001250
	// DTLW1234567 300000000001TX-1    -00000250
	// TRL00000200000001000
	// peoplesoft: layout: detail.fields[4] (AMOUNT): starts at column 31 and overlaps REF1_DESCR, which ends at column 32
}

// An unmapped fee type is rejected with the fee and the reason.
func ExampleMapping_ChargeFor() {
	asOf := time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC)
	m := peoplesoft.DefaultMapping()

	f, _ := fees.NewFee("F7", fees.TypeOverdueFine, "0012345", fees.MustParseMoney("4.25", fees.USD), asOf)
	f.TransactionID = "TX-7"
	ch, err := m.ChargeFor(*f, asOf)
	fmt.Println(ch.ItemType, ch.Term, ch.DueDate.Format("2006-01-02"), ch.Amount, err)

	ill, _ := fees.NewFee("F8", fees.TypeInterlibraryLoanFee, "0012345", fees.MustParseMoney("10", fees.USD), asOf)
	ill.TransactionID = "TX-8"
	_, err = m.ChargeFor(*ill, asOf)
	fmt.Println(err, errors.Is(err, peoplesoft.ErrUnmapped))
	// Output:
	// 300000000001 2272 2027-04-09 4.25 USD <nil>
	// peoplesoft: fee F8 (ref TX-8): rejected: no PeopleSoft item type for fee type INTERLIBRARYLOANFEE true
}

// A refund (R8) is a negative line linked to the charge it refunds by
// reference (REF1_DESCR) and by its own refund item type.
func ExampleMapping_RefundFor() {
	asOf := time.Date(2026, 10, 9, 18, 0, 0, 0, time.UTC)
	m := peoplesoft.DefaultMapping()

	r := fees.Refund{Key: "EV-1/F9", TransactionID: "TX-9", Type: fees.TypeLostItemReplacementFee,
		UserID: "0012345", Amount: fees.MustParseMoney("30.00", fees.USD)}
	line, err := m.RefundFor(r, asOf)
	fmt.Println(line.Ref, line.ItemType, line.Amount, line.Description, err)
	t, _ := m.RefundTypeOf(line.ItemType)
	fmt.Println(t)
	// Output:
	// TX-9 300000000012 -30.00 USD Refund: Lost item replacement fee <nil>
	// LOSTITEMREPLACEMENTFEE
}

func ExampleCalendar_TermFor() {
	c := peoplesoft.DefaultCalendar()
	for _, d := range []string{"2026-09-01", "2027-03-10", "2027-07-04"} {
		t, _ := time.Parse("2006-01-02", d)
		code, _ := c.TermFor(t)
		fmt.Println(d, code)
	}
	// Output:
	// 2026-09-01 2268
	// 2027-03-10 2272
	// 2027-07-04 2275
}

// A district whose colleges share one PeopleSoft routes each fee by the
// library that owns it: the college's business unit goes in
// BUSINESS_UNIT, and its own item types replace the district's. A fee of
// a library that no college lists is refused, never sent to a default.
func ExampleMapping_colleges() {
	m := peoplesoft.DefaultMapping()
	m.Colleges = []peoplesoft.College{
		{Name: "ARC", BusinessUnit: "ARC01", Libraries: []string{"ARC"}},
		{Name: "CRC", BusinessUnit: "CRC01", Libraries: []string{"CRC"},
			ItemTypes: map[fees.Type]string{fees.TypeOverdueFine: "410000000001"}},
	}
	if err := m.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	for _, owner := range []string{"ARC", "CRC", "DO"} {
		f, _ := fees.NewFee("F-"+owner, fees.TypeOverdueFine, "12345678", fees.MustParseMoney("2.50", fees.USD), asOf)
		f.TransactionID, f.Owner = "TX-"+owner, owner
		ch, err := m.ChargeFor(*f, asOf)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(owner, "→", ch.BusinessUnit, ch.ItemType)
	}
	// Output:
	// ARC → ARC01 300000000001
	// CRC → CRC01 410000000001
	// peoplesoft: fee F-DO (ref TX-DO): rejected: library "DO" is mapped to no college; held until the configuration maps it
}

// Reading back what PeopleSoft's load did with each line of a charge file:
// a refused line carries the load's message.
func ExampleResultDecoder() {
	const file = "REF1_DESCR,ITEM_TYPE,EMPLID,AMOUNT,STATUS,MESSAGE\n" +
		"15216075630006761,300000000001,12345678,123.45,POSTED,\n" +
		"15216075700006761,300000000002,09876,25.00,ERROR,Invalid Employee ID\n" +
		"15216075700006761,300000000002,09876,25.00,MAYBE,\n"
	dec := peoplesoft.NewResultDecoder(strings.NewReader(file), peoplesoft.ReferenceResultLayout(),
		&peoplesoft.DecodeOptions{File: "charges-20261207.results.csv"})
	for {
		r, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		if r.Refused {
			fmt.Println(r.Ref, r.ItemType, r.Amount, "refused:", r.Message)
			continue
		}
		fmt.Println(r.Ref, r.ItemType, r.Amount, "posted")
	}
	// Output:
	// 15216075630006761 300000000001 123.45 USD posted
	// 15216075700006761 300000000002 25.00 USD refused: Invalid Employee ID
	// peoplesoft: charges-20261207.results.csv:4: STATUS: unknown status: "MAYBE": want "POSTED" (posted) or "ERROR" (refused)
}
