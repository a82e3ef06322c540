package alma_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

func ExampleExportDecoder() {
	const export = `<?xml version="1.0" encoding="UTF-8"?>
<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
  <xb:userExportedFineFees><xb:exportNumber>15216075870006761</xb:exportNumber></xb:userExportedFineFees>
  <xb:userExportedFineFees><xb:userExportedList>
    <xb:userExportedFineFeesList>
      <xb:user><xb:type>02</xb:type><xb:value>W1234567</xb:value></xb:user>
      <xb:patronName>Ávila, Zoë</xb:patronName>
      <xb:finefeeList>
        <xb:userFineFee>
          <xb:fineFeeType>LOSTITEMREPLACEMENTFEE</xb:fineFeeType>
          <xb:itemBarcode>39080037379556</xb:itemBarcode>
          <xb:compositeSum><xb:currency>USD</xb:currency><xb:sum>300</xb:sum></xb:compositeSum>
          <xb:bursarTransactionId>15216075490006761</xb:bursarTransactionId>
        </xb:userFineFee>
        <xb:userFineFee>
          <xb:fineFeeType>OVERDUEFINE</xb:fineFeeType>
          <xb:compositeSum><xb:currency>USD</xb:currency><xb:sum>0.825</xb:sum></xb:compositeSum>
          <xb:bursarTransactionId>15216075640006761</xb:bursarTransactionId>
        </xb:userFineFee>
        <xb:userFineFee>
          <xb:fineFeeType>CREDIT</xb:fineFeeType>
          <xb:compositeSum><xb:currency>USD</xb:currency><xb:sum>-1.45</xb:sum></xb:compositeSum>
          <xb:bursarTransactionId>15216075650006761</xb:bursarTransactionId>
        </xb:userFineFee>
      </xb:finefeeList>
    </xb:userExportedFineFeesList>
  </xb:userExportedList></xb:userExportedFineFees>
</xb:xml-fragment>`

	d := alma.NewExportDecoder(strings.NewReader(export), &alma.DecoderOptions{File: "BURSAR-7210493750006761-1705341603000.xml"})
	for {
		rec, err := d.Decode()
		if err == io.EOF {
			break
		}
		var perr *alma.ParseError
		if errors.As(err, &perr) && !errors.Is(err, alma.ErrSyntax) {
			// A bad record: report it and go on with the next one.
			fmt.Println("refused:", err)
			continue
		}
		if err != nil {
			fmt.Println("file refused:", err)
			return
		}
		if rec.IsCredit() {
			c, _ := rec.Credit()
			fmt.Printf("credit %s for %s: %s\n", c.Key, c.UserID, c.Amount)
			continue
		}
		f, _ := rec.Fee()
		fmt.Printf("fee %s for %s (%s): %s %s, %s\n", f.TransactionID, f.UserID, rec.Patron.Name, f.Type, f.Balance, f.Status)
	}
	fmt.Println("export", d.ExportNumber())
	// Output:
	// fee 15216075490006761 for W1234567 (Ávila, Zoë): LOSTITEMREPLACEMENTFEE 300.00 USD, Transferred
	// refused: alma: bursar file BURSAR-7210493750006761-1705341603000.xml, line 17, user *****567, transaction 15216075640006761: bad amount: amount "0.825": more than 2 decimal places
	// credit 15216075650006761 for W1234567: 1.45 USD
	// export 15216075870006761
}

func ExampleImportEncoder() {
	paid := time.Date(2024, 1, 16, 9, 30, 0, 0, time.UTC)
	e := alma.NewImportEncoder(os.Stdout, nil)
	e.Encode(alma.ImportRecord{
		Patron:          alma.Patron{ID: "W1234567", IDType: "02", Name: "Ávila, Zoë"},
		Type:            fees.TypeLostItemReplacementFee,
		Amount:          fees.MustParseMoney("120.00", fees.USD), // a partial payment at the cashier
		TransactionID:   "15216075490006761",                     // the fee it pays
		LastTransaction: paid,
	})
	if err := e.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	// 	<xb:userExportedFineFees>
	// 		<xb:userExportedList>
	// 			<xb:userExportedFineFeesList>
	// 				<xb:user>
	// 					<xb:type>02</xb:type>
	// 					<xb:value>W1234567</xb:value>
	// 				</xb:user>
	// 				<xb:patronName>Ávila, Zoë</xb:patronName>
	// 				<xb:finefeeList>
	// 					<xb:userFineFee>
	// 						<xb:fineFeeComment xsi:nil="true"/>
	// 						<xb:fineFeeType>LOSTITEMREPLACEMENTFEE</xb:fineFeeType>
	// 						<xb:owneredEntity xsi:nil="true"/>
	// 						<xb:lastTransactionDate>01/16/2024 09:30:00</xb:lastTransactionDate>
	// 						<xb:itemTitle xsi:nil="true"/>
	// 						<xb:itemCallNumebr xsi:nil="true"/>
	// 						<xb:itemLibrary xsi:nil="true"/>
	// 						<xb:itemLocation xsi:nil="true"/>
	// 						<xb:itemDueDate xsi:nil="true"/>
	// 						<xb:itemBarcode xsi:nil="true"/>
	// 						<xb:compositeSum>
	// 							<xb:currency>USD</xb:currency>
	// 							<xb:sum>120.00</xb:sum>
	// 							<xb:vat xsi:nil="true"/>
	// 						</xb:compositeSum>
	// 						<xb:bursarTransactionId>15216075490006761</xb:bursarTransactionId>
	// 					</xb:userFineFee>
	// 				</xb:finefeeList>
	// 			</xb:userExportedFineFeesList>
	// 		</xb:userExportedList>
	// 	</xb:userExportedFineFees>
	// </xb:xml-fragment>
}

func ExampleFileName() {
	name := alma.FileName("BURSAR", "7210493750006761", time.Date(2024, 1, 15, 18, 0, 3, 0, time.UTC))
	fmt.Println(name)
	profile, job, t, err := alma.ParseFileName(name)
	fmt.Println(profile, job, t, err)
	// Output:
	// BURSAR-7210493750006761-1705341603000.xml
	// BURSAR 7210493750006761 2024-01-15 18:00:03 +0000 UTC <nil>
}

// A large export file is decoded in parts on all the cores, with the same
// records, errors and lines as NewExportDecoder gives; the caller checks
// the charge keys itself (AllowDuplicates), in file order.
func ExampleNewExportDecoderAt() {
	f, err := os.Open("testdata/bursar/mit-bursar-export.xml")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}
	d := alma.NewExportDecoderAt(f, st.Size(), &alma.DecoderOptions{File: f.Name(), AllowDuplicates: true})
	defer d.Close() // stops its goroutines if the file is not read to its end
	var keys alma.ChargeKeySet
	records, repeated := 0, 0
	for {
		rec, err := d.Decode()
		if err == io.EOF {
			break
		}
		if alma.IsFileError(err) {
			fmt.Println("file refused:", err)
			return
		}
		if err != nil {
			fmt.Println("refused:", err)
			continue
		}
		records++
		if keys.Add(rec.TransactionID, rec.Type) {
			repeated++
		}
	}
	fmt.Printf("%d records, %d repeated charge keys, export %s\n", records, repeated, d.ExportNumber())
	// Output:
	// 10 records, 0 repeated charge keys, export 15216075870006761
}
