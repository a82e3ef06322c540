package district

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
	"github.com/feebridge/feebridge/reconcile"
)

// The bursar's own refusals: when feesync reads the results of
// PeopleSoft's load (Schedules.Results), a few students of the first
// evening's export are not known to PeopleSoft yet (a record the
// registrar has not made). The load refuses their charges and loads the
// rest of the file; feesync's results job holds the refused charges with
// the load's message, and the daily report lists them as sent, refused
// by PeopleSoft. The next morning the registrar adds the students, and
// staff re-drive the held charges (feesync redrive charge): the lines go
// out again, in a new file the load accepts.
const (
	refusedStudents   = 3            // students unknown to PeopleSoft at first
	registrarSchedule = "0 10 * * *" // the registrar's office fixes records
	registrarAfter    = 12 * time.Hour
	resultsFolder     = "results" // on PeopleSoft's drop
)

// refusals are the students PeopleSoft does not know at first, and what
// became of their charges.
type refusals struct {
	students map[string]bool   // by student id: not yet added by the registrar
	keys     map[string]string // the charge keys of their charges in that export → student
	picked   bool              // the export was looked at
	pickedAt time.Time         // when
}

// refusalTasks are the tasks of the week that read the load's results
// (feesync's results job) and fix the students' records (the registrar,
// then staff re-driving the charges), when s.Results is set.
func (d *District) refusalTasks(f Feesync, s Schedules) []struct {
	name, spec string
	run        func(ctx context.Context) error
	flow       bool
} {
	if s.Results == "" {
		return nil
	}
	d.refusals = &refusals{students: map[string]bool{}, keys: map[string]string{}}
	d.ledger.results = resultsFolder
	return []struct {
		name, spec string
		run        func(ctx context.Context) error
		flow       bool
	}{
		{"results", s.Results, func(ctx context.Context) error { return d.resultsJob(ctx, f) }, true},
		{"registrar", registrarSchedule, func(ctx context.Context) error { return d.registrar(ctx, f) }, false},
	}
}

// planRefusals picks, in the first export that has them, the students
// PeopleSoft does not know yet: up to refusedStudents, in id order,
// whose fees in the export are none of them for a lost item and whose
// loans stay out of the lost-item flows this week (a waiver of a charge
// PeopleSoft refused would have no charge to lower there).
func (d *District) planRefusals(res almatest.ExportResult) {
	r := d.refusals
	if r == nil || r.picked || len(res.Records) == 0 {
		return
	}
	r.picked, r.pickedAt = true, d.clock.Now()
	byUser := map[string][]almatest.ExportedRecord{}
	for _, rec := range res.Records {
		byUser[rec.UserID] = append(byUser[rec.UserID], rec)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		if len(r.students) == refusedStudents {
			break
		}
		if !d.quietStudent(u, byUser[u]) {
			continue
		}
		r.students[u] = true
		for _, rec := range byUser[u] {
			key := fees.ChargeKey(rec.TransactionID, rec.Type)
			r.keys[key] = u
		}
		d.ledger.ledger.MarkUnknown(u)
	}
}

// quietStudent reports whether the student's exported fees and loans
// stay out of the lost-item flows this week.
func (d *District) quietStudent(user string, recs []almatest.ExportedRecord) bool {
	for _, rec := range recs {
		if rec.Type.IsLostItem() || rec.WaiverID != "" || !rec.Amount.IsPositive() {
			return false
		}
	}
	for _, l := range d.loans {
		if l.user == user && (l.lost || l.forceFound || !l.declareAt.IsZero() || !l.foundAt.IsZero()) {
			return false
		}
	}
	return true
}

// writeResults writes the results of the load lr to the results folder,
// when the load reports them.
func (b *PeopleSoft) writeResults(ctx context.Context, lr pstest.LoadResult) error {
	if b.results == "" || lr.AlreadyLoaded {
		return nil
	}
	var buf bytes.Buffer
	if err := b.ledger.WriteResults(&buf, lr); err != nil {
		return err
	}
	name := path.Join(b.results, strings.TrimSuffix(lr.Name, path.Ext(lr.Name))+".results.csv")
	return b.drop.WriteFile(ctx, name, buf.Bytes())
}

// resultsJob runs feesync's results job: the refusals of the planned
// students' charges are expected; anything else it holds is a problem. A
// run killed after its decision and run again reports nothing of the
// file: the registrar counts the refusals from the journal.
func (d *District) resultsJob(ctx context.Context, f Feesync) error {
	res, err := f.Results(ctx)
	if err != nil {
		return err
	}
	r := d.refusals
	var other reconcile.RunResult
	for _, rej := range res.Rejected {
		if _, planned := r.keys[rej.Key]; planned && rej.Code == reconcile.CodeBursarRefused {
			_, msg, _ := strings.Cut(rej.Reason, "refused by PeopleSoft: ")
			d.today.note("refusal", "feesync", d.clock.Now(), fmt.Sprintf("results job: PeopleSoft refused charge %s: %s; held",
				rej.Key, strings.TrimSuffix(msg, " is not a student of Student Financials")))
			continue
		}
		other.Rejected = append(other.Rejected, rej)
	}
	other.Failed = res.Failed
	d.noteRun("results", other)
	return nil
}

// registrar adds the students picked at least registrarAfter ago, and
// staff then re-drive the charges the journal holds as refused by
// PeopleSoft.
func (d *District) registrar(ctx context.Context, f Feesync) error {
	r := d.refusals
	now := d.clock.Now()
	if !r.picked || len(r.students) == 0 || now.Sub(r.pickedAt) < registrarAfter {
		return nil
	}
	fixed := make([]string, 0, len(r.students))
	for u := range r.students {
		fixed = append(fixed, u)
		d.ledger.ledger.AddStudent(u)
	}
	clear(r.students)
	slices.Sort(fixed)
	held, err := f.Journal().Held(ctx, reconcile.KindCharge)
	if err != nil {
		return err
	}
	var refused []string
	for _, h := range held {
		if _, planned := r.keys[h.Key]; planned && h.Code == reconcile.CodeBursarRefused {
			refused = append(refused, h.Key)
			d.stats.bursarRefused++
			d.stats.bursarRefusedSum = add(d.stats.bursarRefusedSum, h.Amount)
		}
	}
	res, err := f.Redrive(ctx, reconcile.KindCharge)
	if err != nil {
		return err
	}
	d.noteRun("redrive", res)
	// Counted from the journal: a re-drive killed after its decision and
	// run again reports nothing of the file it finished.
	n, sum := 0, fees.Zero(d.cur)
	for _, key := range refused {
		rec, ok, err := f.Journal().Get(ctx, reconcile.KindCharge, key)
		if err != nil {
			return err
		}
		if ok && rec.Outcome == reconcile.OutcomeCharged {
			n, sum = n+1, add(sum, rec.Amount)
		}
	}
	who := "students"
	if len(fixed) == 1 {
		who = "student"
	}
	d.today.note("refusal", "registrar", now, fmt.Sprintf("added %s %s; staff re-drove %s (%s)",
		who, strings.Join(fixed, ", "), plural(n, "charge", "charges"), amount(sum)))
	d.stats.redriven += n
	d.stats.redrivenSum = add(d.stats.redrivenSum, sum)
	return nil
}
