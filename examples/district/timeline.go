package district

import (
	"fmt"
	"path"
	"slices"
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
	eventRetries            int // attempts at journaled events that failed, to be retried
	eventsFailed            int // journaled events that failed for good
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
	chargedAt               time.Time // the first charges run that charged (jobend.go)
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
	who  string
	at   time.Time
	text string
}

// notesPerKind is how many notes of one kind a day prints before it
// sums the rest up.
const notesPerKind = 2

func (t *day) note(kind, who string, at time.Time, text string) {
	t.notes = append(t.notes, note{kind: kind, who: who, at: at, text: text})
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
	psCredits                  int
	psCreditSum                fees.Money
	creditExportedSum          fees.Money
	creditDelay                time.Duration
	reports, exceptions        int
	byHand                     int
	restarts, kills            int
	problems                   []string
	// bursarRefused are the charges PeopleSoft's load refused (students
	// it did not know yet, refusals.go); redriven those sent again once
	// the registrar added the students.
	bursarRefused, redriven       int
	bursarRefusedSum, redrivenSum fees.Money
}

func (d *District) newDay(at time.Time) {
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
func (d *District) endDay() {
	t := d.today
	w := d.out
	n := int(t.date.Sub(d.opt.Start)/(24*time.Hour)) + 1
	label := fmt.Sprintf("Day %d", n)
	if n > d.opt.Days {
		label = "Next morning"
	}
	fmt.Fprintf(w, "\n%s, %s %s\n", label, t.date.Format("Monday 2 January 2006"), strings.Repeat("─", max(0, 44-len(label)-len(t.date.Format("Monday 2 January 2006")))))
	type entry struct {
		sort      string
		when, who string
		text      string
	}
	var entries []entry
	line := func(when, who, format string, args ...any) {
		key := when
		switch when {
		case "16:59":
			when = ""
		case "9-17":
			key = "09:00"
		case "hourly":
			key = "99:99"
		}
		entries = append(entries, entry{sort: key, when: when, who: who, text: fmt.Sprintf(format, args...)})
	}
	defer func() {
		slices.SortStableFunc(entries, func(a, b entry) int { return strings.Compare(a.sort, b.sort) })
		for _, e := range entries {
			fmt.Fprintf(w, "  %-6s %-10s %s\n", e.when, e.who, e.text)
		}
	}()
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
		s := plural(t.returns, "loan", "loans") + " returned"
		if t.late > 0 {
			s += fmt.Sprintf(" (%d late: %s in overdue fines", t.late, amount(t.lateSum))
			if t.deskPaid > 0 {
				s += fmt.Sprintf(", %d paid at the desk", t.deskPaid)
			}
			s += ")"
		}
		if t.damaged > 0 {
			s += fmt.Sprintf("; %s (%s)", plural(t.damaged, "damaged-item fine", "damaged-item fines"), amount(t.damagedSum))
		}
		line("9-17", "desk", "%s", s)
	}
	if t.declared > 0 {
		line("9-17", "staff", "%s declared lost", plural(t.declared, "loan", "loans"))
	}
	if t.online+t.cashFull+t.cashPart > 0 {
		line("9-17", "students", "eServices: %d paid in full (%s); cashier: %d in full (%s), %d in part (%s)",
			t.online, amount(t.onlineSum), t.cashFull, amount(t.cashFullSum), t.cashPart, amount(t.cashPartSum))
	}
	if t.waived > 0 {
		line("9-17", "staff", "%s waived in full (%s)", plural(t.waived, "transferred fee", "transferred fees"), amount(t.waivedSum))
	}
	if t.found > 0 {
		s := fmt.Sprintf("%s returned: the webhook had %s waived (%s) and the blocks lifted",
			plural(t.found, "lost item", "lost items"), plural(t.foundWaived, "lost-item fee", "lost-item fees"), amount(t.foundSum))
		if t.webhookPending > 0 {
			s += fmt.Sprintf("; %d fees wait for feesync's retry", t.webhookPending)
		}
		line("9-17", "returns", "%s", s)
	}
	printed := map[string]int{}
	var kinds []string // in the order of their first note, not the map's
	for _, nt := range t.notes {
		if printed[nt.kind] == 0 {
			kinds = append(kinds, nt.kind)
		}
		printed[nt.kind]++
		if printed[nt.kind] <= notesPerKind {
			line(nt.at.Format("15:04"), nt.who, "%s", nt.text)
		}
	}
	for _, kind := range kinds {
		if c := printed[kind]; c > notesPerKind {
			line("16:59", "", "… and %d more %s", c-notesPerKind, kind)
		}
	}
	if t.lostLoans > 0 {
		line("16:00", "Alma", "lost-item job: %s turned lost; lost-item fees assessed today: %d (%s)",
			plural(t.lostLoans, "loan", "loans"), t.lostFees, amount(t.lostSum))
	}
	if t.exported > 0 {
		line("18:00", "Alma", "export to bursar: %s (%s) → %s", plural(t.exported, "fee", "fees"), amount(t.exportedSum), strings.Join(t.exportFiles, ", "))
	}
	if t.charged > 0 || len(t.chargeFiles) > 0 {
		line(d.chargesLabel(t), "feesync", "charges job: %s (%s) → %s", plural(t.charged, "line", "lines"), amount(t.chargedSum), strings.Join(t.chargeFiles, ", "))
	}
	if t.psCharges > 0 {
		line("18:45", "PeopleSoft", "file load: %s on student accounts", plural(t.psCharges, "charge", "charges"))
	}
	if t.psFiles > 0 || t.forwarded > 0 {
		line("hourly", "PeopleSoft", "%s with %s", plural(t.psFiles, "payment file", "payment files"), plural(t.psPayments, "payment", "payments"))
		line("hourly", "feesync", "payments job: %d forwarded to Alma (%s); Alma's import applied %d (%s)", t.forwarded, amount(t.forwardedSum), t.imported, amount(t.importedSum))
	}
	if t.creditExports > 0 || t.credited > 0 {
		s := fmt.Sprintf("credits job: Alma exported %s, feesync sent %s (%s), PeopleSoft applied %d",
			plural(t.creditExports, "waiver", "waivers"), plural(t.credited, "credit line", "credit lines"), amount(t.creditedSum), t.psCredits)
		if t.creditDelay > 0 {
			s += fmt.Sprintf(", the slowest %s after its waiver", minutes(t.creditDelay))
		}
		line("hourly", "feesync", "%s", s)
	}
	var refused, redelivered int
	for _, wh := range d.alma.Webhooks() {
		for i, a := range wh.Attempts {
			if !sameDay(a.At, t.date) {
				continue
			}
			if a.Status < 200 || a.Status > 299 {
				refused++
			} else if i > 0 {
				redelivered++
			}
		}
	}
	if refused+redelivered > 0 {
		line("hourly", "webhooks", "%s refused by feesync (Alma delivers again after 1 h, 3 h, 6 h); %s delivered on a retry",
			plural(refused, "delivery", "deliveries"), plural(redelivered, "event", "events"))
	}
	if t.eventRetries+t.eventsFailed > 0 {
		line("hourly", "webhooks", "%s at lost returns failed and wait in feesync's journal for a retry; %s failed for good",
			plural(t.eventRetries, "attempt", "attempts"), plural(t.eventsFailed, "event", "events"))
	}
	if t.restarts > 0 {
		line("hourly", "faults", "%s failed; feesync restarted, the journal reopened, and the job ran again", plural(t.restarts, "job run", "job runs"))
	}
}

// plural writes n and the noun in the right number.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// minutes writes a duration in minutes, or hours and minutes.
func minutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}
