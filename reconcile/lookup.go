package reconcile

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// Lookup is where one student or one fee stands: in Alma (asked live,
// when the jobs have Alma's API), in the journal (every record kept of
// it) and at the bursar (what was sent, and what is left per the
// journal). The status page and `feesync show` print it.
type Lookup struct {
	// Student and FeeID are what was asked (FeeID empty for a student).
	Student, FeeID string
	// Alma are the fees Alma shows (for a fee, that one); AlmaAsked tells
	// whether Alma was asked, AlmaErr why it could not answer.
	Alma      []fees.Fee
	AlmaAsked bool
	AlmaErr   error
	// Records are the journal's records: charged, forwarded, credited,
	// held, …, with their files, lines and dates, oldest first.
	Records []Record
	// Bursar are the charges sent to the bursar with what is left of
	// each, per the journal.
	Bursar []BursarCharge
}

// BursarCharge is one charge sent to the bursar and what it still holds
// of it, per the journal (the charge less payments forwarded and credits
// sent).
type BursarCharge struct {
	Charge Record
	Left   fees.Money
}

// LookupStudent says where student id stands in Alma, the journal and
// at the bursar. An Alma that cannot be reached leaves AlmaErr set, not
// an error: the journal still answers.
func (j *Jobs) LookupStudent(ctx context.Context, id string) (Lookup, error) {
	l := Lookup{Student: id}
	recs, err := j.deps.Journal.RecordsFor(ctx, id, "")
	if err != nil {
		return l, err
	}
	l.Records = recs
	if err := j.lookupBursar(ctx, &l, ""); err != nil {
		return l, err
	}
	j.lookupAlma(ctx, &l, "")
	return l, nil
}

// LookupFee is [Jobs.LookupStudent] for one fee, by the id the journal
// and the bursar know it by (the fee id of Alma's bursar export, Alma's
// bursar transaction id): the journal names its student, whom Alma is
// asked about; Alma's fee matches by its transaction id or its own id.
func (j *Jobs) LookupFee(ctx context.Context, feeID string) (Lookup, error) {
	l := Lookup{FeeID: feeID}
	recs, err := j.deps.Journal.RecordsFor(ctx, "", feeID)
	if err != nil {
		return l, err
	}
	l.Records = recs
	for _, r := range recs {
		if r.UserID != "" {
			l.Student = r.UserID
			break
		}
	}
	if l.Student == "" {
		return l, nil
	}
	if err := j.lookupBursar(ctx, &l, feeID); err != nil {
		return l, err
	}
	j.lookupAlma(ctx, &l, feeID)
	return l, nil
}

// lookupBursar fills l.Bursar with l.Student's charges (only feeID's,
// when set).
func (j *Jobs) lookupBursar(ctx context.Context, l *Lookup, feeID string) error {
	out, err := j.deps.Journal.Outstanding(ctx, l.Student)
	if err != nil {
		return err
	}
	for _, h := range out {
		if feeID == "" || h.Charge.FeeID == feeID {
			l.Bursar = append(l.Bursar, BursarCharge{Charge: h.Charge, Left: h.Left})
		}
	}
	return nil
}

// lookupAlma asks Alma for l.Student's fees (only feeID, when set), when
// the jobs have Alma's API.
func (j *Jobs) lookupAlma(ctx context.Context, l *Lookup, feeID string) {
	if j.deps.Alma == nil {
		return
	}
	l.AlmaAsked = true
	fs, err := j.deps.Alma.ListFees(ctx, l.Student)
	if err != nil {
		l.AlmaErr = fmt.Errorf("Alma: fees of a student: %w", err)
		return
	}
	for _, f := range fs {
		if feeID == "" || f.ID == feeID || f.TransactionID == feeID {
			l.Alma = append(l.Alma, f)
		}
	}
}
