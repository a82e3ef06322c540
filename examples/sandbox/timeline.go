package main

import (
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// day is what happened on one simulated day, for the timeline.
type day struct {
	date time.Time

	returns, late, deskPaid int
	lateSum, deskPaidSum    fees.Money
	damaged                 int
	damagedSum              fees.Money
	lostLoans, declared     int
	lostFees                int
	lostSum                 fees.Money
	found, foundWaived      int
	foundSum                fees.Money
	webhookPending          int
	online, cashFull        int
	cashPart                int
	onlineSum, cashFullSum  fees.Money
	cashPartSum             fees.Money
	waived                  int
	waivedSum               fees.Money
	exported                int
	exportedSum             fees.Money
	exportFiles             []string
	charged                 int
	chargedSum              fees.Money
	chargeFiles             []string
	psCharges, psCredits    int
	psCreditSum             fees.Money
	psFiles, psPayments     int
	forwarded, imported     int
	forwardedSum            fees.Money
	importedSum             fees.Money
	creditExports, credited int
	creditedSum             fees.Money
	creditDelay             time.Duration
	reconciled              bool
	reconciliation          reconcile.Reconciliation
	report                  *reconcile.ReportResult
	byHand                  int
	restarts                int
	notes                   []note
}

// note is one notable event, printed on its own line.
type note struct {
	kind string
	at   time.Time
	text string
}

// notesPerKind is how many notes of one kind a day prints before it
// sums the rest up.
const notesPerKind = 2

func (t *day) note(kind string, at time.Time, text string) {
	t.notes = append(t.notes, note{kind: kind, at: at, text: text})
}

// stats are the week's totals, for the table per flow.
type stats struct {
	lostFees                   int
	lostSum                    fees.Money
	exported                   int
	exportedSum                fees.Money
	online, cashFull, cashPart int
	onlineSum, cashFullSum     fees.Money
	cashPartSum                fees.Money
	deskPaid                   int
	deskPaidSum                fees.Money
	waived                     int
	waivedSum                  fees.Money
	refused, settled           int
	settledPaid, settledWaived fees.Money
	found, foundWaived         int
	foundSum                   fees.Money
	creditExported             int
	creditExportedSum          fees.Money
	creditDelay                time.Duration
	reports, exceptions        int
	byHand                     int
	restarts, kills            int
	problems                   []string
}

func (d *district) newDay(at time.Time) {
	d.today = &day{date: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, at.Location())}
	d.days = append(d.days, d.today)
}

// amount formats a sum that may be the zero Money.
func amount(m fees.Money) string {
	if !m.Valid() {
		return "0.00"
	}
	return m.Amount()
}

// endDay prints the day's lines of the timeline.
func (d *district) endDay() {
	t := d.today
	w := d.s.Stdout
	n := d.dayNumber()
	if !d.active() || sameDay(d.clock.Now(), d.s.Start.AddDate(0, 0, d.s.Days)) {
		n = d.s.Days + 1
	}
	label := fmt.Sprintf("Day %d", n)
	if n > d.s.Days {
		label = "Next morning"
	}
	fmt.Fprintf(w, "\n%s, %s %s\n", label, t.date.Format("Monday 2 January 2006"), strings.Repeat("─", max(0, 44-len(label)-len(t.date.Format("Monday 2 January 2006")))))
	line := func(when, who, format string, args ...any) {
		fmt.Fprintf(w, "  %-6s %-10s %s\n", when, who, fmt.Sprintf(format, args...))
	}
	if t.reconciled {
		r := t.reconciliation
		if r.Agree() {
			line("06:30", "feesync", "reconcile: Alma and PeopleSoft agree to the cent (%d students, %d fees)", r.Students, r.Fees)
		} else {
			line("06:30", "feesync", "reconcile: %d DISAGREEMENTS (%d students, %d fees)", len(r.Disagreements), r.Students, r.Fees)
		}
	}
	if t.report != nil {
		rep := t.report.Report
		files := make([]string, len(t.report.Files))
		for i, f := range t.report.Files {
			files[i] = path.Base(f)
		}
		line("07:00", "feesync", "daily report: %d exceptions → reports/%s", rep.Exceptions(), strings.Join(files, ", "))
		d.stats.exceptions += rep.Exceptions()
		if t.byHand > 0 {
			line("07:00", "staff", "waived by hand %d fees of returned lost items listed in the report", t.byHand)
		}
	}
	if t.returns > 0 || t.damaged > 0 {
		s := fmt.Sprintf("%d loans returned", t.returns)
		if t.late > 0 {
			s += fmt.Sprintf(" (%d late: %s in overdue fines", t.late, amount(t.lateSum))
			if t.deskPaid > 0 {
				s += fmt.Sprintf(", %d paid at the desk", t.deskPaid)
			}
			s += ")"
		}
		if t.damaged > 0 {
			s += fmt.Sprintf("; %d damaged-item fines (%s)", t.damaged, amount(t.damagedSum))
		}
		line("9-17", "desk", "%s", s)
	}
	if t.declared > 0 {
		line("9-17", "staff", "%d loans declared lost", t.declared)
	}
	if t.online+t.cashFull+t.cashPart > 0 {
		line("9-17", "students", "eServices: %d paid in full (%s); cashier: %d in full (%s), %d in part (%s)",
			t.online, amount(t.onlineSum), t.cashFull, amount(t.cashFullSum), t.cashPart, amount(t.cashPartSum))
	}
	if t.waived > 0 {
		line("9-17", "staff", "%d transferred fees waived in full (%s)", t.waived, amount(t.waivedSum))
	}
	if t.found > 0 {
		s := fmt.Sprintf("%d lost items returned: the webhook had %d lost-item fees waived (%s) and blocks lifted", t.found, t.foundWaived, amount(t.foundSum))
		if t.webhookPending > 0 {
			s += fmt.Sprintf("; %d fees wait for a redelivery", t.webhookPending)
		}
		line("9-17", "returns", "%s", s)
	}
	printed := map[string]int{}
	for _, nt := range t.notes {
		printed[nt.kind]++
		if printed[nt.kind] <= notesPerKind {
			line(nt.at.Format("15:04"), "", "%s", nt.text)
		}
	}
	for kind, c := range printed {
		if c > notesPerKind {
			line("", "", "… and %d more %s events", c-notesPerKind, kind)
		}
	}
	if t.lostLoans > 0 {
		line("16:00", "Alma", "lost-item job: %d loans turned lost, %d fees assessed (%s with the staff's)", t.lostLoans, t.lostFees, amount(t.lostSum))
	} else if t.lostFees > 0 {
		line("16:00", "Alma", "lost-item fees assessed today: %d (%s)", t.lostFees, amount(t.lostSum))
	}
	if t.exported > 0 {
		line("18:00", "Alma", "export to bursar: %d fees (%s) → %s", t.exported, amount(t.exportedSum), strings.Join(t.exportFiles, ", "))
	}
	if t.charged > 0 || len(t.chargeFiles) > 0 {
		line("18:30", "feesync", "charges: %d lines (%s) → %s", t.charged, amount(t.chargedSum), strings.Join(t.chargeFiles, ", "))
	}
	if t.psCharges > 0 {
		line("18:45", "PeopleSoft", "file load: %d charges on student accounts", t.psCharges)
	}
	if t.psFiles > 0 || t.forwarded > 0 {
		line("hourly", "PeopleSoft", "%d payment files with %d payments", t.psFiles, t.psPayments)
		line("hourly", "feesync", "payments: %d forwarded to Alma (%s); Alma imported %d (%s)", t.forwarded, amount(t.forwardedSum), t.imported, amount(t.importedSum))
	}
	if t.creditExports > 0 || t.credited > 0 {
		s := fmt.Sprintf("credits: Alma exported %d waivers, feesync sent %d credit lines (%s), PeopleSoft applied %d", t.creditExports, t.credited, amount(t.creditedSum), t.psCredits)
		if t.creditDelay > 0 {
			s += fmt.Sprintf(" (slowest %s after the waiver)", t.creditDelay.Round(time.Minute))
		}
		line("hourly", "feesync", "%s", s)
	}
	if t.restarts > 0 {
		line("", "faults", "%d job runs failed and feesync was restarted", t.restarts)
	}
}

var _ io.Writer
