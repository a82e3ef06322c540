package district

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/robfig/cron/v3"
)

// The schedules of what Alma, PeopleSoft, the students and the staff do
// around feesync's jobs.
const (
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

// runOn is how long the last morning runs on at most after the report,
// with the hourly flows only, until what was done before has flowed
// (see [District.Week]).
const runOn = 6 * time.Hour

// task is one thing done on a schedule of the simulated clock.
type task struct {
	name  string
	sched cron.Schedule
	next  time.Time
	run   func(ctx context.Context) error
	// flow says the task carries payments and credits between Alma and
	// PeopleSoft (or delivers Alma's webhooks): it runs on, on the last
	// morning, until everything has flowed.
	flow bool
}

// Week plays the days on the simulated clock. It enrols the students and
// checks their loans out first, then runs feesync's jobs f on their
// schedules s among Alma's, PeopleSoft's and the people's, and prints the
// timeline, a day at a time, to Options.Out. Every task runs at each time
// its schedule gives, in a fixed order when two fall at the same minute
// (feesync's report before Alma's 07:00 redelivery, its charges job before
// Alma's 18:30 credit export). The days end on the morning after the last
// one, with the reconciliation and the report at 07:00; the morning then
// runs on, with the hourly flows only (Alma's webhooks, imports and credit
// exports, feesync's payments and credits jobs, PeopleSoft's file load and
// payment report), until every payment and waiver made before has flowed
// ([District.Flowed]), at most until 13:00, so that the week is judged
// after a waiver staff made by hand at 07:00 reached PeopleSoft. A job of
// f that fails ends the week with its error; f retries or restarts a run
// itself if it wants.
func (d *District) Week(ctx context.Context, f Feesync, s Schedules) error {
	if err := d.setup(); err != nil {
		return err
	}
	d.feesync = f
	specs := []struct {
		name, spec string
		run        func(ctx context.Context) error
		flow       bool
	}{
		{"reconcile", s.Reconcile, func(ctx context.Context) error { return d.reconcileJob(ctx, f) }, false},
		{"report", s.Report, func(ctx context.Context) error { return d.reportJob(ctx, f) }, false},
		{"webhooks", almaWebhookSchedule, d.deliverWebhooks, true},
		{"desk", deskSchedule, d.desk, false},
		{"payments", s.Payments, func(ctx context.Context) error { return d.paymentsJob(ctx, f) }, true},
		{"alma-import", almaImportSchedule, d.almaImport, true},
		{"plans", plansSchedule, d.followPlans, false},
		{"alma-lost", almaLostSchedule, d.almaLost, false},
		{"alma-export", almaExportSchedule, d.almaExport, false},
		{"charges", s.Charges, func(ctx context.Context) error { return d.chargesJob(ctx, f) }, false},
		{"alma-credits", almaCreditsSchedule, d.almaCredits, true},
		{"credits", s.Credits, func(ctx context.Context) error { return d.creditsJob(ctx, f) }, true},
		{"ps-load", psLoadSchedule, d.psLoad, true},
		{"ps-payments", psPaymentsSchedule, d.psPayments, true},
	}
	specs = append(specs, d.refusalTasks(f, s)...)
	start := d.opt.Start
	end := start.AddDate(0, 0, d.opt.Days).Add(7 * time.Hour)
	tasks := make([]*task, len(specs))
	for i, sp := range specs {
		sched, err := cron.ParseStandard(sp.spec)
		if err != nil {
			return fmt.Errorf("schedule of %s: %w", sp.name, err)
		}
		tasks[i] = &task{name: sp.name, sched: sched, next: sched.Next(start.Add(-time.Second)), run: sp.run, flow: sp.flow}
	}
	d.clock.Set(start)
	d.newDay(start)
	runningOn := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next := nextRun(tasks, runningOn)
		if !runningOn && next.After(end) {
			// The report is done: from here on, the flows only.
			runningOn = true
			next = nextRun(tasks, runningOn)
		}
		if runningOn && (d.Flowed(ctx) || next.After(end.Add(runOn))) {
			break
		}
		if !sameDay(next, d.today.date) {
			d.endDay()
			d.newDay(next)
		}
		// A task may have moved the clock on (a standby of the
		// sandbox's -instances waiting for a lease to expire): the
		// clock never goes back.
		if next.After(d.clock.Now()) {
			d.clock.Set(next)
		}
		for _, t := range tasks {
			if t.next.Equal(next) && (t.flow || !runningOn) {
				if d.opt.BeforeTask != nil {
					if err := d.opt.BeforeTask(ctx, t.name); err != nil {
						return err
					}
				}
				if err := t.run(ctx); err != nil {
					err = fmt.Errorf("%s at %s: %w", t.name, next.Format("Mon 15:04"), err)
					if d.opt.JobFailed == nil || !feesyncJobs[t.name] {
						return err
					}
					if err := d.opt.JobFailed(ctx, t.name, err); err != nil {
						return err
					}
					d.today.note("failed jobs", "feesync", next, t.name+" failed ("+firstLine(err.Error())+"); it runs again at its next time")
				}
				t.next = t.sched.Next(next)
			}
		}
	}
	d.endDay()
	return nil
}

// feesyncJobs are the tasks of the week that are feesync's own jobs, whose
// failure Options.JobFailed may let the week play on past.
var feesyncJobs = map[string]bool{"reconcile": true, "report": true, "payments": true, "charges": true, "credits": true, "results": true}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// nextRun is the earliest time a task is due, among the flows only when
// the last morning runs on.
func nextRun(tasks []*task, flowsOnly bool) time.Time {
	var next time.Time
	for _, t := range tasks {
		if (t.flow || !flowsOnly) && (next.IsZero() || t.next.Before(next)) {
			next = t.next
		}
	}
	return next
}

// Flowed reports whether everything done so far has flowed between Alma
// and PeopleSoft: PeopleSoft has written every payment it took to a
// payment file, and on each of its charges it shows the balance Alma
// shows on the fee, so that no payment is still on its way to Alma and no
// credit of a waiver on its way to PeopleSoft; and no webhook event is
// still to be delivered by Alma or handled by feesync (an event retrying
// is a lost item whose waiver has not happened yet).
func (d *District) Flowed(ctx context.Context) bool {
	if t := d.ledger.ledger.Totals(); t.Payments != t.PaymentsWritten {
		return false
	}
	for _, h := range d.alma.Webhooks() {
		if h.State == almatest.DeliveryPending {
			return false
		}
	}
	if d.feesync != nil {
		if _, pending, err := d.feesync.Journal().NextEvent(ctx); err != nil || pending {
			return false
		}
	}
	for _, it := range d.ledger.Items() {
		f, ok := d.feeOf(it.Ref)
		if !ok {
			continue // the audit reports it
		}
		if !add(fees.Zero(d.cur), f.Balance).Equal(add(fees.Zero(d.cur), it.Balance)) {
			return false
		}
	}
	return true
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// dayNumber is 1 for the first simulated day.
func (d *District) dayNumber() int {
	return int(d.clock.Now().Sub(d.opt.Start)/(24*time.Hour)) + 1
}

// active reports whether the students and staff are at work today: on the
// simulated days, not on the morning after.
func (d *District) active() bool { return d.dayNumber() <= d.opt.Days }

// ---- feesync's jobs -------------------------------------------------------

func (d *District) chargesJob(ctx context.Context, f Feesync) error {
	res, err := f.Charges(ctx)
	if err != nil {
		return err
	}
	d.noteRun("charges", res)
	if d.today.chargedAt.IsZero() && res.Records > 0 {
		d.today.chargedAt = d.clock.Now()
	}
	d.today.charged += res.Records
	d.today.chargedSum = add(d.today.chargedSum, res.Total)
	d.today.chargeFiles = append(d.today.chargeFiles, res.Outputs...)
	return nil
}

func (d *District) paymentsJob(ctx context.Context, f Feesync) error {
	res, err := f.Payments(ctx)
	if err != nil {
		return err
	}
	d.noteRun("payments", res)
	d.today.forwarded += res.Records
	d.today.forwardedSum = add(d.today.forwardedSum, res.Total)
	return nil
}

func (d *District) creditsJob(ctx context.Context, f Feesync) error {
	res, err := f.Credits(ctx)
	if err != nil {
		return err
	}
	d.noteRun("credits", res)
	if err := d.decideReportedRefunds(ctx, f.Journal()); err != nil {
		return err
	}
	d.today.credited += res.Records
	d.today.creditedSum = add(d.today.creditedSum, res.Total.Abs())
	return nil
}

// noteRun records what a job held back: in a good week, nothing.
func (d *District) noteRun(job string, res reconcile.RunResult) {
	for _, r := range res.Rejected {
		if r.Kind == reconcile.KindRefund && r.Code == reconcile.CodeRefundReport {
			continue // held for staff by policy, and decided by them (refunds.go)
		}
		d.stats.problems = append(d.stats.problems, fmt.Sprintf("%s held %s %s (%s:%d): %s", job, r.Kind, r.Key, r.File, r.Line, r.Reason))
	}
	for _, f := range res.Failed {
		d.stats.problems = append(d.stats.problems, fmt.Sprintf("%s failed file %s: %s", job, f.File, f.Reason))
	}
}

func (d *District) reconcileJob(ctx context.Context, f Feesync) error {
	rec, err := f.Reconcile(ctx, d.ledger)
	if err != nil {
		return err
	}
	d.today.reconciled = true
	d.today.reconciliation = rec
	return nil
}

func (d *District) reportJob(ctx context.Context, f Feesync) error {
	res, err := f.Report(ctx)
	if err != nil {
		return err
	}
	d.stats.reports++
	d.today.report = &res
	// The fallback of flow F6: staff waive by hand the fees of lost
	// items that came back but still carry a balance (the webhook
	// failed for good).
	for _, fee := range res.Report.ReturnedWithFees {
		if _, err := d.alma.Waive(fee.UserID, fee.ID, fees.Money{}, WaiveReason, "waived from the daily report"); err != nil {
			return fmt.Errorf("waive fee %s from the report: %w", fee.ID, err)
		}
		if fee.Status == fees.StatusTransferred {
			d.awaitCredit(fee.TransactionID, d.clock.Now())
		}
		d.stats.byHand++
		d.today.byHand++
	}
	return nil
}

// ---- Alma's scheduled jobs and webhooks ----------------------------------

func (d *District) almaLost(context.Context) error {
	assessed := d.alma.RunLostItemJob()
	d.lostAssessed(assessed, false)
	return nil
}

func (d *District) almaExport(ctx context.Context) error {
	res, err := d.alma.RunExport(ctx, d.almaSide, "exports", Profile)
	if err != nil {
		return err
	}
	d.planRefusals(res)
	d.today.exported += len(res.Records)
	d.today.exportedSum = add(d.today.exportedSum, res.Total)
	if res.File != "" {
		d.today.exportFiles = append(d.today.exportFiles, res.File)
	}
	d.stats.exported += len(res.Records)
	d.stats.exportedSum = add(d.stats.exportedSum, res.Total)
	if err := d.lintFirstExport(ctx, res.File); err != nil {
		return err
	}
	return d.afterAlmaJob(ctx)
}

func (d *District) almaCredits(ctx context.Context) error {
	res, err := d.alma.RunCreditExport(ctx, d.almaSide, "credits", Profile)
	if err != nil {
		return err
	}
	d.today.creditExports += len(res.Records)
	d.stats.creditExported += len(res.Records)
	d.stats.creditExportedSum = add(d.stats.creditExportedSum, res.Total.Abs())
	return d.afterAlmaJob(ctx)
}

func (d *District) almaImport(ctx context.Context) error {
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
// the new ones right away, and feesync handle the events due.
func (d *District) deliverWebhooks(ctx context.Context) error {
	_, err := d.deliver(ctx, d.feesync)
	return err
}

// ---- PeopleSoft ------------------------------------------------------------

func (d *District) psLoad(ctx context.Context) error {
	res, err := d.ledger.Load(ctx)
	if err != nil {
		return err
	}
	d.today.psCharges += res.Charges
	d.today.psCredits += res.Credits
	d.today.psCreditSum = add(d.today.psCreditSum, res.CreditTotal)
	d.stats.psCredits += res.Credits
	d.stats.psCreditSum = add(d.stats.psCreditSum, res.CreditTotal)
	if res.Credits > 0 {
		d.creditsArrived()
	}
	return nil
}

func (d *District) psPayments(ctx context.Context) error {
	name, n, err := d.ledger.Flush(ctx)
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
func (d *District) feeOf(txn string) (fees.Fee, bool) { return d.alma.FeeByTransactionID(txn) }

// lostFees returns the user's lost-item fees for the item, oldest first.
func (d *District) lostFees(user, barcode string) []fees.Fee {
	return slices.DeleteFunc(d.alma.Fees(user), func(f fees.Fee) bool {
		return !f.Type.IsLostItem() || f.Item.Barcode != barcode
	})
}

// ---- step by step ----------------------------------------------------------

// stepDay makes sure the tally has a day for the clock's date, for a test
// that drives the district step by step instead of through Week.
func (d *District) stepDay() {
	if now := d.clock.Now(); d.today == nil || !sameDay(now, d.today.date) {
		d.newDay(now)
	}
}

// AlmaExport runs Alma's export to bursar now, as its 18:00 job does: the
// active fees of the profile go to exports/ in the library's folder.
func (d *District) AlmaExport(ctx context.Context) error {
	d.stepDay()
	return d.almaExport(ctx)
}

// AlmaImport runs Alma's bursar import now, as its hourly job does, on the
// files in imports/. A file or a payment Alma refuses is a problem
// ([District.Problems]).
func (d *District) AlmaImport(ctx context.Context) error {
	d.stepDay()
	return d.almaImport(ctx)
}

// AlmaCredits runs Alma's credit export now, as its hourly job does: the
// waivers of transferred fees go to credits/ in the library's folder.
func (d *District) AlmaCredits(ctx context.Context) error {
	d.stepDay()
	return d.almaCredits(ctx)
}

// DeliverWebhooks lets Alma deliver the webhooks that are due, has f
// handle the journaled events that are due, and returns how many Alma
// delivered.
func (d *District) DeliverWebhooks(ctx context.Context, f Feesync) (int, error) {
	d.stepDay()
	return d.deliver(ctx, f)
}

// Problems are what went wrong so far on Alma's and PeopleSoft's side: a
// job of feesync that held records or failed files, a file or a payment
// Alma's import refused, a charge file PeopleSoft received twice or a line
// it held. In a good week, none.
func (d *District) Problems() []string { return slices.Concat(d.stats.problems, d.ledger.problems) }

// Evening plays the evening of today's date at once, as a test drives it:
// Alma's export at 18:00, feesync's charges job f ten minutes later, and
// PeopleSoft's file load. It fails when a step fails, when the job held a
// record or failed a file, or when PeopleSoft could not take a line.
func (d *District) Evening(ctx context.Context, f Feesync) error {
	now := d.clock.Now()
	d.clock.Set(time.Date(now.Year(), now.Month(), now.Day(), 18, 0, 0, 0, now.Location()))
	return d.steps(ctx, []func(context.Context) error{
		d.AlmaExport,
		func(context.Context) error { d.clock.Advance(10 * time.Minute); return nil },
		func(ctx context.Context) error { return d.chargesJob(ctx, f) },
		d.psLoad,
	})
}

// Hour moves the clock on by an hour and plays the payments and credits
// paths at once: PeopleSoft's payment report, feesync's payments job f,
// Alma's import and credit export, feesync's credits job, and
// PeopleSoft's file load. It fails as Evening does.
func (d *District) Hour(ctx context.Context, f Feesync) error {
	d.clock.Advance(time.Hour)
	return d.steps(ctx, []func(context.Context) error{
		d.psPayments,
		func(ctx context.Context) error { return d.paymentsJob(ctx, f) },
		d.AlmaImport,
		d.AlmaCredits,
		func(ctx context.Context) error { return d.creditsJob(ctx, f) },
		d.psLoad,
	})
}

// NextMorning moves the clock to 09:00 on the next day.
func (d *District) NextMorning() {
	n := d.clock.Now().AddDate(0, 0, 1)
	d.clock.Set(time.Date(n.Year(), n.Month(), n.Day(), 9, 0, 0, 0, n.Location()))
}

// steps runs the steps in turn, and fails on the first error or the first
// new problem.
func (d *District) steps(ctx context.Context, steps []func(context.Context) error) error {
	d.stepDay()
	before := len(d.Problems())
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
		if p := d.Problems(); len(p) > before {
			return fmt.Errorf("%s", strings.Join(p[before:], "; "))
		}
	}
	return nil
}
