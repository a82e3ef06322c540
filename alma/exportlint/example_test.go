package exportlint_test

import (
	"fmt"
	"strings"

	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

// Lint reads a sample export and names each fee the district's policy
// would not have sent: here a $2.50 fine under a $5.00 minimum. The fee
// stays in the export: the fix is the profile's minimum, in Alma.
func ExampleLint() {
	const export = `<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
<xb:userExportedFineFees><xb:userExportedList><xb:userExportedFineFeesList>
<xb:user><xb:type>02</xb:type><xb:value>10012345</xb:value></xb:user>
<xb:finefeeList>
<xb:userFineFee><xb:fineFeeType>OVERDUEFINE</xb:fineFeeType>
<xb:compositeSum><xb:currency>USD</xb:currency><xb:sum>2.50</xb:sum></xb:compositeSum>
<xb:bursarTransactionId>900002</xb:bursarTransactionId></xb:userFineFee>
<xb:userFineFee><xb:fineFeeType>OVERDUEFINE</xb:fineFeeType>
<xb:compositeSum><xb:currency>USD</xb:currency><xb:sum>12.00</xb:sum></xb:compositeSum>
<xb:bursarTransactionId>900001</xb:bursarTransactionId></xb:userFineFee>
</xb:finefeeList></xb:userExportedFineFeesList></xb:userExportedList></xb:userExportedFineFees>
</xb:xml-fragment>`
	policy := exportlint.Policy{MinimumAmount: fees.MustParseMoney("5.00", fees.USD)}
	s, err := exportlint.Lint(strings.NewReader(export), policy, &exportlint.Options{File: "sample.xml"}, func(w exportlint.Warning) {
		fmt.Printf("%s:%d: fee %s %s of %s: %s\n", w.File, w.Line, w.TransactionID, w.Type, fees.MaskID(w.User), w.Findings[0].Detail)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d of %d fees; %s: %s\n", s.Warned, s.Fees, exportlint.BelowMinimum, exportlint.BelowMinimum.Hint())
	// Output:
	// sample.xml:5: fee 900002 OVERDUEFINE of *****345: 2.50 USD is below the minimum 5.00 USD
	// 1 of 2 fees; below-minimum: set the profile's minimum amount (threshold) for export to the policy's minimum
}
