package peoplesoft

import (
	"errors"
	"fmt"
)

// The causes of a [ParseError] or [RejectError]. Test for them with
// errors.Is.
var (
	// ErrShortLine: a fixed-width record shorter than its layout.
	ErrShortLine = errors.New("line too short")
	// ErrLongLine: a fixed-width record longer than its layout, or a CSV
	// record whose quoted fields run over more than 1 MiB (a quote not
	// closed), which ends the file.
	ErrLongLine = errors.New("line too long")
	// ErrFieldCount: a CSV record with the wrong number of fields.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrSyntax: a CSV record that breaks RFC 4180 quoting.
	ErrSyntax = errors.New("bad CSV syntax")
	// ErrAmount: an amount that is malformed, not positive where it must
	// be, or in the wrong currency.
	ErrAmount = errors.New("bad amount")
	// ErrDate: a date or time that does not match its layout.
	ErrDate = errors.New("bad date")
	// ErrChannel: a payment channel other than ESERVICES or CASHIER.
	ErrChannel = errors.New("unknown channel")
	// ErrMethod: a payment method other than CREDIT_CARD, CASH or CHECK,
	// or one the channel does not take.
	ErrMethod = errors.New("unknown method")
	// ErrStatus: a results line whose STATUS is neither of its layout's
	// two values (posted, refused).
	ErrStatus = errors.New("unknown status")
	// ErrMissing: a required value is empty.
	ErrMissing = errors.New("missing value")
	// ErrConst: a field that must hold a fixed value holds another.
	ErrConst = errors.New("unexpected value")
	// ErrDuplicate: a payment whose key (receipt, reference and item type) appeared
	// earlier in the same file.
	ErrDuplicate = errors.New("duplicate payment")
	// ErrHeader: the file's first record is not the header its layout
	// expects.
	ErrHeader = errors.New("bad header")
	// ErrTrailer: the trailer is missing, malformed, or not the last record.
	ErrTrailer = errors.New("bad trailer")
	// ErrTrailerCount: the trailer's record count disagrees with the records.
	ErrTrailerCount = errors.New("trailer count disagrees")
	// ErrTrailerTotal: a trailer total disagrees with the records.
	ErrTrailerTotal = errors.New("trailer total disagrees")
	// ErrFieldTooLong: a value longer than its field. Values are never cut
	// unless the layout says so for DESCR.
	ErrFieldTooLong = errors.New("value longer than its field")
	// ErrCharset: a key with a character that could shift a column: a
	// control character, or non-ASCII in a fixed-width file.
	ErrCharset = errors.New("character not allowed")
	// ErrTooLarge: the file is larger than the decoder's MaxBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrLayout: the layout is invalid.
	ErrLayout = errors.New("invalid layout")
	// ErrUnmapped: a fee type with no PeopleSoft item type in the mapping.
	ErrUnmapped = errors.New("fee type not mapped")
	// ErrNoTerm: a date outside every term of the calendar.
	ErrNoTerm = errors.New("date outside every term")
	// ErrFee: a fee or credit that cannot be charged as it is (no
	// reference, no student, an amount that is not positive).
	ErrFee = errors.New("fee cannot be charged")
)

// ParseError is a record that could not be read, or a problem with the
// whole file (then Line is the line where it showed). Err wraps one of the
// sentinel causes above.
type ParseError struct {
	File  string // the file's name, when the caller gave one
	Line  int    // 1-based line number
	Field string // the field's name, when one field is at fault
	Err   error

	whole bool // the error concerns the whole file; see IsFileError
}

// IsFileError reports whether err, returned by a decoder, concerns the
// whole file rather than one record: a missing or bad header, a trailer
// that disagrees or is missing, a file above MaxBytes, a read error, an
// invalid layout. Decoding cannot go on after such an error (the decoder
// returns it again on every call); after any other error it goes on with
// the next record.
func IsFileError(err error) bool {
	if errors.Is(err, ErrLayout) {
		return true
	}
	var pe *ParseError
	return errors.As(err, &pe) && pe.whole
}

func (e *ParseError) Error() string {
	var s string
	if e.File != "" {
		s = fmt.Sprintf("peoplesoft: %s:%d", e.File, e.Line)
	} else {
		s = fmt.Sprintf("peoplesoft: line %d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// RejectError is a fee or credit that cannot become a charge line, with the
// reason. It wraps a cause such as [ErrUnmapped] or [ErrNoTerm].
type RejectError struct {
	Fee    string // the Alma fee id, or the credit's key
	Ref    string // the bursar transaction id, when known
	Reason string
	Err    error
}

func (e *RejectError) Error() string {
	s := "peoplesoft: fee " + e.Fee
	if e.Ref != "" {
		s += " (ref " + e.Ref + ")"
	}
	return s + ": rejected: " + e.Reason
}

func (e *RejectError) Unwrap() error { return e.Err }

// EncodeError is a charge or payment that could not be written: the
// record is skipped, nothing of it reaches the file, and the encoder goes
// on with the next one. Err wraps a cause such as [ErrFieldTooLong].
type EncodeError struct {
	Ref   string // the record's REF1_DESCR
	Field string
	Err   error
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("peoplesoft: record %s: %s: %v", e.Ref, e.Field, e.Err)
}

func (e *EncodeError) Unwrap() error { return e.Err }
