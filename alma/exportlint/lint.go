package exportlint

import (
	"errors"
	"io"
	"path/filepath"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// Warning is one fee of an export that the policy would not have sent.
type Warning struct {
	File string
	Line int // of the fee's userFineFee element
	// TransactionID and Type are the fee's charge key.
	TransactionID string
	Type          fees.Type
	// User is the user's identifier, whole: whoever shows it masks it
	// (fees.MaskID) as the logs do.
	User     string
	Amount   fees.Money
	Findings []Finding
}

// Options are what [Lint] needs besides the file and the policy.
type Options struct {
	// File names the file in warnings and errors.
	File string
	// ExportedAt is when Alma ran the export, from whose day ages are
	// counted; zero: the time stamp of an Alma file name (see
	// [alma.ParseFileName]), else ages are not checked.
	ExportedAt time.Time
	// Location is the zone of dates written without one, and of the days
	// ages are counted in (nil: UTC).
	Location *time.Location
	// UserGroups maps a user's identifier, as the export has it, to the
	// user group code; nil: user groups are not checked.
	UserGroups map[string]string
}

// Summary counts what [Lint] read and found.
type Summary struct {
	Fees    int // charges read and judged
	Credits int // credits read, not judged
	Warned  int // fees with at least one finding
	// ByReason counts the findings per reason; one fee may have several.
	ByReason map[Reason]int
	// Unchecked counts the checks that could not be made.
	Unchecked map[Unchecked]int
	// Errors are the records the decoder refused (*alma.ParseError), which
	// were not judged.
	Errors []error
	// ExportedAt is the time ages were counted from; zero when none.
	ExportedAt time.Time
}

// Lint reads the export r and calls warn for each fee that p would not
// have sent, in file order. It reads every record it can: a record the
// decoder refuses is kept in Summary.Errors and the next one is read. The
// error it returns is for the file as a whole (not XML, or unreadable),
// and names the file and the line.
func Lint(r io.Reader, p Policy, opts *Options, warn func(Warning)) (Summary, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := Summary{ByReason: map[Reason]int{}, Unchecked: map[Unchecked]int{}, ExportedAt: exportTime(opts)}
	dec := alma.NewExportDecoder(r, &alma.DecoderOptions{File: opts.File, Location: opts.Location})
	for {
		rec, err := dec.Decode()
		switch {
		case errors.Is(err, io.EOF):
			return s, nil
		case alma.IsFileError(err):
			return s, err
		case err != nil:
			s.Errors = append(s.Errors, err)
			continue
		}
		if rec.IsCredit() {
			s.Credits++
			continue
		}
		s.Fees++
		facts := Facts{ExportedAt: s.ExportedAt}
		if opts.UserGroups != nil {
			facts.UserGroup, facts.GroupKnown = opts.UserGroups[rec.Patron.ID]
		}
		found, unchecked := p.Check(rec, facts)
		for _, u := range unchecked {
			s.Unchecked[u]++
		}
		if len(found) == 0 {
			continue
		}
		s.Warned++
		for _, f := range found {
			s.ByReason[f.Reason]++
		}
		warn(Warning{File: opts.File, Line: rec.Line, TransactionID: rec.TransactionID, Type: rec.Type,
			User: rec.Patron.ID, Amount: rec.Amount, Findings: found})
	}
}

// exportTime is opts.ExportedAt, or the time in the file's name when Alma
// named it, or zero.
func exportTime(opts *Options) time.Time {
	t := opts.ExportedAt
	if t.IsZero() {
		if _, _, named, err := alma.ParseFileName(filepath.Base(opts.File)); err == nil {
			t = named
		}
	}
	if !t.IsZero() && opts.Location != nil {
		t = t.In(opts.Location)
	}
	return t
}
