package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
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
		Held: []reconcile.Record{{
			Kind: reconcile.KindPayment, Key: "R000042/15216075630006761", UserID: "=HYPERLINK(\"x\")",
			Amount: fees.MustParseMoney("80.00", fees.USD), File: "payments-0306.csv", Line: 3,
			Reason: "fee 15216075630006761: payment of 80.00 USD is above the remaining 70.00 USD",
		}},
	}
	if err := rep.WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// section,student,fee,transaction,type,barcode,amount,file,line,reason
	// held payment,"'=HYPERLINK(""x"")",,R000042/15216075630006761,,,80.00,payments-0306.csv,3,fee 15216075630006761: payment of 80.00 USD is above the remaining 70.00 USD
	// total charged,,,,,,,,,
	// total credited,,,,,,,,,
	// total waived,,,,,,,,,
}
