package main

import (
	"fmt"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// lookupView is a [reconcile.Lookup] laid out for people: a title and
// three sections (Alma, the journal, the bursar), each a note or a table.
// `feesync show` prints it as text (printLookup), the status page's
// search as HTML (status.go): the layout is written once, here.
type lookupView struct {
	Title    string
	Sections []lookupSection
}

// lookupSection is one section of a lookupView: a note when it has no
// table ("no record", "not asked: …"), or a header and its rows.
type lookupSection struct {
	Title  string
	Note   string
	Header []string
	Rows   [][]string
}

// newLookupView lays l out; almaWhy says why Alma was not asked (""
// when it was, or when nothing stopped it); student ids are masked unless
// show; times are in loc.
func newLookupView(l reconcile.Lookup, almaWhy string, show bool, loc *time.Location) lookupView {
	v := lookupView{Title: "student " + maskIf(l.Student, !show)}
	if l.FeeID != "" {
		v.Title = fmt.Sprintf("fee %s of student %s", l.FeeID, dash(maskIf(l.Student, !show)))
	}
	v.Sections = []lookupSection{almaSection(l, almaWhy), journalSection(l, loc), bursarSection(l)}
	return v
}

func almaSection(l reconcile.Lookup, almaWhy string) lookupSection {
	s := lookupSection{Title: "In Alma"}
	switch {
	case !l.AlmaAsked && almaWhy != "":
		s.Note = fmt.Sprintf("not asked: Alma cannot be reached from here (%s)", almaWhy)
	case !l.AlmaAsked:
		s.Note = "not asked"
	case l.AlmaErr != nil:
		s.Note = fmt.Sprintf("Alma could not be reached: %v", l.AlmaErr)
	case len(l.Alma) == 0:
		s.Note = "no fee"
	default:
		s.Header = []string{"FEE_ID", "TYPE", "STATUS", "ORIGINAL", "BALANCE", "TRANSFERRED", "TRANSACTION"}
		for _, f := range l.Alma {
			s.add(f.ID, string(f.Type), f.Status.String(), moneyText(f.Original), moneyText(f.Balance),
				moneyText(f.Transferred), f.TransactionID)
		}
	}
	return s
}

func journalSection(l reconcile.Lookup, loc *time.Location) lookupSection {
	s := lookupSection{Title: "In the journal"}
	if len(l.Records) == 0 {
		s.Note = "no record"
		return s
	}
	s.Header = []string{"KIND", "OUTCOME", "KEY", "FEE_ID", "TYPE", "AMOUNT", "FILE", "LINE", "OUTPUT", "DATE", "UPDATED", "REASON"}
	for _, r := range l.Records {
		date := ""
		if !r.Date.IsZero() {
			date = r.Date.Format(time.DateOnly)
		}
		s.add(r.Kind, r.Outcome, r.Key, r.FeeID, string(r.FeeType), moneyText(r.Amount), r.File, lineOf(r.Line),
			r.Output, date, r.Updated.In(loc).Format("2006-01-02 15:04 MST"), oneLine(r.Reason))
	}
	return s
}

func bursarSection(l reconcile.Lookup) lookupSection {
	s := lookupSection{Title: "At the bursar (what feesync sent, and what is left per the journal)"}
	if len(l.Bursar) == 0 {
		s.Note = "nothing sent"
		return s
	}
	s.Header = []string{"FEE_ID", "TYPE", "KEY", "CHARGED", "LEFT"}
	for _, b := range l.Bursar {
		c := b.Charge
		s.add(c.FeeID, string(c.FeeType), c.Key, moneyText(c.Amount), moneyText(b.Left))
	}
	return s
}

// add appends a row, an empty cell shown as "-".
func (s *lookupSection) add(cells ...string) {
	for i, c := range cells {
		cells[i] = dash(c)
	}
	s.Rows = append(s.Rows, cells)
}
