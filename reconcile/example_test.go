package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// ExampleJournal_Lock shows the lease that keeps one run of a job at a
// time: a second taker is refused until the first releases the lock or its
// lease expires (a killed process never releases it).
func ExampleJournal_Lock() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "journal-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	now := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	j, err := reconcile.OpenJournal(ctx, filepath.Join(dir, "journal.db"), &reconcile.JournalOptions{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()

	release, err := j.Lock(ctx, "job:charges", time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	_, err = j.Lock(ctx, "job:charges", time.Hour)
	fmt.Println("second run refused:", errors.Is(err, reconcile.ErrLocked))
	release()
	release2, err := j.Lock(ctx, "job:charges", time.Hour)
	fmt.Println("after release:", err == nil)

	// The holder dies without releasing; two hours later the lease is over.
	_ = release2
	now = now.Add(2 * time.Hour)
	_, err = j.Lock(ctx, "job:charges", time.Hour)
	fmt.Println("after the lease expired:", err == nil)
	// Output:
	// second run refused: true
	// after release: true
	// after the lease expired: true
}

// ExampleReport_WriteCSV shows a report row for a held payment: text cells
// that a spreadsheet would read as a formula are neutralised, amounts are
// left as numbers.
func ExampleReport_WriteCSV() {
	rep := reconcile.Report{
		Date: time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC),
		From: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC),
		Held: []reconcile.Record{{
			Kind: reconcile.KindPayment, Key: "R000042/15216075630006761", UserID: "=HYPERLINK(\"x\")",
			FeeID: "15216075630006761", Amount: fees.MustParseMoney("80.00", fees.USD), File: "payments-0306.csv", Line: 3,
			Code:   fees.EOVERPAY,
			Reason: "fee 15216075630006761: payment of 80.00 USD is above the remaining 70.00 USD",
		}},
		Flows: []reconcile.FlowLine{{Flow: "F2", What: "Charges sent to the bursar", Count: 0, Amount: fees.Zero(fees.USD)}},
	}
	if err := rep.WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// section,item,student,fee,type,barcode,file,line,count,amount,what happened,what to do,key,details
	// report,period,,,,,,,,,Thursday 5 March 2026 00:00 – Friday 6 March 2026 00:00 (UTC),,,
	// needs staff,Held payment,"'=HYPERLINK(""x"")",15216075630006761,,,payments-0306.csv,3,,80.00,"Payment of 80.00 for fee 15216075630006761 (student =HYPERLINK(""x"")) in payments-0306.csv line 3 was held: the amount is more than the fee still owes (fee 15216075630006761: payment of 80.00 USD is above the remaining 70.00 USD).","Ask the bursar office to correct or refund the payment, then close this with `feesync dismiss R000042/15216075630006761 -reason TEXT`.",R000042/15216075630006761,overpayment: fee 15216075630006761: payment of 80.00 USD is above the remaining 70.00 USD
	// what flowed,F2,,,,,,,0,0.00,Charges sent to the bursar,,,
}

// ExampleReport_WriteCSV_colleges shows the per-college rows of a district
// whose charges are routed to colleges: each college's charges sent, what
// the bursar still holds of them and the disagreements of the last
// reconciliation, then the district's total.
func ExampleReport_WriteCSV_colleges() {
	usd := func(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }
	rep := reconcile.Report{
		From: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC),
		Colleges: []reconcile.CollegeLine{
			{College: "ARC", Charges: 2, Charged: usd("135.00"), Held: usd("115.00")},
			{College: "CRC", Charges: 1, Charged: usd("0.82"), Held: usd("0.82"), Disagreements: 1},
			{College: "the district", Charges: 3, Charged: usd("135.82"), Held: usd("115.82"), Disagreements: 1},
		},
	}
	if err := rep.WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// section,item,student,fee,type,barcode,file,line,count,amount,what happened,what to do,key,details
	// report,period,,,,,,,,,Thursday 5 March 2026 00:00 – Friday 6 March 2026 00:00 (UTC),,,
	// by college,ARC,,,charged,,,,2,135.00,"charges sent: 2, 135.00",,,
	// by college,ARC,,,held by the bursar,,,,,115.00,the bursar holds 115.00,,,
	// by college,ARC,,,disagreements,,,,0,,disagreements at the last reconciliation: 0,,,
	// by college,CRC,,,charged,,,,1,0.82,"charges sent: 1, 0.82",,,
	// by college,CRC,,,held by the bursar,,,,,0.82,the bursar holds 0.82,,,
	// by college,CRC,,,disagreements,,,,1,,disagreements at the last reconciliation: 1,,,
	// by college,the district,,,charged,,,,3,135.82,"charges sent: 3, 135.82",,,
	// by college,the district,,,held by the bursar,,,,,115.82,the bursar holds 115.82,,,
	// by college,the district,,,disagreements,,,,1,,disagreements at the last reconciliation: 1,,,
}

// ExampleOptions_separateCollegeFiles shows the charges job delivering a
// charge file per college (Options.SeparateCollegeFiles): the lines of one
// export go to the file of their part (ChargeLine.Part, the college's
// business unit with psport), each file with its own header and trailer,
// named with its part.
func ExampleOptions_separateCollegeFiles() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "journal-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	now := func() time.Time { return time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC) }
	j, err := reconcile.OpenJournal(ctx, filepath.Join(dir, "journal.db"), &reconcile.JournalOptions{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	library, bursar := memdrop.New(), memdrop.New()
	for _, d := range []struct {
		drop   *transport.Drop
		folder string
	}{{library, "exports"}, {library, "credits"}, {library, "imports"}, {bursar, "inbound"}, {bursar, "outbound"}} {
		if err := d.drop.MkdirAll(ctx, d.folder); err != nil {
			log.Fatal(err)
		}
	}
	_ = library.WriteFile(ctx, "exports/alma-1.xml", []byte("fee|T1|S001|F1|OVERDUEFINE|B1|2.50\n"+
		"fee|T2|S002|F2|OVERDUEFINE|B2|4.00\nfee|T3|S001|F3|OVERDUEFINE|B3|1.00\nend|3\n"))
	jobs, err := reconcile.New(reconcile.Deps{Journal: j, Library: library, Bursar: bursar, Export: lineExport{},
		Charges:  &lineCharges{colleges: map[string]string{"S001": "ARC01", "S002": "CRC01"}},
		Payments: linePayments{}, Import: lineImport{}},
		&reconcile.Options{Now: now, TempDir: dir, SeparateCollegeFiles: true})
	if err != nil {
		log.Fatal(err)
	}
	res, err := jobs.Charges(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range res.Outputs {
		data, _ := bursar.ReadFile(ctx, name)
		fmt.Printf("%s\n%s", strings.TrimPrefix(name, "inbound/feebridge-charges-"), data)
	}
	// Output:
	// 98d22ff8d62d46a5-ARC01.dat
	// H|2026-03-02T18:30:00Z
	// C|T1|S001|OVERDUEFINE|2.50
	// C|T3|S001|OVERDUEFINE|1.00
	// T|2|3.50
	// 98d22ff8d62d46a5-CRC01.dat
	// H|2026-03-02T18:30:00Z
	// C|T2|S002|OVERDUEFINE|4.00
	// T|1|4.00
}
