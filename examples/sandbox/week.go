package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/robfig/cron/v3"
)

// feesync's schedules are the default ones of reconcile/config; around
// them, the schedules of what Alma, PeopleSoft, the students and the
// staff do.
const (
	chargesSchedule   = config.ChargesSchedule
	paymentsSchedule  = config.PaymentsSchedule
	creditsSchedule   = config.CreditsSchedule
	reconcileSchedule = config.ReconcileSchedule
	reportSchedule    = config.ReportSchedule

	almaLostSchedule    = "0 16 * * *"    // F1: Alma's lost-item job
	almaExportSchedule  = "0 18 * * *"    // F2: Alma's export to bursar
	almaImportSchedule  = "15 * * * *"    // F3: Alma's bursar import
	almaCreditsSchedule = "30 * * * *"    // F4: Alma's credit export
	almaWebhookSchedule = "0 * * * *"     // webhook redelivery
	deskSchedule        = "0 9-16 * * *"  // the circulation desk, the cashier, students online
	plansSchedule       = "20 9-17 * * *" // staff follow the two-step waivers
	psLoadSchedule      = "45 * * * *"    // PeopleSoft's External File Load
	psPaymentsSchedule  = "50 * * * *"    // PeopleSoft's payment query report
)

// task is one thing done on a schedule of the simulated clock.
type task struct {
	name  string
	sched cron.Schedule
	next  time.Time
	run   func(ctx context.Context) error
}

// week plays the days on the simulated clock: every task runs at each time
// its schedule gives, in the order listed when two fall at the same
// minute. The days end on the morning after the last one, with the
// reconciliation and the report.
func (d *district) week(ctx context.Context) error {
	if err := d.setup(); err != nil {
		return err
	}
	specs := []struct {
		name, spec string
		run        func(ctx context.Context) error
	}{
		{"reconcile", reconcileSchedule, d.reconcileJob},
		{"report", reportSchedule, d.reportJob},
		{"webhooks", almaWebhookSchedule, d.deliverWebhooks},
		{"desk", deskSchedule, d.desk},
		{"payments", paymentsSchedule, d.paymentsJob},
		{"alma-import", almaImportSchedule, d.almaImport},
		{"plans", plansSchedule, d.followPlans},
		{"alma-lost", almaLostSchedule, d.almaLost},
		{"alma-export", almaExportSchedule, d.almaExport},
		{"charges", chargesSchedule, d.chargesJob},
		{"alma-credits", almaCreditsSchedule, d.almaCredits},
		{"credits", creditsSchedule, d.creditsJob},
		{"ps-load", psLoadSchedule, d.psLoad},
		{"ps-payments", psPaymentsSchedule, d.psPayments},
	}
	start := d.s.Start
	end := start.AddDate(0, 0, d.s.Days).Add(7 * time.Hour)
	tasks := make([]*task, len(specs))
	for i, sp := range specs {
		sched, err := cron.ParseStandard(sp.spec)
		if err != nil {
			return fmt.Errorf("schedule of %s: %w", sp.name, err)
		}
		tasks[i] = &task{name: sp.name, sched: sched, next: sched.Next(start.Add(-time.Second)), run: sp.run}
	}
	d.clock.Set(start)
	d.newDay(start)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next := tasks[0].next
		for _, t := range tasks[1:] {
			if t.next.Before(next) {
				next = t.next
			}
		}
		if next.After(end) {
			break
		}
		if !sameDay(next, d.today.date) {
			d.endDay()
			d.newDay(next)
		}
		d.clock.Set(next)
		for _, t := range tasks {
			if t.next.Equal(next) {
				if d.s.tamper != nil {
					if err := d.s.tamper(ctx, d, t.name); err != nil {
						return err
					}
				}
				if err := t.run(ctx); err != nil {
					return fmt.Errorf("%s at %s: %w", t.name, next.Format("Mon 15:04"), err)
				}
				t.next = t.sched.Next(next)
			}
		}
	}
	d.endDay()
	return nil
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// dayNumber is 1 for the first simulated day.
func (d *district) dayNumber() int {
	return int(d.clock.Now().Sub(d.s.Start)/(24*time.Hour)) + 1
}

// active reports whether the students and staff are at work today: on the
// simulated days, not on the morning after.
func (d *district) active() bool { return d.dayNumber() <= d.s.Days }

// ---- feesync's jobs -------------------------------------------------------

func (d *district) chargesJob(ctx context.Context) error {
	var res reconcile.RunResult
	err := d.run(ctx, "charges", func(ctx context.Context, j *reconcile.Jobs) (err error) {
		res, err = j.Charges(ctx)
		return err
	})
	if err != nil {
		return err
	}
	d.noteRun("charges", res)
	d.today.charged += res.Records
	d.today.chargedSum = add(d.today.chargedSum, res.Total)
	d.today.chargeFiles = append(d.today.chargeFiles, res.Outputs...)
	return nil
}

func (d *district) paymentsJob(ctx context.Context) error {
	var res reconcile.RunResult
	err := d.run(ctx, "payments", func(ctx context.Context, j *reconcile.Jobs) (err error) {
		res, err = j.Payments(ctx)
		return err
	})
	if err != nil {
		return err
	}
	d.noteRun("payments", res)
	d.today.forwarded += res.Records
	d.today.forwardedSum = add(d.today.forwardedSum, res.Total)
	return nil
}

func (d *district) creditsJob(ctx context.Context) error {
	var res reconcile.RunResult
	err := d.run(ctx, "credits", func(ctx context.Context, j *reconcile.Jobs) (err error) {
		res, err = j.Credits(ctx)
		return err
	})
	if err != nil {
		return err
	}
	d.noteRun("credits", res)
	d.today.credited += res.Records
	d.today.creditedSum = add(d.today.creditedSum, res.Total.Abs())
	return nil
}

// noteRun records what a job held back: in a good week, nothing.
func (d *district) noteRun(job string, res reconcile.RunResult) {
	for _, r := range res.Rejected {
		d.stats.problems = append(d.stats.problems, fmt.Sprintf("%s held %s %s (%s:%d): %s", job, r.Kind, r.Key, r.File, r.Line, r.Reason))
	}
	for _, f := range res.Failed {
		d.stats.problems = append(d.stats.problems, fmt.Sprintf("%s failed file %s: %s", job, f.File, f.Reason))
	}
}

func (d *district) reconcileJob(ctx context.Context) error {
	var rec reconcile.Reconciliation
	err := d.run(ctx, "reconcile", func(ctx context.Context, j *reconcile.Jobs) (err error) {
		rec, err = j.Reconcile(ctx, d.ledger)
		return err
	})
	if err != nil {
		return err
	}
	d.today.reconciled = true
	d.today.reconciliation = rec
	return nil
}

func (d *district) reportJob(ctx context.Context) error {
	var res reconcile.ReportResult
	err := d.run(ctx, "report", func(ctx context.Context, j *reconcile.Jobs) (err error) {
		res, err = j.Report(ctx)
		return err
	})
	if err != nil {
		return err
	}
	d.stats.reports++
	d.today.report = &res
	// The fallback of flow F6: staff waive by hand the fees of lost
	// items that came back but still carry a balance (the webhook
	// failed for good).
	for _, f := range res.Report.ReturnedWithFees {
		if _, err := d.alma.Waive(f.UserID, f.ID, fees.Money{}, waiveReason, "waived from the daily report"); err != nil {
			return fmt.Errorf("waive fee %s from the report: %w", f.ID, err)
		}
		d.stats.byHand++
		d.today.byHand++
	}
	return nil
}

// ---- Alma's scheduled jobs and webhooks ----------------------------------

func (d *district) almaLost(context.Context) error {
	assessed := d.alma.RunLostItemJob()
	d.lostAssessed(assessed, false)
	return nil
}

func (d *district) almaExport(ctx context.Context) error {
	res, err := d.alma.RunExport(ctx, d.almaSide, "exports", profile)
	if err != nil {
		return err
	}
	d.today.exported += len(res.Records)
	d.today.exportedSum = add(d.today.exportedSum, res.Total)
	if res.File != "" {
		d.today.exportFiles = append(d.today.exportFiles, res.File)
	}
	d.stats.exported += len(res.Records)
	d.stats.exportedSum = add(d.stats.exportedSum, res.Total)
	return nil
}

func (d *district) almaCredits(ctx context.Context) error {
	res, err := d.alma.RunCreditExport(ctx, d.almaSide, "credits", profile)
	if err != nil {
		return err
	}
	d.today.creditExports += len(res.Records)
	d.stats.creditExported += len(res.Records)
	d.stats.creditExportedSum = add(d.stats.creditExportedSum, res.Total.Abs())
	return nil
}

func (d *district) almaImport(ctx context.Context) error {
	res, err := d.alma.RunImport(ctx, d.almaSide, "imports")
	if err != nil {
		return err
	}
	for _, f := range res.Files {
		if f.Err != nil {
			d.stats.problems = append(d.stats.problems, fmt.Sprintf("Alma could not import %s: %v", f.Name, f.Err))
		}
	}
	for _, r := range res.Rejected() {
		d.stats.problems = append(d.stats.problems, fmt.Sprintf("Alma's import refused transaction %s: %s", r.TransactionID, r.Reason))
	}
	applied := res.Applied()
	d.today.imported += len(applied)
	for _, p := range applied {
		d.today.importedSum = add(d.today.importedSum, p.Amount)
	}
	return nil
}

// deliverWebhooks lets Alma deliver the events that are due, including
// the new ones right away.
func (d *district) deliverWebhooks(ctx context.Context) error {
	d.alma.RunDue(ctx)
	return nil
}

// ---- PeopleSoft ------------------------------------------------------------

func (d *district) psLoad(ctx context.Context) error {
	res, err := d.ledger.load(ctx)
	if err != nil {
		return err
	}
	d.today.psCharges += res.charges
	d.today.psCredits += res.credits
	d.today.psCreditSum = add(d.today.psCreditSum, res.creditTotal)
	d.stats.psCredits += res.credits
	d.stats.psCreditSum = add(d.stats.psCreditSum, res.creditTotal)
	if res.credits > 0 {
		d.creditsArrived()
	}
	return nil
}

func (d *district) psPayments(ctx context.Context) error {
	name, n, err := d.ledger.flush(ctx)
	if err != nil {
		return err
	}
	if name != "" {
		d.today.psFiles++
		d.today.psPayments += n
	}
	return nil
}

// add adds b to a, taking a zero a as the start of a sum.
func add(a, b fees.Money) fees.Money {
	if !b.Valid() {
		return a
	}
	if !a.Valid() {
		return b
	}
	s, err := a.Add(b)
	if err != nil {
		return a
	}
	return s
}

// feeOf returns Alma's fee with the bursar transaction id.
func (d *district) feeOf(txn string) (fees.Fee, bool) { return d.alma.FeeByTransactionID(txn) }

// lostFees returns the user's lost-item fees for the item, oldest first.
func (d *district) lostFees(user, barcode string) []fees.Fee {
	return slices.DeleteFunc(d.alma.Fees(user), func(f fees.Fee) bool {
		return !f.Type.IsLostItem() || f.Item.Barcode != barcode
	})
}
