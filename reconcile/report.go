package reconcile

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Report is the daily exceptions report (F6): what staff must look at.
type Report struct {
	Date time.Time // the day reported on (its start, in the jobs' clock's zone)

	// ReturnedWithFees are fees for lost items that are no longer lost (the
	// item came back) yet still have a balance: the fallback list for when
	// the lost-returns handler failed. Staff waive them by hand. Fees in
	// dispute are among them: the handler leaves those for staff.
	ReturnedWithFees []fees.Fee
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
	// FailedFiles are input files that could not be read.
	FailedFiles []FileRecord
	// Quiet are the inbound folders without a new file for longer than
	// expected (Options.ExpectFilesWithin; report_quiet.go).
	Quiet []QuietFolder
	// Totals are the day's amounts.
	Totals Totals
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

// Totals are the amounts of one day, as journaled.
type Totals struct {
	Charged  fees.Money
	Credited fees.Money
	Waived   fees.Money
	Paid     map[string]fees.Money // by channel (ESERVICES, CASHIER)
}

// Exceptions reports whether the report lists anything for staff to do.
func (r Report) Exceptions() int {
	return len(r.ReturnedWithFees) + len(r.NotSent) + len(r.PaymentsNotInAlma) + len(r.Held) +
		len(r.FailedEvents) + len(r.FailedFiles) + len(r.Quiet)
}

// BuildReport gathers the report for the day that contains at, from the
// journal and (when configured) Alma. Without an Alma API the lists that
// need it are empty. The journal notes which forwarded payments Alma was
// seen to show (except in a dry run), so that a later report does not ask
// about them again.
func (j *Jobs) BuildReport(ctx context.Context, at time.Time) (Report, error) {
	jr := j.deps.Journal
	start := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, at.Location())
	rep := Report{Date: start}
	var err error
	held, err := jr.Records(ctx, "", OutcomeRejected)
	if err != nil {
		return rep, err
	}
	for _, r := range held {
		if r.Kind == KindCharge {
			rep.NotSent = append(rep.NotSent, r)
		} else {
			rep.Held = append(rep.Held, r)
		}
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
	if rep.Quiet, err = j.quietFolders(ctx, at); err != nil {
		return rep, err
	}
	if rep.Totals, err = j.totals(ctx, start, start.AddDate(0, 0, 1)); err != nil {
		return rep, err
	}
	if j.deps.Alma == nil {
		return rep, nil
	}
	if rep.ReturnedWithFees, err = j.returnedWithFees(ctx); err != nil {
		return rep, err
	}
	if rep.PaymentsNotInAlma, err = j.paymentsNotInAlma(ctx, at); err != nil {
		return rep, err
	}
	return rep, nil
}

func (j *Jobs) totals(ctx context.Context, from, to time.Time) (Totals, error) {
	t := Totals{Paid: map[string]fees.Money{}}
	sums, err := j.deps.Journal.Totals(ctx, from, to)
	if err != nil {
		return t, fmt.Errorf("reconcile: report totals: %w", err)
	}
	for _, s := range sums {
		switch s.Outcome {
		case OutcomeCharged:
			t.Charged = addMoney(t.Charged, s.Amount)
		case OutcomeCredited:
			t.Credited = addMoney(t.Credited, s.Amount)
		case OutcomeWaived:
			t.Waived = addMoney(t.Waived, s.Amount)
		case OutcomeForwarded:
			t.Paid[s.Channel] = addMoney(t.Paid[s.Channel], s.Amount)
		}
	}
	return t, nil
}

// returnedWithFees lists the lost-item fees that still have a balance while
// their item is no longer lost: from Alma's own report when the AlmaAPI
// offers one (ReturnedLostItems), else by asking Alma about the students
// the journal shows active (see Options.QuietAfter), lost returns
// included.
func (j *Jobs) returnedWithFees(ctx context.Context) ([]fees.Fee, error) {
	if r, ok := j.deps.Alma.(ReturnedLostItems); ok {
		list, err := r.ReturnedLostItemFees(ctx)
		if !errors.Is(err, ErrUnsupported) {
			if err != nil {
				return nil, fmt.Errorf("reconcile: report: returned lost items: %w", err)
			}
			return slices.DeleteFunc(list, func(f fees.Fee) bool {
				return !slices.Contains(j.opts.LostTypes, f.Type) || !f.Balance.IsPositive()
			}), nil
		}
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
		if errors.Is(err, ErrPermanent) {
			// A student Alma does not know (the return of a failed
			// event named one) has no fees there: the event itself is
			// in the report.
			j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: report: student unknown to Alma", slog.String("user", j.logID(u)),
				slog.String("error", err.Error()))
			return nil
		}
		if err != nil {
			return fmt.Errorf("reconcile: report: fees of a student: %w", err)
		}
		for _, f := range open {
			if !slices.Contains(j.opts.LostTypes, f.Type) || !f.Balance.IsPositive() || f.Item.Barcode == "" {
				continue
			}
			mu.Lock()
			still, ok := lost[f.Item.Barcode]
			mu.Unlock()
			if !ok {
				if still, err = j.deps.Alma.ItemLost(ctx, f.Item.Barcode); err != nil {
					return fmt.Errorf("reconcile: report: item %s: %w", f.Item.Barcode, err)
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
func (j *Jobs) paymentsNotInAlma(ctx context.Context, at time.Time) ([]PendingPayment, error) {
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
	late, err := j.lateInAlma(ctx, unseen, pend)
	if err != nil {
		return nil, err
	}
	var out []PendingPayment
	var seen []string
	for i, p := range pend {
		if late[i] {
			out = append(out, p)
		} else {
			seen = append(seen, unseen[i].Charge.Key)
		}
	}
	if j.opts.DryRun {
		return out, nil
	}
	return out, j.deps.Journal.MarkSeen(ctx, seen, cutoff)
}

// lateInAlma asks Alma, one call per student, what it shows paid of each
// fee of pend (the payments forwarded for the charges of unseen), sets it
// in pend, and reports for each whether Alma shows less than was
// forwarded.
func (j *Jobs) lateInAlma(ctx context.Context, unseen []journal.Forwarded, pend []PendingPayment) ([]bool, error) {
	var users []string
	byUser := map[string][]int{}
	for i, p := range pend {
		if _, ok := byUser[p.UserID]; !ok {
			users = append(users, p.UserID)
		}
		byUser[p.UserID] = append(byUser[p.UserID], i)
	}
	late := make([]bool, len(pend))
	err := j.forEachStudent(ctx, users, func(ctx context.Context, _ int, u string) error {
		all, err := j.deps.Alma.ListFees(ctx, u)
		if err != nil {
			return fmt.Errorf("reconcile: report: fees of a student: %w", err)
		}
		for _, i := range byUser[u] {
			p := &pend[i]
			f, err := findFee(all, p.FeeID, p.TransactionID, unseen[i].Charge.FeeType)
			if err != nil {
				return fmt.Errorf("reconcile: report: fee %s: %w", p.FeeID, err)
			}
			p.AlmaPaid = f.Paid
			if !f.Paid.Valid() {
				p.AlmaPaid = fees.Zero(p.Forwarded.Currency())
			}
			if c, err := p.AlmaPaid.Cmp(p.Forwarded); err != nil || c < 0 {
				late[i] = true
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

// Report runs the daily report (F6) for the day of the jobs' clock: it
// writes the report as CSV and HTML to the report folder of the reports
// drop (the library drop by default) and, when a Mailer is configured, mails it to staff. In dry-run
// mode it only builds it.
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
			Subject: fmt.Sprintf("Library fees: %d exceptions on %s", rep.Exceptions(), rep.Date.Format("2006-01-02")),
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
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: report written", slog.Int("exceptions", rep.Exceptions()),
		slog.Bool("mailed", res.Mailed))
	return res, nil
}

func (r Report) text() string {
	return fmt.Sprintf("Library fees report for %s\n\nLost items returned still carrying fees: %d\nFees not sent to the bursar: %d\nPayments not yet in Alma: %d\nHeld records: %d\nFailed webhook events: %d\nFailed files: %d\n\nThe CSV file attached lists each one.\n",
		r.Date.Format("2006-01-02"), len(r.ReturnedWithFees), len(r.NotSent), len(r.PaymentsNotInAlma),
		len(r.Held), len(r.FailedEvents), len(r.FailedFiles))
}

// reportRow is one line of the report, in CSV and HTML.
type reportRow struct {
	Section, UserID, FeeID, TransactionID, Type, Barcode, Amount, File, Line, Reason string
}

var csvHeader = []string{"section", "student", "fee", "transaction", "type", "barcode", "amount", "file", "line", "reason"}

func (r Report) rows() []reportRow {
	var out []reportRow
	amount := func(m fees.Money) string {
		if !m.Valid() {
			return ""
		}
		return m.Amount()
	}
	line := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	for _, f := range r.ReturnedWithFees {
		out = append(out, reportRow{"returned item with fee", f.UserID, f.ID, f.TransactionID, string(f.Type), f.Item.Barcode,
			amount(f.Balance), "", "", returnedAdvice(f)})
	}
	for _, c := range r.NotSent {
		reason := heldReason(c)
		if c.Outcome != OutcomeRejected {
			reason = "decided into " + c.Output + " but not yet published"
		}
		out = append(out, reportRow{"fee not sent", c.UserID, c.FeeID, chargeTxID(c), string(c.FeeType), c.Barcode, amount(c.Amount),
			c.File, line(c.Line), reason})
	}
	for _, p := range r.PaymentsNotInAlma {
		out = append(out, reportRow{"payment not in Alma", p.UserID, p.FeeID, p.TransactionID, "", "", amount(p.Forwarded),
			"", "", fmt.Sprintf("forwarded %s since %s; Alma shows %s paid", p.Forwarded, p.Since.Format(time.RFC3339), p.AlmaPaid)})
	}
	for _, h := range r.Held {
		out = append(out, reportRow{"held " + h.Kind, h.UserID, h.FeeID, h.Key, string(h.FeeType), h.Barcode, amount(h.Amount),
			h.File, line(h.Line), heldReason(h)})
	}
	for _, e := range r.FailedEvents {
		out = append(out, reportRow{"failed lost return", e.UserID, "", e.Key, "", e.Barcode, "", "", "", eventAdvice(e)})
	}
	for _, f := range r.FailedFiles {
		out = append(out, reportRow{"failed file", "", "", "", f.Job, "", "", f.Name, "", f.Reason})
	}
	out = append(out, r.quietRows()...)
	t := r.Totals
	out = append(out, reportRow{Section: "total charged", Amount: amount(t.Charged)},
		reportRow{Section: "total credited", Amount: amount(t.Credited)},
		reportRow{Section: "total waived", Amount: amount(t.Waived)})
	channels := make([]string, 0, len(t.Paid))
	for c := range t.Paid {
		channels = append(channels, c)
	}
	slices.Sort(channels)
	for _, c := range channels {
		out = append(out, reportRow{Section: "total paid " + c, Amount: amount(t.Paid[c])})
	}
	return out
}

// heldReason is the reason of a held record as the report shows it: with
// the code of the rule that refused it first, when there is one.
func heldReason(r Record) string {
	if r.Code == "" {
		return r.Reason
	}
	return r.Code + ": " + r.Reason
}

var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// neutralise keeps a spreadsheet from reading a cell as a formula: a cell
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe, unless it is a plain number such as -5.00.
func neutralise(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// WriteCSV writes the report as CSV, one row per item, every text cell
// neutralised against formula injection.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, row := range r.rows() {
		cells := []string{row.Section, row.UserID, row.FeeID, row.TransactionID, row.Type, row.Barcode, row.Amount,
			row.File, row.Line, row.Reason}
		for i := range cells {
			cells[i] = neutralise(cells[i])
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var reportHTML = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Library fees report {{.Date.Format "2006-01-02"}}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}td.n{text-align:right}</style>
</head><body>
<h1>Library fees report for {{.Date.Format "2006-01-02"}}</h1>
<p>{{.Exceptions}} exceptions.</p>
<table>
<tr><th>Section</th><th>Student</th><th>Fee</th><th>Transaction</th><th>Type</th><th>Barcode</th><th>Amount</th><th>File</th><th>Line</th><th>Reason</th></tr>
{{range .Rows}}<tr><td>{{.Section}}</td><td>{{.UserID}}</td><td>{{.FeeID}}</td><td>{{.TransactionID}}</td><td>{{.Type}}</td><td>{{.Barcode}}</td><td class="n">{{.Amount}}</td><td>{{.File}}</td><td class="n">{{.Line}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
</body></html>
`))

// WriteHTML writes the report as a readable HTML page.
func (r Report) WriteHTML(w io.Writer) error {
	err := reportHTML.Execute(w, struct {
		Date       time.Time
		Exceptions int
		Rows       []reportRow
	}{r.Date, r.Exceptions(), r.rows()})
	if err != nil {
		return errors.Join(errors.New("reconcile: report: html"), err)
	}
	return nil
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
