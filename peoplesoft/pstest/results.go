package pstest

import (
	"fmt"
	"io"
	"slices"

	"github.com/feebridge/feebridge/peoplesoft"
)

// The ledger refuses a line as a real load does when its student or its
// item type is not set up, and reports what it did with every line of a
// file as the load's results file. Its messages follow the errors a
// campus's posting results name ("Invalid Employee ID", "Invalid Item
// Type", "Cannot reverse this charge").

// setUp keeps the item types set up, and the results layout, of opts.
func (l *Ledger) setUp(opts Options) {
	l.results = opts.ResultLayout
	if l.results == nil {
		l.results = peoplesoft.ReferenceResultLayout()
	}
	if opts.ItemTypes != nil {
		l.types = make(map[string]bool, len(opts.ItemTypes))
		for _, t := range opts.ItemTypes {
			l.types[t] = true
		}
	}
	l.unknown = make(map[string]bool)
}

// MarkUnknown makes the students unknown to the ledger, as students whose
// record Student Financials does not have yet: every line of theirs is
// refused ("Invalid Employee ID") until [Ledger.AddStudent].
func (l *Ledger) MarkUnknown(emplids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range emplids {
		l.unknown[id] = true
	}
}

// AddStudent makes a student known to the ledger, as the registrar making
// the record: a line sent again for the student is then loaded.
func (l *Ledger) AddStudent(emplid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.unknown, emplid)
}

// Unknown returns the students the ledger does not know, sorted.
func (l *Ledger) Unknown() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id := range l.unknown {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// refuse holds ln when the ledger is not set up for it (an unknown
// student, an item type not set up) and reports whether it did.
func (l *Ledger) refuse(res *LoadResult, file string, ln chargeLine) bool {
	var reason string
	switch ch := ln.ch; {
	case l.unknown[ch.EmplID]:
		reason = fmt.Sprintf("Invalid Employee ID: %s is not a student of Student Financials", ch.EmplID)
	case l.types != nil && !l.types[ch.ItemType]:
		reason = fmt.Sprintf("Invalid Item Type: %s is not set up", ch.ItemType)
	default:
		return false
	}
	l.hold(res, file, ln, "%s", reason)
	res.Exceptions[len(res.Exceptions)-1].Setup = true
	l.except[len(l.except)-1].Setup = true
	return true
}

// resultOf is the load's verdict on ln: posted, or refused with the
// reason of the exception it was held as (held holds it, or nothing).
func resultOf(ln chargeLine, held []Exception) peoplesoft.Result {
	ch := ln.ch
	r := peoplesoft.Result{Ref: ch.Ref, ItemType: ch.ItemType, EmplID: ch.EmplID, Term: ch.Term, Amount: ch.Amount}
	if len(held) > 0 {
		r.Refused, r.Message = true, held[0].Reason
		if !held[0].Setup && ch.Amount.IsNegative() {
			r.Message = "Cannot reverse this charge: " + r.Message
		}
	}
	return r
}

// WriteResults writes the results of a load, res, as the load's results
// file in the ledger's results layout, with its trailer.
func (l *Ledger) WriteResults(w io.Writer, res LoadResult) error {
	enc := peoplesoft.NewResultEncoder(w, l.results, l.now()).WithTrailer()
	for _, r := range res.Results {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("pstest: results of %s: %w", res.Name, err)
		}
	}
	return enc.Close()
}
