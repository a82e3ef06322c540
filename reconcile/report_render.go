package reconcile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// The report's sections, in order; the CSV's section column.
const (
	sectionReport   = "report"
	sectionStaff    = "needs staff"
	sectionFlowed   = "what flowed"
	sectionSchedule = "schedule"
)

// reportRow is one line of the report, in CSV and HTML.
type reportRow struct {
	Section                     string
	Item                        string // what the row is: "Held payment", "F2", "charges"
	Student, Fee, Type, Barcode string
	File                        string
	Line                        string
	Count                       string
	Amount                      string
	What                        string // what happened, in plain words
	Do                          string // what to do
	Key                         string // the journal's key, for feesync redrive and dismiss
	Details                     string // the raw reason, for whoever digs further
}

var csvHeader = []string{"section", "item", "student", "fee", "type", "barcode", "file", "line", "count", "amount",
	"what happened", "what to do", "key", "details"}

func (r reportRow) cells() []string {
	return []string{r.Section, r.Item, r.Student, r.Fee, r.Type, r.Barcode, r.File, r.Line, r.Count, r.Amount,
		r.What, r.Do, r.Key, r.Details}
}

func amount(m fees.Money) string {
	if !m.Valid() {
		return ""
	}
	return m.Amount()
}

func lineNo(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// periodLayout writes the ends of the report's period.
const periodLayout = "Monday 2 January 2006 15:04"

// Period is the report's period in words: "Friday 4 December 2026 00:00
// – Saturday 5 December 2026 00:00 (UTC)".
func (r Report) Period() string {
	return r.From.Format(periodLayout) + " – " + r.To.Format(periodLayout) + " (" + r.To.Format("MST") + ")"
}

// staffRows are the rows of "needs staff", in the order of the section.
func (r Report) staffRows() []reportRow {
	var out []reportRow
	for _, h := range r.Held {
		out = append(out, reportRow{Item: "Held " + h.Kind, Student: h.UserID, Fee: h.FeeID, Type: string(h.FeeType),
			Barcode: h.Barcode, File: h.File, Line: lineNo(h.Line), Amount: amount(h.Amount),
			What: heldWords(h), Do: heldAction(h), Key: h.Key, Details: heldReason(h)})
	}
	for _, c := range r.Refused {
		out = append(out, reportRow{Item: "Sent, refused by PeopleSoft", Student: c.UserID, Fee: c.FeeID, Type: string(c.FeeType),
			Barcode: c.Barcode, File: c.File, Line: lineNo(c.Line), Amount: amount(c.Amount),
			What: heldWords(c), Do: heldAction(c), Key: c.Key, Details: c.Reason})
	}
	for _, c := range r.NotSent {
		row := reportRow{Item: "Fee not sent", Student: c.UserID, Fee: c.FeeID, Type: string(c.FeeType), Barcode: c.Barcode,
			File: c.File, Line: lineNo(c.Line), Amount: amount(c.Amount), Key: c.Key, Details: heldReason(c)}
		if c.Outcome == OutcomeRejected {
			row.What, row.Do = heldWords(c), heldAction(c)
		} else {
			row.What = fmt.Sprintf("Fee %s of %s (student %s)%s was put into %s, which is not yet at the bursar.",
				c.FeeID, amount(c.Amount), c.UserID, where(c.File, c.Line), c.Output)
			row.Do, row.Details = "The next charges run sends it; if it stays here, check the bursar's folder and feesync's log.", ""
		}
		out = append(out, row)
	}
	for _, e := range r.FailedEvents {
		out = append(out, reportRow{Item: "Failed lost item return", Student: e.UserID, Barcode: e.Barcode,
			What: fmt.Sprintf("Item %s came back (student %s), but its lost-item fees were not waived: %s.", e.Barcode, e.UserID,
				plainReason(e.Code, e.Reason)),
			Do: eventAdvice(e), Key: e.Key, Details: e.Reason})
	}
	for _, f := range r.ReturnedWithFees {
		out = append(out, reportRow{Item: "Returned item with fee", Student: f.UserID, Fee: f.ID, Type: string(f.Type),
			Barcode: f.Item.Barcode, Amount: amount(f.Balance), Key: f.TransactionID,
			What: fmt.Sprintf("Lost item %s of student %s is no longer lost, but its fee %s (%s) still owes %s.",
				f.Item.Barcode, f.UserID, f.ID, f.Type, amount(f.Balance)),
			Do: returnedAdvice(f)})
	}
	for _, l := range r.LookupFailures {
		out = append(out, reportRow{Item: "Alma lookup failed", Student: l.UserID, Fee: l.FeeID, Barcode: l.Barcode,
			What: fmt.Sprintf("Alma could not tell about %s (student %s): %s.", l.What, l.UserID, l.Err),
			Do:   "Look it up in Alma by hand; the report went on without it.", Details: l.Err})
	}
	for _, p := range r.PaymentsNotInAlma {
		out = append(out, reportRow{Item: "Payment not in Alma", Student: p.UserID, Fee: p.FeeID, Amount: amount(p.Forwarded),
			Key: p.TransactionID,
			What: fmt.Sprintf("%s paid at the bursar for fee %s (student %s) was sent to Alma on %s, but Alma shows %s paid.",
				amount(p.Forwarded), p.FeeID, p.UserID, p.Since.Format("2 January 2006 15:04"), amount(p.AlmaPaid)),
			Do: "Check in Alma that the bursar import ran (Alma imports hourly); if it did, look the fee up and pay it by hand."})
	}
	for _, d := range r.Disagreements {
		out = append(out, disagreementRow(d))
	}
	for _, f := range r.FailedFiles {
		if row, ok := countRow(f); ok {
			out = append(out, row)
			continue
		}
		out = append(out, reportRow{Item: "File not read", Type: f.Job, File: f.Name,
			What: fmt.Sprintf("The %s file %s could not be read: %s.", f.Job, f.Name, plainReason("", f.Reason)),
			Do:   "Have the file fixed or sent again by whoever wrote it; feesync reads a corrected file on its next run.", Details: f.Reason})
	}
	out = append(out, r.quietRows()...)
	out = append(out, r.almaJobRows()...)
	out = append(out, r.quotaRows()...)
	for i := range out {
		out[i].Section = sectionStaff
	}
	return out
}

// flowRows are the rows of "what flowed": every flow, 0.00 included.
func (r Report) flowRows() []reportRow {
	out := make([]reportRow, len(r.Flows))
	for i, f := range r.Flows {
		what := f.What
		if f.Channel != "" {
			what += " (" + f.Channel + ")"
		}
		out[i] = reportRow{Section: sectionFlowed, Item: f.Flow, Type: f.Channel, Count: strconv.Itoa(f.Count),
			Amount: amount(f.Amount), What: what}
	}
	return out
}

// scheduleRows are the rows of "the schedule": each job's last run.
func (r Report) scheduleRows() []reportRow {
	var out []reportRow
	for _, s := range r.Schedule {
		row := reportRow{Section: sectionSchedule, Item: s.Job}
		if !s.Recorded() {
			row.What = "no run recorded"
			row.Do = "Check that the job is scheduled (systemd timer, cron or feesync serve)."
		} else {
			l := s.Last
			row.What = fmt.Sprintf("last run %s, %s", l.Started.In(r.To.Location()).Format("Mon 2 Jan 2006 15:04"), l.Outcome)
			row.Count, _, _ = strings.Cut(l.Amount, " ") // "80.00 USD": the decimal alone
			row.Count, row.Amount = strconv.Itoa(l.Records), row.Count
			if l.Held > 0 {
				row.What += fmt.Sprintf(", %d held", l.Held)
			}
			if l.Outcome == journal.RunFailed {
				row.Do = "See the error and feesync's log; the job runs again at its next time."
				row.Details = l.Error
			}
		}
		out = append(out, row)
	}
	return out
}

// headRows are the CSV's first rows: the period, and the partial flag.
func (r Report) headRows() []reportRow {
	out := []reportRow{{Section: sectionReport, Item: "period", What: r.Period()}}
	if r.Partial {
		out = append(out, reportRow{Section: sectionReport, Item: "partial", What: r.PartialReason})
	}
	return out
}

// heldReason is the reason of a held record as the journal has it: with
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

// WriteCSV writes the report as CSV for spreadsheets: one header, then
// one row per item with its section (report, needs staff, what flowed,
// by college when colleges are configured, schedule), totals included, amounts as exact decimals, every text cell
// neutralised against formula injection.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, part := range [][]reportRow{r.headRows(), r.staffRows(), r.flowRows(), r.collegeRows(), r.scheduleRows()} {
		for _, row := range part {
			cells := row.cells()
			for i := range cells {
				cells[i] = neutralise(cells[i])
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteHTML writes the report as one HTML page that reads on a phone and
// on a desktop, and prints: inline CSS, no script, nothing fetched.
func (r Report) WriteHTML(w io.Writer) error {
	err := reportHTML.Execute(w, struct {
		Report
		Staff, Flowed, Schedule []reportRow
	}{r, r.staffRows(), r.flowRows(), r.scheduleRows()})
	if err != nil {
		return errors.Join(errors.New("reconcile: report: html"), err)
	}
	return nil
}

// text is the report in plain text, the mail's text part.
func (r Report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Library fees report\n%s\n\n", r.Period())
	if r.Partial {
		fmt.Fprintf(&b, "PARTIAL REPORT: %s\n\n", r.PartialReason)
	}
	fmt.Fprintf(&b, "Needs staff: %d\n", r.Exceptions())
	for _, row := range r.staffRows() {
		fmt.Fprintf(&b, "- %s %s\n", row.What, row.Do)
	}
	b.WriteString("\nWhat flowed:\n")
	for _, row := range r.flowRows() {
		fmt.Fprintf(&b, "- %s %s: %s records, %s\n", row.Item, row.What, row.Count, row.Amount)
	}
	r.collegeText(&b)
	if len(r.Schedule) > 0 {
		b.WriteString("\nThe schedule:\n")
		for _, row := range r.scheduleRows() {
			fmt.Fprintf(&b, "- %s: %s\n", row.Item, row.What)
		}
	}
	b.WriteString("\nThe attached CSV file lists each row.\n")
	return b.String()
}

// subject is the report mail's subject.
func (r Report) subject() string {
	s := fmt.Sprintf("Library fees: %d exceptions on %s", r.Exceptions(), r.Date.Format("2006-01-02"))
	if r.Partial {
		s = "PARTIAL " + s + " (Alma could not be reached)"
	}
	return s
}

// disagreementRow says what the reconciliation found for one fee, or for
// a student's total, and what staff do about it.
func disagreementRow(d journal.Disagreement) reportRow {
	row := reportRow{Item: "Alma and the bursar disagree", Student: d.UserID, Fee: d.FeeID, Type: string(d.FeeType),
		Key: d.TransactionID, Details: d.Problem}
	found := d.Found.Format("2 January 2006 15:04")
	if d.FeeID == "" {
		row.What = fmt.Sprintf("At the reconciliation of %s, Alma and the bursar did not agree on what student %s owes "+
			"(Alma %s, the bursar %s): %s.", found, d.UserID, amount(d.Alma), amount(d.Bursar), d.Problem)
		row.Do = fmt.Sprintf("Run `feesync show student %s` to see each fee on both sides, and correct the side that is wrong "+
			"(a payment or waiver not yet imported usually clears by the next reconciliation).", d.UserID)
		return row
	}
	row.What = fmt.Sprintf("At the reconciliation of %s, fee %s (%s, student %s) was %s in Alma with %s left, "+
		"but the bursar holds %s: %s.", found, d.FeeID, d.FeeType, d.UserID, d.AlmaStatus, amount(d.Alma), amount(d.Bursar), d.Problem)
	row.Do = fmt.Sprintf("Run `feesync show fee %s` to see where it stands on both sides, and correct the side that is wrong; "+
		"the next reconciliation clears this row when they agree.", d.TransactionID)
	return row
}
