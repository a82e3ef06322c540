package district_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
)

// feesyncOver plugs feesync's jobs into a district, as the sandbox does:
// the journal in the district's folder, the reference adapters of
// reconcile/almaport and reconcile/psport, the Alma client with the district's API key. It returns the jobs
// and their journal.
func feesyncOver(ctx context.Context, d *district.District) (*reconcile.Jobs, *reconcile.Journal, error) {
	j, err := reconcile.OpenJournal(ctx, filepath.Join(d.Dir(), "journal.db"), &reconcile.JournalOptions{Now: d.Clock().Now})
	if err != nil {
		return nil, nil, err
	}
	client, err := alma.NewClient(d.Alma().URL(), d.Secrets().APIKey, &alma.ClientOptions{
		RatePerSecond: 1000, Now: d.Clock().Now,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		j.Close()
		return nil, nil, err
	}
	mapping := district.Mapping()
	jobs, err := reconcile.New(reconcile.Deps{
		Journal: j, Library: d.Library(), Bursar: d.Bursar(),
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: mapping},
		Payments: psport.PaymentFormat{Mapping: &mapping}, Import: almaport.ImportFormat{},
		Alma: almaport.AlmaAPI{Client: client},
	}, &reconcile.Options{Now: d.Clock().Now, TempDir: filepath.Join(d.Dir(), "tmp"),
		WaiveReason: district.WaiveReason, WaiveComment: district.WaiveComment, QuietAfter: -1})
	if err != nil {
		j.Close()
		return nil, nil, err
	}
	return jobs, j, nil
}

// A fine, step by step: Alma charges it, its evening export and feesync's
// charges job send it to PeopleSoft, the student pays it in eServices, and
// within the hour feesync's payments job and Alma's import close it.
func Example() {
	ctx := context.Background()
	d, err := district.Open(ctx, &district.Options{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	d.Clock().Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	jobs, journal, err := feesyncOver(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()
	f := district.Jobs(jobs, journal)

	a := d.Alma()
	if err := a.AddUser(almatest.User{ID: "1402037", FirstName: "Ana", LastName: "Chen"}); err != nil {
		log.Fatal(err)
	}
	fine, err := a.AddFee("1402037", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: fees.MustParseMoney("4.50", fees.USD)})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Evening(ctx, f); err != nil {
		log.Fatal(err)
	}
	fine, _ = a.Fee(fine.ID)
	left, _ := d.PeopleSoft().Balance(fine.TransactionID)
	fmt.Println("evening:", fine.Status, "in Alma,", left, "owed in PeopleSoft")

	d.NextMorning()
	if _, err := d.PeopleSoft().Pay(fine.TransactionID, left, fees.ChannelEServices, fees.MethodCreditCard); err != nil {
		log.Fatal(err)
	}
	if err := d.Hour(ctx, f); err != nil {
		log.Fatal(err)
	}
	fine, _ = a.Fee(fine.ID)
	left, _ = d.PeopleSoft().Balance(fine.TransactionID)
	fmt.Println("an hour after the payment:", fine.Status, "in Alma,", left, "owed in PeopleSoft")
	// Output:
	// evening: Transferred in Alma, 4.50 USD owed in PeopleSoft
	// an hour after the payment: Closed in Alma, 0.00 USD owed in PeopleSoft
}

// A whole week, as the sandbox plays it: the students and staff act on
// their schedules, feesync's jobs run on theirs, and the summary audits
// the week.
func ExampleDistrict_Week() {
	ctx := context.Background()
	var out bytes.Buffer
	dir, err := os.MkdirTemp("", "district-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var jobs *reconcile.Jobs
	d, err := district.Open(ctx, &district.Options{Dir: dir, Students: 5, Days: 2, Seed: 1, Out: &out,
		Webhook: func(ctx context.Context, ev alma.Event) error { return almaport.WebhookCallback(jobs)(ctx, ev) }})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	jobs, journal, err := feesyncOver(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()
	f := district.Jobs(jobs, journal)
	err = d.Week(ctx, f, district.Schedules{Charges: "30 18 * * *", Payments: "5 * * * *",
		Credits: "35 * * * *", Reconcile: "30 6 * * *", Report: "0 7 * * *"})
	if err != nil {
		log.Fatal(err)
	}
	ok, err := d.Summary(ctx, f)
	if err != nil {
		log.Fatal(err)
	}
	text := out.String()
	i := strings.Index(text, "Alma and PeopleSoft agree to the cent for all")
	fmt.Println(ok, strings.SplitN(text[max(i, 0):], ";", 2)[0])
	// Output:
	// true Alma and PeopleSoft agree to the cent for all 4 students (7 fees charged)
}
