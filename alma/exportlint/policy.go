package exportlint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// Policy is what a district means its bursar profile in Alma to export.
// Each field left at its zero value checks nothing.
type Policy struct {
	// MinimumAmount: a fee below it should not have been exported. The
	// zero Money sets no minimum.
	MinimumAmount fees.Money
	// MinimumAgeDays: a fee whose last transaction is fewer calendar days
	// before the export's day should not have been exported yet.
	MinimumAgeDays int
	// ExcludedUserGroups are Alma user group codes whose fees are not
	// billed through the bursar.
	ExcludedUserGroups []string
	// Libraries are the codes of the owning libraries whose fees are
	// exported; empty: every library's and the institution's.
	Libraries []string
	// FeeTypes are the fee types exported; empty: every type.
	FeeTypes []fees.Type
}

// IsZero reports whether the policy checks nothing.
func (p Policy) IsZero() bool {
	return !p.MinimumAmount.Valid() && p.MinimumAgeDays == 0 && len(p.ExcludedUserGroups) == 0 &&
		len(p.Libraries) == 0 && len(p.FeeTypes) == 0
}

// Reason is why the policy would not have sent a fee.
type Reason string

// The reasons, in the order a summary lists them.
const (
	BelowMinimum     Reason = "below-minimum"
	TooRecent        Reason = "too-recent"
	ExcludedGroup    Reason = "excluded-user-group"
	LibraryNotBilled Reason = "library-not-billed"
	TypeNotBilled    Reason = "fee-type-not-billed"
)

// Reasons lists every reason in summary order.
var Reasons = []Reason{BelowMinimum, TooRecent, ExcludedGroup, LibraryNotBilled, TypeNotBilled}

// Hint names the option of Alma's bursar integration profile that decides
// what the reason is about.
func (r Reason) Hint() string {
	switch r {
	case BelowMinimum:
		return "set the profile's minimum amount (threshold) for export to the policy's minimum"
	case TooRecent:
		return "set the profile's minimum age for export, in days, to the policy's"
	case ExcludedGroup:
		return "leave these user groups out of the profile's user groups"
	case LibraryNotBilled:
		return "limit the profile's owners (institution, libraries) to the libraries billed"
	case TypeNotBilled:
		return "limit the profile's fine/fee types to export to the types billed"
	}
	return ""
}

// Finding is one reason a fee would not have been sent, with the fee's
// value that caused it.
type Finding struct {
	Reason Reason
	Detail string
}

// Unchecked is a check that could not be made for a fee.
type Unchecked string

// What could not be checked.
const (
	NoUserGroup   Unchecked = "user group not known"
	NoDate        Unchecked = "no last transaction date or export time"
	OtherCurrency Unchecked = "amount in another currency than the minimum"
)

// Facts are what a check needs besides the record: when the export ran
// and the user's group, when known.
type Facts struct {
	// ExportedAt is when Alma ran the export; zero when not known.
	ExportedAt time.Time
	// UserGroup is the user's group code; GroupKnown says it was found.
	UserGroup  string
	GroupKnown bool
}

// Check returns the reasons the policy would not have sent the fee rec,
// and the checks it could not make. Credits are not judged: a credit
// follows its charge.
func (p Policy) Check(rec alma.ExportRecord, f Facts) ([]Finding, []Unchecked) {
	var found []Finding
	var unchecked []Unchecked
	add := func(r Reason, format string, args ...any) {
		found = append(found, Finding{Reason: r, Detail: fmt.Sprintf(format, args...)})
	}
	if p.MinimumAmount.Valid() {
		switch c, err := rec.Amount.Cmp(p.MinimumAmount); {
		case err != nil:
			unchecked = append(unchecked, OtherCurrency)
		case c < 0:
			add(BelowMinimum, "%s is below the minimum %s", rec.Amount, p.MinimumAmount)
		}
	}
	if p.MinimumAgeDays > 0 {
		if rec.LastTransaction.IsZero() || f.ExportedAt.IsZero() {
			unchecked = append(unchecked, NoDate)
		} else if days := ageDays(rec.LastTransaction, f.ExportedAt); days < p.MinimumAgeDays {
			add(TooRecent, "last transaction %s, %s before the export; the minimum is %d",
				rec.LastTransaction.Format(time.DateOnly), daysText(days), p.MinimumAgeDays)
		}
	}
	if len(p.ExcludedUserGroups) > 0 {
		if !f.GroupKnown {
			unchecked = append(unchecked, NoUserGroup)
		} else if containsFold(p.ExcludedUserGroups, f.UserGroup) {
			add(ExcludedGroup, "user group %s is excluded", f.UserGroup)
		}
	}
	if len(p.Libraries) > 0 && !containsFold(p.Libraries, rec.Owner) {
		if rec.Owner == "" {
			add(LibraryNotBilled, "owned by the institution, not by a library billed (%s)", strings.Join(p.Libraries, ", "))
		} else {
			add(LibraryNotBilled, "owning library %s is not billed (%s)", rec.Owner, strings.Join(p.Libraries, ", "))
		}
	}
	if len(p.FeeTypes) > 0 && !slices.ContainsFunc(p.FeeTypes, func(t fees.Type) bool { return strings.EqualFold(string(t), string(rec.Type)) }) {
		add(TypeNotBilled, "fee type %s is not billed", rec.Type)
	}
	return found, unchecked
}

// ageDays is how many calendar days lie between the day of t and the day
// of the export at, both in at's zone: a fee from Monday is one day old
// on Tuesday, whatever the hours.
func ageDays(t, at time.Time) int {
	t = t.In(at.Location())
	day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC) }
	return int(day(at).Sub(day(t)).Hours() / 24)
}

// daysText is "1 day", "3 days".
func daysText(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}

// containsFold reports whether list holds s, ignoring case; Alma's codes
// are upper case but districts type them as they please. An empty s is in
// no list.
func containsFold(list []string, s string) bool {
	return s != "" && slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
