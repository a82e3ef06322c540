package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Report is the daily report (F6): what needs staff, what flowed in its
// period, and the state of the schedule (see report_period.go for the
// period, report_words.go for how it words each row, report_render.go for
// CSV, HTML and text).
type Report struct {
	// Date is the morning the report is written for: the start of the day
	// that contains the time it was built at, in the jobs' clock's zone.
	// Its period ends there.
	Date time.Time
	// From and To are the period whose flows it counts, [From, To): the
	// previous day, or everything since the last report when that is
	// longer (at most MaxReportDays).
	From, To time.Time

	// Partial is set when Alma could not be reached: the report was
	// written from the journal alone, and the lists that need Alma
	// (ReturnedWithFees, PaymentsNotInAlma) may be incomplete.
	// PartialReason says why.
	Partial       bool
	PartialReason string

	// ReturnedWithFees are fees for lost items that are no longer lost (the
	// item came back) yet still have a balance: the fallback list for when
	// the lost-returns handler failed. Staff waive them by hand. Fees in
	// dispute are among them: the handler leaves those for staff.
	ReturnedWithFees []fees.Fee
	// Refused are the charges and credits that were sent, and that the
	// bursar's load then refused (its results file; see [Jobs.Results]):
	// "sent, refused by PeopleSoft", with the load's message, apart from
	// NotSent. Each can be re-driven once the cause is fixed.
	Refused []Record
	// NotSent are transferred fees that never reached the bursar: held
	// (rejected) charges, and charges decided into a file not yet published.
	NotSent []Record
	// PaymentsNotInAlma are payments forwarded to Alma longer ago than the
	// configured delay whose fee does not show them yet.
	PaymentsNotInAlma []PendingPayment
	// Held are the credits and payments held with a reason, for
	// re-driving once the cause is fixed (held charges are in NotSent).
	Held []Record
	// FailedEvents are webhook events whose handling failed for good (a
	// permanent error, or retries given up); the report says what to do.
	FailedEvents []Record
	// LookupFailures are the single Alma lookups that failed for good
	// while the report was built (an item not found, a student Alma
	// refused): each is listed, and the report goes on without it.
	LookupFailures []LookupFailure
	// Disagreements are what the last reconciliation found between Alma
	// and the bursar (its run is in the schedule section).
	Disagreements []journal.Disagreement
	// FailedFiles are input files that could not be read.
	FailedFiles []FileRecord
	// Quiet are the inbound folders without a new file for longer than
	// expected (Options.ExpectFilesWithin; report_quiet.go).
	Quiet []QuietFolder
	// FailedAlmaJobs are Alma's jobs whose JOB_END, received in the
	// period, said they failed or were cancelled (report_jobends.go).
	FailedAlmaJobs []JobEnd
	// Totals are the period's amounts.
	Totals Totals
	// Colleges are, when charges were routed to colleges, each college's
	// charges sent, what the bursar holds of them and the disagreements
	// of the last reconciliation about them, then the district's total
	// (report_colleges.go); nil when no colleges are configured.
	Colleges []CollegeLine
	// Flows are the period's counts and amounts per flow, F2 to F5, every
	// one present (0 and 0.00 when nothing flowed).
	Flows []FlowLine
	// Schedule is the last run of each scheduled job, from the journal's
	// run history; nil when the Store keeps none.
	Schedule []ScheduledJob
	// Quota are the jobs that deferred work or paused for Alma's daily
	// quota since From (report_quota.go).
	Quota []QuotaNote
}

// LookupFailure is one Alma lookup the report could not make.
type LookupFailure struct {
	UserID, FeeID, Barcode string
	What                   string // what was asked, e.g. "item B100"
	Err                    string // Alma's answer
}

// PendingPayment is money forwarded to Alma for a fee that Alma does not
// show as paid yet.
type PendingPayment struct {
	UserID        string
	FeeID         string
	TransactionID string
	Forwarded     fees.Money // the total forwarded for the fee
	AlmaPaid      fees.Money // what Alma shows as paid
	Since         time.Time  // when the oldest of those payments was forwarded
}

// Totals are the amounts of the report's period, as journaled.
type Totals struct {
	Charged  fees.Money
	Credited fees.Money
	Waived   fees.Money
	Paid     map[string]fees.Money // by channel (ESERVICES, CASHIER)
}

// Exceptions reports whether the report lists anything for staff to do.
func (r Report) Exceptions() int {
	return len(r.ReturnedWithFees) + len(r.Refused) + len(r.NotSent) + len(r.PaymentsNotInAlma) + len(r.Held) +
		len(r.FailedEvents) + len(r.LookupFailures) + len(r.Disagreements) + len(r.FailedFiles) + len(r.Quiet) +
		len(r.FailedAlmaJobs) + len(r.Quota)
}

// BuildReport gathers the report written at at: its period (see
// [Jobs.reportPeriod]) ends at the start of at's day. It reads the journal
// and (when configured) Alma. Without an Alma API the lists that need it
// are empty. When Alma cannot be reached the report is still built from
// the journal, marked Partial; a single lookup Alma refuses is listed in
// LookupFailures. The journal notes which forwarded payments Alma was
// seen to show (except in a dry run), so that a later report does not ask
// about them again. It fails only when the journal does.
func (j *Jobs) BuildReport(ctx context.Context, at time.Time) (Report, error) {
	jr := j.deps.Journal
	rep := Report{Date: dayStart(at)}
	var err error
	if rep.From, rep.To, err = j.reportPeriod(ctx, at); err != nil {
		return rep, err
	}
	held, err := jr.Records(ctx, "", OutcomeRejected)
	if err != nil {
		return rep, err
	}
	for _, r := range held {
		if r.Code == CodeBursarRefused {
			rep.Refused = append(rep.Refused, r)
			continue
		}
		if r.Kind == KindCharge {
			rep.NotSent = append(rep.NotSent, r)
			continue
		}
		if r, err = j.withFee(ctx, r); err != nil {
			return rep, err
		}
		rep.Held = append(rep.Held, r)
	}
	unpublished, err := jr.Unpublished(ctx)
	if err != nil {
		return rep, err
	}
	rep.NotSent = append(rep.NotSent, unpublished...)
	if rep.FailedEvents, err = jr.Records(ctx, KindEvent, OutcomeFailed); err != nil {
		return rep, err
	}
	all, err := jr.Files(ctx, "")
	if err != nil {
		return rep, err
	}
	for _, f := range all {
		if f.Status == FileFailed {
			rep.FailedFiles = append(rep.FailedFiles, f)
		}
	}
	if rep.Disagreements, err = jr.Disagreements(ctx); err != nil {
		return rep, err
	}
	if rep.Colleges, err = j.collegeLines(ctx); err != nil {
		return rep, err
	}
	if rep.Quiet, err = j.quietFolders(ctx, at); err != nil {
		return rep, err
	}
	if rep.FailedAlmaJobs, err = j.FailedAlmaJobs(ctx, rep.From, rep.To); err != nil {
		return rep, err
	}
	if rep.Totals, rep.Flows, err = j.flows(ctx, rep.From, rep.To); err != nil {
		return rep, err
	}
	if rep.Schedule, err = j.schedule(ctx); err != nil {
		return rep, err
	}
	if rep.Quota, err = j.quotaNotes(ctx, rep.From); err != nil {
		return rep, err
	}
	if j.deps.Alma == nil {
		return rep, nil
	}
	if err := j.almaLists(ctx, at, &rep); err != nil {
		return rep, err
	}
	rep.Quota, err = j.quotaNotes(ctx, rep.From) // with the report's own, if it deferred
	return rep, err
}

// withFee fills in the fee of a held payment or credit from the charge it
// refers to, when it does not name it itself: the report names the fee.
func (j *Jobs) withFee(ctx context.Context, r Record) (Record, error) {
	if r.FeeID != "" || r.Ref == "" {
		return r, nil
	}
	var c Record
	if r.FeeType != "" {
		var ok bool
		var err error
		if c, ok, err = j.deps.Journal.Get(ctx, KindCharge, fees.ChargeKey(r.Ref, r.FeeType)); err != nil || !ok {
			return r, err
		}
	} else {
		// Without its fee type a payment names the fee only when the
		// student has one charge of that transaction id.
		if r.UserID == "" {
			return r, nil
		}
		all, err := j.deps.Journal.RecordsFor(ctx, r.UserID, "")
		if err != nil {
			return r, err
		}
		n := 0
		for _, x := range all {
			if x.Kind == KindCharge && strings.HasPrefix(x.Key, r.Ref+"/") {
				c, n = x, n+1
			}
		}
		if n != 1 {
			return r, nil
		}
	}
	r.FeeID = c.FeeID
	if r.FeeType == "" {
		r.FeeType = c.FeeType
	}
	if r.Barcode == "" {
		r.Barcode = c.Barcode
	}
	return r, nil
}

// almaLists fills the lists of rep that need Alma. An Alma that cannot
// be reached makes the report partial; only the journal's and the
// context's errors are returned.
func (j *Jobs) almaLists(ctx context.Context, at time.Time, rep *Report) error {
	lf := &lookups{}
	var err error
	rep.ReturnedWithFees, err = j.returnedWithFees(ctx, lf)
	err = j.quotaDeferred(ctx, err)
	if err == nil {
		rep.PaymentsNotInAlma, err = j.paymentsNotInAlma(ctx, at, lf)
	}
	rep.LookupFailures = lf.list
	var down *almaDown
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return err
	case IsQuota(j.quotaErr(ctx, JobReport, err)):
		rep.Partial, rep.PartialReason = true, j.quotaErr(ctx, JobReport, err).Error()+
			": this report was written without asking Alma; lost items returned and payments not yet in Alma may be missing"
	case errors.As(err, &down):
		rep.Partial, rep.PartialReason = true, "Alma could not be reached ("+down.err.Error()+
			"): this report was written from the journal alone; lost items returned and payments not yet in Alma may be missing"
		j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: report: Alma could not be reached; the report is partial",
			slog.String("error", down.err.Error()))
	default:
		return err
	}
	return nil
}

// almaDown is an Alma call that failed for a reason other than a refusal
// of the one thing asked (a timeout, a refused connection, a 5xx after
// the retries): Alma cannot be reached, and the report is partial.
type almaDown struct{ err error }

func (e *almaDown) Error() string {
	return "reconcile: report: Alma cannot be reached: " + e.err.Error()
}
func (e *almaDown) Unwrap() error { return e.err }

// lookups collects the single Alma lookups that failed for good.
type lookups struct {
	mu   sync.Mutex
	list []LookupFailure
}

// check sorts an Alma call's error: nil stays nil, a refusal of the thing
// asked (ErrPermanent) is noted as f and reported as skip, and anything
// else is Alma being down.
func (l *lookups) check(err error, f LookupFailure) (skip bool, _ error) {
	if err == nil {
		return false, nil
	}
	if errors.Is(err, ErrPermanent) || fees.ErrorCode(err) == fees.ENOTFOUND {
		f.Err = err.Error()
		l.mu.Lock()
		l.list = append(l.list, f)
		l.mu.Unlock()
		return true, nil
	}
	return false, &almaDown{err: err}
}

// returnedWithFees lists the lost-item fees that still have a balance while
// their item is no longer lost: from Alma's own report when the AlmaAPI
// offers one (ReturnedLostItems), else by asking Alma about the students
// the journal shows active (see Options.QuietAfter), lost returns
// included. A student or item Alma refuses is noted in lf and skipped.
func (j *Jobs) returnedWithFees(ctx context.Context, lf *lookups) ([]fees.Fee, error) {
	if err := j.opts.Quota.Check(ctx, JobReport); err != nil {
		return nil, err // Alma's daily quota is low or spent (quota.go)
	}
	if r, ok := j.deps.Alma.(ReturnedLostItems); ok {
		list, err := r.ReturnedLostItemFees(ctx)
		if !errors.Is(err, ErrUnsupported) {
			if err != nil {
				return nil, &almaDown{err: fmt.Errorf("returned lost items: %w", err)}
			}
			return slices.DeleteFunc(list, func(f fees.Fee) bool {
				return !slices.Contains(j.opts.LostTypes, f.Type) || !f.Balance.IsPositive()
			}), nil
		}
	}
	if list, ok, err := j.returnedByReport(ctx); ok || err != nil {
		if err != nil {
			return nil, &almaDown{err: fmt.Errorf("returned lost items: open fees report: %w", err)}
		}
		return list, nil
	}
	users, _, err := j.activeStudents(ctx, true)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	lost := map[string]bool{} // by barcode: still lost
	each := make([][]fees.Fee, len(users))
	err = j.forEachStudent(ctx, users, func(ctx context.Context, i int, u string) error {
		open, err := j.deps.Alma.ListFees(ctx, u, fees.StatusActive, fees.StatusTransferred, fees.StatusInDispute)
		if skip, err := lf.check(err, LookupFailure{UserID: u, What: "the student's fees"}); skip || err != nil {
			return err
		}
		for _, f := range open {
			if !slices.Contains(j.opts.LostTypes, f.Type) || !f.Balance.IsPositive() || f.Item.Barcode == "" {
				continue
			}
			mu.Lock()
			still, ok := lost[f.Item.Barcode]
			mu.Unlock()
			if !ok {
				still, err = j.deps.Alma.ItemLost(ctx, f.Item.Barcode)
				skip, err := lf.check(err, LookupFailure{UserID: u, FeeID: f.ID, Barcode: f.Item.Barcode,
					What: "item " + f.Item.Barcode + " of lost-item fee " + f.ID})
				if err != nil {
					return err
				}
				if skip {
					continue
				}
				mu.Lock()
				lost[f.Item.Barcode] = still
				mu.Unlock()
			}
			if !still {
				each[i] = append(each[i], f)
			}
		}
		return nil
	})
	return slices.Concat(each...), err
}

// paymentsNotInAlma lists fees with payments forwarded before at minus the
// delay that Alma does not show as paid. A fee whose payments Alma shows
// is marked so in the journal (seen_at, but not in a dry run), and is not
// asked about again until another payment is forwarded for it.
func (j *Jobs) paymentsNotInAlma(ctx context.Context, at time.Time, lf *lookups) ([]PendingPayment, error) {
	cutoff := at.Add(-j.opts.PaymentDelay)
	unseen, err := j.deps.Journal.Unseen(ctx, cutoff)
	if err != nil {
		return nil, fmt.Errorf("reconcile: report: %w", err)
	}
	pend := make([]PendingPayment, len(unseen))
	for i, u := range unseen {
		pend[i] = PendingPayment{UserID: u.Charge.UserID, FeeID: u.Charge.FeeID, TransactionID: chargeTxID(u.Charge),
			Forwarded: u.Amount, Since: u.Since}
	}
	late, err := j.lateInAlma(ctx, unseen, pend, lf)
	if err != nil {
		return nil, err
	}
	var out []PendingPayment
	var seen []string
	for i, p := range pend {
		switch late[i] {
		case lateYes:
			out = append(out, p)
		case lateNo:
			seen = append(seen, unseen[i].Charge.Key)
		}
	}
	if j.opts.DryRun {
		return out, nil
	}
	return out, j.deps.Journal.MarkSeen(ctx, seen, cutoff)
}

// lateness is what lateInAlma found of one fee.
type lateness int

const (
	lateUnknown lateness = iota // Alma refused the lookup: noted, asked again next time
	lateNo                      // Alma shows what was forwarded
	lateYes                     // Alma shows less than was forwarded
)

// lateInAlma asks Alma, one call per student, what it shows paid of each
// fee of pend (the payments forwarded for the charges of unseen), sets it
// in pend, and reports for each whether Alma shows less than was
// forwarded. A student or fee Alma refuses is noted in lf.
func (j *Jobs) lateInAlma(ctx context.Context, unseen []journal.Forwarded, pend []PendingPayment, lf *lookups) ([]lateness, error) {
	var users []string
	byUser := map[string][]int{}
	for i, p := range pend {
		if _, ok := byUser[p.UserID]; !ok {
			users = append(users, p.UserID)
		}
		byUser[p.UserID] = append(byUser[p.UserID], i)
	}
	late := make([]lateness, len(pend))
	err := j.forEachStudent(ctx, users, func(ctx context.Context, _ int, u string) error {
		all, err := j.deps.Alma.ListFees(ctx, u)
		if skip, err := lf.check(err, LookupFailure{UserID: u, What: "the student's fees, for the payments forwarded"}); skip || err != nil {
			return err
		}
		for _, i := range byUser[u] {
			p := &pend[i]
			f, err := findFee(all, p.FeeID, p.TransactionID, unseen[i].Charge.FeeType)
			if skip, err := lf.check(err, LookupFailure{UserID: u, FeeID: p.FeeID,
				What: "fee " + p.FeeID + ", paid " + p.Forwarded.String() + " at the bursar"}); skip || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			p.AlmaPaid = f.Paid
			if !f.Paid.Valid() {
				p.AlmaPaid = fees.Zero(p.Forwarded.Currency())
			}
			late[i] = lateNo
			if c, err := p.AlmaPaid.Cmp(p.Forwarded); err != nil || c < 0 {
				late[i] = lateYes
			}
		}
		return nil
	})
	return late, err
}

// ReportResult is what [Jobs.Report] wrote.
type ReportResult struct {
	Report Report
	Files  []string // the CSV and HTML files written
	Mailed bool
}

// Report runs the daily report (F6) on the morning of the jobs' clock: it
// writes the report as CSV and HTML to the report folder of the reports
// drop (the library drop by default) and, when a Mailer is configured, mails it to staff. In dry-run
// mode it only builds it. A report written without Alma (Alma could not
// be reached) is still written and mailed, with Report.Partial set and a
// warning logged: the caller tells its outcome apart from a full one.
func (j *Jobs) Report(ctx context.Context) (ReportResult, error) {
	now := j.opts.Now()
	rep, err := j.BuildReport(ctx, now)
	res := ReportResult{Report: rep}
	if err != nil {
		return res, err
	}
	var csvBuf, htmlBuf bytes.Buffer
	if err := rep.WriteCSV(&csvBuf); err != nil {
		return res, err
	}
	if err := rep.WriteHTML(&htmlBuf); err != nil {
		return res, err
	}
	if j.opts.DryRun {
		return res, nil
	}
	base := "feebridge-report-" + rep.Date.Format("2006-01-02")
	drop := j.deps.Reports
	if drop == nil {
		drop = j.deps.Library
	}
	if drop != nil {
		dir := j.opts.Folders.Reports
		if err := drop.MkdirAll(ctx, dir); err != nil {
			return res, fmt.Errorf("reconcile: report: %w", err)
		}
		for name, b := range map[string][]byte{base + ".csv": csvBuf.Bytes(), base + ".html": htmlBuf.Bytes()} {
			p := path.Join(dir, name)
			if err := drop.WriteFile(ctx, p, b); err != nil {
				return res, fmt.Errorf("reconcile: report: %w", err)
			}
			res.Files = append(res.Files, p)
		}
		slices.Sort(res.Files)
	}
	if j.opts.Mailer != nil && len(j.opts.MailTo) > 0 {
		m := Mail{
			To:      j.opts.MailTo,
			Subject: rep.subject(),
			Text:    rep.text(),
			HTML:    htmlBuf.String(),
			Attachments: []Attachment{
				{Name: base + ".csv", ContentType: "text/csv", Data: csvBuf.Bytes()},
			},
		}
		if err := j.opts.Mailer.Send(ctx, m); err != nil {
			return res, fmt.Errorf("reconcile: report: mail: %w", err)
		}
		res.Mailed = true
	}
	level := slog.LevelInfo
	if rep.Partial {
		level = slog.LevelWarn
	}
	j.log.LogAttrs(ctx, level, "reconcile: report written", slog.Int("exceptions", rep.Exceptions()),
		slog.Bool("mailed", res.Mailed), slog.Bool("partial", rep.Partial))
	return res, nil
}

// findFee finds a student's fee among all, the student's fees in Alma, by
// its charge key (bursar transaction id and fee type; see fees.ChargeKey)
// or its fee id: an export file carries only the former, so the journal
// may know no other.
func findFee(all []fees.Fee, feeID, txid string, typ fees.Type) (fees.Fee, error) {
	for _, f := range all {
		if (txid != "" && f.TransactionID == txid && (typ == "" || f.Type == typ)) || (feeID != "" && f.ID == feeID) {
			return f, nil
		}
	}
	return fees.Fee{}, fees.Errorf(fees.ENOTFOUND, "no fee %s (transaction %s) for the student in Alma", feeID, txid)
}
