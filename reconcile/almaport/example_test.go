package almaport_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// Example runs the charges job on a real Alma export with the reference
// PeopleSoft mapping, from which LOSTITEMREPLACEMENTFEE was left out: those
// fees are held with the reason. The five fees of one student that share a
// bursar transaction id, each of its own type, are sent, each as its own
// charge (REF1_DESCR and ITEM_TYPE). Once the mapping is fixed, Redrive
// sends the held fees: all ten reach the bursar.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "feebridge-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	journal, err := reconcile.OpenJournal(ctx, filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()

	library, bursar := memdrop.New(), memdrop.New()
	export, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		log.Fatal(err)
	}
	if err := library.MkdirAll(ctx, "exports"); err != nil {
		log.Fatal(err)
	}
	if err := bursar.MkdirAll(ctx, "inbound"); err != nil {
		log.Fatal(err)
	}
	if err := library.WriteFile(ctx, "exports/MIT-1234-1700000000000.xml", export); err != nil {
		log.Fatal(err)
	}

	mapping := peoplesoft.DefaultMapping()
	delete(mapping.ItemTypes, fees.TypeLostItemReplacementFee)
	charges := &psport.ChargeFormat{Mapping: mapping}
	jobs, err := reconcile.New(reconcile.Deps{
		Journal: journal, Library: library, Bursar: bursar,
		Export: almaport.ExportFormat{}, Charges: charges,
	}, &reconcile.Options{
		Now:     func() time.Time { return time.Date(2026, 3, 2, 18, 10, 0, 0, time.UTC) },
		TempDir: dir,
	})
	if err != nil {
		log.Fatal(err)
	}

	res, err := jobs.Charges(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d fees, %s, in %s\n", res.Records, res.Total, res.Outputs[0])
	for _, r := range res.Rejected {
		reason := r.Reason
		if strings.Contains(r.Reason, "no PeopleSoft item type") {
			reason = "fee type not mapped"
		}
		fmt.Printf("held: line %d: %s\n", r.Line, reason)
	}

	charges.Mapping.ItemTypes[fees.TypeLostItemReplacementFee] = peoplesoft.ItemTypeLostItemReplacementFee
	res, err = jobs.Redrive(ctx, reconcile.KindCharge)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("re-driven: %d fee, %s\n", res.Records, res.Total)
	// Output:
	// sent 8 fees, 179.72 USD, in inbound/feebridge-charges-8623008022a8de6f.dat
	// held: line 70: fee type not mapped
	// held: line 134: fee type not mapped
	// re-driven: 2 fee, 400.00 USD
}
