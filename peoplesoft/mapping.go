package peoplesoft

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// Mapping turns library fees and credits into charge lines: which
// PeopleSoft item type each fee type becomes, which term a charge falls
// in, and when it is due. It decodes from TOML.
type Mapping struct {
	// ItemTypes maps Alma fee types to the bursar's codes for them:
	// 12-digit PeopleSoft item types, or whatever ItemTypePattern allows
	// (a Banner detail code, a Colleague AR code).
	// A credit line carries the item type of the charge it lowers (see
	// [Mapping.CreditFor]); the entry for CREDIT names the item type of
	// Alma's CREDIT records that are linked to no charge, which feebridge
	// does not send (the reconciliation reports them).
	ItemTypes map[fees.Type]string `toml:"item_types"`
	// RefundItemTypes maps Alma fee types to the 12-digit PeopleSoft item
	// types of their refund lines (R8, see [Mapping.RefundFor]). Each must
	// differ from every charge item type, so that PeopleSoft, and the
	// reconciliation, tell a refund from a credit.
	RefundItemTypes map[fees.Type]string `toml:"refund_item_types"`
	// Calendar gives the term code of a date.
	Calendar Calendar `toml:"calendar"`
	// DueDays is how many days after the as-of date a charge is due.
	DueDays int `toml:"due_days"`
	// Colleges, when not empty, route each fee by its owning library to
	// a college's business unit, item types and calendar (see
	// [College]); a fee of a library no college lists is refused with
	// [ErrUnrouted]. Empty: every charge is written with the mapping
	// above and no business unit.
	Colleges []College `toml:"colleges"`
	// ItemTypePattern is the regular expression (Go syntax, matched
	// against the whole code) every item type must match; empty means
	// PeopleSoft's 12 digits. Banner's four-character detail codes are
	// "[A-Z0-9]{4}".
	ItemTypePattern string `toml:"item_type_pattern"`
}

// itemTypeDigits is the default ItemTypePattern: PeopleSoft's item types.
const itemTypeDigits = "[0-9]{12}"

// ItemTypeRegexp compiles ItemTypePattern (or the default, 12 digits),
// anchored to match whole codes.
func (m Mapping) ItemTypeRegexp() (*regexp.Regexp, error) {
	p := m.ItemTypePattern
	if p == "" {
		p = itemTypeDigits
	}
	re, err := regexp.Compile("^(?:" + p + ")$")
	if err != nil {
		return nil, fmt.Errorf("peoplesoft: item_type_pattern: %q: %w", m.ItemTypePattern, err)
	}
	return re, nil
}

// ItemTypeWant says in words what an item type must look like.
func (m Mapping) ItemTypeWant() string {
	if m.ItemTypePattern == "" || m.ItemTypePattern == itemTypeDigits {
		return "want 12 digits"
	}
	return fmt.Sprintf("want a code matching %q", m.ItemTypePattern)
}

// The reference item types.
const (
	ItemTypeOverdueFine            = "300000000001"
	ItemTypeLostItemReplacementFee = "300000000002"
	ItemTypeLostItemProcessFee     = "300000000003"
	ItemTypeDamagedItemFine        = "300000000004"
	ItemTypeRecalledOverdueFine    = "300000000005"
	ItemTypeOther                  = "300000000006"
	ItemTypeCredit                 = "300000000099"

	// The reference refund item types (R8).
	ItemTypeLostItemReplacementFeeRefund = "300000000012"
	ItemTypeLostItemProcessFeeRefund     = "300000000013"
)

// DefaultMapping returns the reference mapping: the reference item types,
// the default calendar (see [DefaultCalendar]) and charges due 30 days
// after the as-of date. Each call returns a new Mapping.
func DefaultMapping() Mapping {
	return Mapping{
		ItemTypes: map[fees.Type]string{
			fees.TypeOverdueFine:            ItemTypeOverdueFine,
			fees.TypeLostItemReplacementFee: ItemTypeLostItemReplacementFee,
			fees.TypeLostItemProcessFee:     ItemTypeLostItemProcessFee,
			fees.TypeDamagedItemFine:        ItemTypeDamagedItemFine,
			fees.TypeRecalledOverdueFine:    ItemTypeRecalledOverdueFine,
			fees.TypeOther:                  ItemTypeOther,
			fees.TypeCredit:                 ItemTypeCredit,
		},
		RefundItemTypes: map[fees.Type]string{
			fees.TypeLostItemReplacementFee: ItemTypeLostItemReplacementFeeRefund,
			fees.TypeLostItemProcessFee:     ItemTypeLostItemProcessFeeRefund,
		},
		Calendar: DefaultCalendar(),
		DueDays:  30,
	}
}

// Validate checks that every item type matches ItemTypePattern (12
// digits by default), that DueDays is not negative, that the calendar is
// sound, and that the colleges are: each with a name, a business unit and
// libraries, no library in two.
func (m Mapping) Validate() error {
	re, err := m.ItemTypeRegexp()
	if err != nil {
		return err
	}
	for t, it := range m.ItemTypes {
		if !re.MatchString(it) {
			return fmt.Errorf("peoplesoft: item_types.%s: %q: %s", t, it, m.ItemTypeWant())
		}
	}
	for t, it := range m.RefundItemTypes {
		if !re.MatchString(it) {
			return fmt.Errorf("peoplesoft: refund_item_types.%s: %q: %s", t, it, m.ItemTypeWant())
		}
		for ct, cit := range m.ItemTypes {
			if cit == it {
				return fmt.Errorf("peoplesoft: refund_item_types.%s: %q is also the charge item type of %s", t, it, ct)
			}
		}
	}
	if m.DueDays < 0 {
		return fmt.Errorf("peoplesoft: due_days: %d: must not be negative", m.DueDays)
	}
	if err := m.Calendar.Validate(); err != nil {
		return err
	}
	return m.validateColleges(re)
}

// ChargeFor returns the charge line for fee f, transferred on asOf: the
// fee's remaining balance, charged to its user under the item type mapped
// for its type, in the term that holds asOf's date, due DueDays later,
// with the fee's bursar transaction id as the reference. With colleges
// configured, the fee's owning library picks the college: its business
// unit, its own item types and its calendar. It does not look
// at the fee's status: which fees to send is the charges job's decision.
//
// A fee that cannot be charged returns a *[RejectError] naming the fee and
// the reason: [ErrUnmapped] for a fee type with no item type, [ErrNoTerm]
// for a date outside every term, [ErrUnrouted] for a library no college
// lists, [ErrFee] for a fee without a user, a bursar transaction id or a
// positive balance.
func (m Mapping) ChargeFor(f fees.Fee, asOf time.Time) (Charge, error) {
	reject := func(cause error, format string, args ...any) error {
		return &RejectError{Fee: f.ID, Ref: f.TransactionID, Reason: fmt.Sprintf(format, args...), Err: cause}
	}
	switch {
	case f.UserID == "":
		return Charge{}, reject(ErrFee, "no user (EMPLID)")
	case f.TransactionID == "":
		return Charge{}, reject(ErrFee, "no bursar transaction id to send as REF1_DESCR")
	case !f.Balance.IsPositive():
		return Charge{}, reject(ErrFee, "balance %s: nothing to charge", f.Balance)
	}
	rt, err := m.routeOf(f.Owner)
	if err != nil {
		return Charge{}, reject(ErrUnrouted, "%v", err)
	}
	it, ok := m.itemType(rt, f.Type)
	if !ok {
		return Charge{}, reject(ErrUnmapped, "no PeopleSoft item type for fee type %s", f.Type)
	}
	term, err := rt.calendar.TermFor(asOf)
	if err != nil {
		return Charge{}, reject(ErrNoTerm, "%v", err)
	}
	desc := f.Type.Description()
	if f.Item.Title != "" {
		desc += ": " + f.Item.Title
	}
	return Charge{
		EmplID:       f.UserID,
		ItemType:     it,
		Amount:       f.Balance,
		Term:         term,
		DueDate:      m.dueDate(asOf),
		Ref:          f.TransactionID,
		Description:  desc,
		BusinessUnit: rt.businessUnit,
	}, nil
}

// CreditFor returns the credit line for c, sent on asOf: a negative amount
// that identifies the charge it lowers as PeopleSoft knows it, by the pair
// (REF1_DESCR, ITEM_TYPE): its reference is the charge's bursar
// transaction id (c.TransactionID) and its item type the one mapped for
// the reversed fee's type (c.Type), so that PeopleSoft, and the simulated
// ledger, apply it to that charge even when fees of other types share the
// transaction id (see [fees.ChargeKey]).
//
// A credit must therefore name its charge whole. Alma's CREDIT records
// that are linked to no charge are not sent: the item type mapped for
// CREDIT (300000000099 in the reference mapping) is never written by
// CreditFor, and the reconciliation reports such credits for staff.
//
// A credit that cannot be sent returns a *[RejectError]: [ErrFee] for an
// invalid credit, or one that names no charge (no transaction id, or a
// type that is empty or CREDIT), [ErrUnmapped] when the fee's type is not
// mapped, [ErrNoTerm] for a date outside every term, [ErrUnrouted] when
// colleges are configured and none lists the credit's owning library
// (c.Owner): a credit goes to the college of the fee it lowers.
func (m Mapping) CreditFor(c fees.Credit, asOf time.Time) (Charge, error) {
	reject := func(cause error, format string, args ...any) error {
		return &RejectError{Fee: c.Key, Ref: c.TransactionID, Reason: fmt.Sprintf(format, args...), Err: cause}
	}
	if err := c.Validate(); err != nil {
		return Charge{}, reject(ErrFee, "%v", err)
	}
	if c.TransactionID == "" {
		return Charge{}, reject(ErrFee, "the credit does not name the bursar transaction id of the charge it lowers")
	}
	if c.Type == "" || c.Type == fees.TypeCredit {
		return Charge{}, reject(ErrFee, "the credit does not name the fee type of the charge it lowers (it has %q)", c.Type)
	}
	rt, err := m.routeOf(c.Owner)
	if err != nil {
		return Charge{}, reject(ErrUnrouted, "%v", err)
	}
	it, ok := m.itemType(rt, c.Type)
	if !ok {
		return Charge{}, reject(ErrUnmapped, "no PeopleSoft item type for fee type %s", c.Type)
	}
	term, err := rt.calendar.TermFor(asOf)
	if err != nil {
		return Charge{}, reject(ErrNoTerm, "%v", err)
	}
	desc := "Credit"
	if c.Type != "" {
		desc += ": " + c.Type.Description()
	}
	return Charge{
		EmplID:       c.UserID,
		ItemType:     it,
		Amount:       c.Amount.Neg(),
		Term:         term,
		DueDate:      m.dueDate(asOf),
		Ref:          c.TransactionID,
		Description:  desc,
		BusinessUnit: rt.businessUnit,
	}, nil
}

// RefundFor returns the refund line for r, sent on asOf (R8): a negative
// amount, the money given back, linked to the charge refunded by its
// reference (REF1_DESCR, the charge's bursar transaction id
// r.TransactionID) and by its own item type, the one RefundItemTypes maps
// for the charge's fee type r.Type. PeopleSoft credits the student's
// account with it, and its refund process pays the credit out. With
// colleges, r.Owner routes it to its college's business unit and
// calendar, as CreditFor routes a credit.
//
// A refund that cannot be sent returns a *[RejectError]: [ErrFee] for an
// invalid refund, or one that names no user, no transaction id or no fee
// type, [ErrUnmapped] when the fee type has no refund item type,
// [ErrNoTerm] for a date outside every term.
func (m Mapping) RefundFor(r fees.Refund, asOf time.Time) (Charge, error) {
	reject := func(cause error, format string, args ...any) error {
		return &RejectError{Fee: r.Key, Ref: r.TransactionID, Reason: fmt.Sprintf(format, args...), Err: cause}
	}
	if err := r.Validate(); err != nil {
		return Charge{}, reject(ErrFee, "%v", err)
	}
	switch {
	case r.UserID == "":
		return Charge{}, reject(ErrFee, "no user (EMPLID)")
	case r.TransactionID == "" || r.Type == "":
		return Charge{}, reject(ErrFee, "the refund does not name its charge (transaction id %q, fee type %q)", r.TransactionID, r.Type)
	}
	it, ok := m.RefundItemTypes[r.Type]
	if !ok {
		return Charge{}, reject(ErrUnmapped, "no PeopleSoft refund item type for fee type %s", r.Type)
	}
	rt, err := m.routeOf(r.Owner)
	if err != nil {
		return Charge{}, reject(ErrUnrouted, "%v", err)
	}
	term, err := rt.calendar.TermFor(asOf)
	if err != nil {
		return Charge{}, reject(ErrNoTerm, "%v", err)
	}
	return Charge{
		EmplID:       r.UserID,
		ItemType:     it,
		Amount:       r.Amount.Neg(),
		Term:         term,
		DueDate:      m.dueDate(asOf),
		Ref:          r.TransactionID,
		Description:  "Refund: " + r.Type.Description(),
		BusinessUnit: rt.businessUnit,
	}, nil
}

// RefundTypeOf maps a refund item type back to the fee type whose charges
// it refunds; false when no fee type, or several, map to itemType.
func (m Mapping) RefundTypeOf(itemType string) (fees.Type, bool) {
	var f typeFinder
	f.see(m.RefundItemTypes, itemType, "")
	return f.found, f.n == 1
}

// FeeTypeOf maps a PeopleSoft item type back to the fee type whose
// charges are written with it, so that a payment line (REF1_DESCR,
// ITEM_TYPE) names its fee by charge key ([fees.ChargeKey]). It reports
// false when no fee type maps to itemType, or when several do (the
// mapping then cannot tell them apart). The CREDIT entry is not a fee's.
// The colleges' own item types count too: an item type that one college
// uses for a fee type and another for a different one cannot be told
// apart either.
func (m Mapping) FeeTypeOf(itemType string) (fees.Type, bool) {
	var f typeFinder
	f.see(m.ItemTypes, itemType, fees.TypeCredit)
	for _, c := range m.Colleges {
		f.see(c.ItemTypes, itemType, fees.TypeCredit)
	}
	return f.found, f.n == 1
}

// typeFinder looks for the one fee type that maps give an item type: n
// counts the distinct fee types seen (a fee type that several maps give
// the same item type counts once), found is the last. It runs for every
// payment line, so it allocates nothing.
type typeFinder struct {
	found fees.Type
	n     int
}

// see counts the fee types of types, but skip, whose item type is itemType.
func (f *typeFinder) see(types map[fees.Type]string, itemType string, skip fees.Type) {
	for t, it := range types {
		if it == itemType && t != skip && t != f.found {
			f.found = t
			f.n++
		}
	}
}

func (m Mapping) dueDate(asOf time.Time) time.Time {
	y, mo, d := asOf.Date()
	return time.Date(y, mo, d+m.DueDays, 0, 0, 0, 0, time.UTC)
}

// Calendar gives the PeopleSoft term code of a date. Dated Terms are
// looked up first, then the yearly Seasons. A date that falls in none is
// an error, never a guess.
type Calendar struct {
	// Terms are terms with fixed dates, such as a short winter session or
	// a term whose dates move from year to year.
	Terms []Term `toml:"terms"`
	// Seasons are terms that come back every year on the same days.
	Seasons []Season `toml:"seasons"`
	// CodeFormat spells a season's term code from the year and the
	// season's Suffix with the placeholders {C} (the century after 1800:
	// 2 for 2000–2099), {YYYY}, {YY} and {SUFFIX}; anything else is
	// written as is. Empty means PeopleSoft's "{C}{YY}{SUFFIX}" (Fall
	// 2026 with suffix "8" is "2268"); Banner's is "{YYYY}{SUFFIX}"
	// ("202630").
	CodeFormat string `toml:"code_format"`
}

// defaultCodeFormat is PeopleSoft's term code: century, year, suffix.
const defaultCodeFormat = "{C}{YY}{SUFFIX}"

// codeFormat is c.CodeFormat or the default.
func (c Calendar) codeFormat() string {
	if c.CodeFormat == "" {
		return defaultCodeFormat
	}
	return c.CodeFormat
}

// checkCodeFormat refuses a code format without {SUFFIX}, without a
// year, or with a placeholder it does not know.
func checkCodeFormat(f string) error {
	rest := f
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("peoplesoft: calendar.code_format: %q: a { without its }", f)
		}
		switch ph := rest[i : i+j+1]; ph {
		case "{C}", "{YYYY}", "{YY}", "{SUFFIX}":
		default:
			return fmt.Errorf("peoplesoft: calendar.code_format: %q: unknown placeholder %s (want {C}, {YYYY}, {YY} or {SUFFIX})", f, ph)
		}
		rest = rest[i+j+1:]
	}
	if !strings.Contains(f, "{SUFFIX}") || !strings.Contains(f, "{YY") {
		return fmt.Errorf("peoplesoft: calendar.code_format: %q: needs {SUFFIX} and a year ({YYYY} or {YY})", f)
	}
	return nil
}

// Term is a dated term: Start and End are its first and last days
// (inclusive; only their dates count).
type Term struct {
	Code  string    `toml:"code"`
	Start time.Time `toml:"start"`
	End   time.Time `toml:"end"`
}

// Season is a term that comes back every year from Start to End
// (inclusive), both written "MM-DD". Its code in a year is spelled by the
// calendar's CodeFormat; by default a century digit (1 for 1900–1999, 2
// for 2000–2099), the year's last two digits, and Suffix: with Suffix
// "8", Fall 2026 is "2268".
type Season struct {
	Name   string `toml:"name"`
	Start  string `toml:"start"`
	End    string `toml:"end"`
	Suffix string `toml:"suffix"`
}

// DefaultCalendar returns the default calendar: Spring (January 1 to May
// 31, suffix 2), Summer (June 1 to August 14, suffix 5) and Fall (August
// 15 to December 31, suffix 8). So 2027-03-10 is in term 2272, 2026-07-01
// in 2265 and 2026-09-01 in 2268.
func DefaultCalendar() Calendar {
	return Calendar{Seasons: []Season{
		{Name: "Spring", Start: "01-01", End: "05-31", Suffix: "2"},
		{Name: "Summer", Start: "06-01", End: "08-14", Suffix: "5"},
		{Name: "Fall", Start: "08-15", End: "12-31", Suffix: "8"},
	}}
}

// civil returns a date as yyyymmdd.
func civil(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func monthDay(s string) (int, error) {
	// TermFor reads the seasons for every charge: a well-formed date is
	// read without time.Parse, which takes the rest (and refuses it).
	if len(s) == 5 && s[2] == '-' && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[3]) && isDigit(s[4]) {
		m := int(s[0]-'0')*10 + int(s[1]-'0')
		d := int(s[3]-'0')*10 + int(s[4]-'0')
		if m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth[m] {
			return m*100 + d, nil
		}
	}
	t, err := time.Parse("01-02", s)
	if err != nil {
		return 0, fmt.Errorf("%q: want MM-DD", s)
	}
	return int(t.Month())*100 + t.Day(), nil
}

// Validate checks the terms and seasons: codes present, start not after
// end, and no two overlapping.
func (c Calendar) Validate() error {
	if len(c.Terms) == 0 && len(c.Seasons) == 0 {
		return errors.New("peoplesoft: calendar: no terms and no seasons")
	}
	if err := checkCodeFormat(c.codeFormat()); err != nil {
		return err
	}
	for i, t := range c.Terms {
		switch {
		case t.Code == "":
			return fmt.Errorf("peoplesoft: calendar.terms[%d]: no code", i)
		case civil(t.Start) > civil(t.End):
			return fmt.Errorf("peoplesoft: calendar.terms[%d] (%s): starts after it ends", i, t.Code)
		}
		for j := range i {
			if civil(t.Start) <= civil(c.Terms[j].End) && civil(c.Terms[j].Start) <= civil(t.End) {
				return fmt.Errorf("peoplesoft: calendar.terms[%d] (%s): overlaps %s", i, t.Code, c.Terms[j].Code)
			}
		}
	}
	type span struct{ from, to int }
	spans := make([]span, len(c.Seasons))
	for i, s := range c.Seasons {
		from, err := monthDay(s.Start)
		if err != nil {
			return fmt.Errorf("peoplesoft: calendar.seasons[%d].start: %w", i, err)
		}
		to, err := monthDay(s.End)
		if err != nil {
			return fmt.Errorf("peoplesoft: calendar.seasons[%d].end: %w", i, err)
		}
		if from > to {
			return fmt.Errorf("peoplesoft: calendar.seasons[%d] (%s): starts after it ends (a season may not span the new year)", i, s.Name)
		}
		if s.Suffix == "" {
			return fmt.Errorf("peoplesoft: calendar.seasons[%d] (%s): no suffix", i, s.Name)
		}
		for j := range i {
			if from <= spans[j].to && spans[j].from <= to {
				return fmt.Errorf("peoplesoft: calendar.seasons[%d] (%s): overlaps %s", i, s.Name, c.Seasons[j].Name)
			}
		}
		spans[i] = span{from, to}
	}
	return nil
}

// TermFor returns the code of the term that holds t's date (in t's own
// location), or an error wrapping [ErrNoTerm].
func (c Calendar) TermFor(t time.Time) (string, error) {
	day := civil(t)
	if i := slices.IndexFunc(c.Terms, func(tm Term) bool { return civil(tm.Start) <= day && day <= civil(tm.End) }); i >= 0 {
		return c.Terms[i].Code, nil
	}
	md := day % 10000
	for _, s := range c.Seasons {
		from, err1 := monthDay(s.Start)
		to, err2 := monthDay(s.End)
		if err1 != nil || err2 != nil {
			continue
		}
		if from <= md && md <= to {
			y := t.Year()
			if y < 1900 || y > 2799 {
				break
			}
			return termCode(c.codeFormat(), y, s.Suffix), nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoTerm, t.Format("2006-01-02"))
}
