package peoplesoft_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

func mustDay(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDefaultCalendar(t *testing.T) {
	c := peoplesoft.DefaultCalendar()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"2026-08-14": "2265", "2026-08-15": "2268", "2026-12-31": "2268", "2027-01-01": "2272",
		"2027-05-31": "2272", "2027-06-01": "2275", "1999-09-01": "1998", "2000-02-29": "2002",
	}
	for date, want := range tests {
		got, err := c.TermFor(mustDay(t, date))
		if err != nil || got != want {
			t.Errorf("TermFor(%s) = %q, %v; want %q", date, got, err, want)
		}
	}
}

func TestCalendarNoTerm(t *testing.T) {
	c := peoplesoft.Calendar{Terms: []peoplesoft.Term{{Code: "2268", Start: mustDay(t, "2026-08-24"), End: mustDay(t, "2026-12-18")}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := c.TermFor(mustDay(t, "2026-12-24"))
	if !errors.Is(err, peoplesoft.ErrNoTerm) || !strings.Contains(err.Error(), "2026-12-24") {
		t.Errorf("TermFor outside every term = %v", err)
	}
	// The term holds its whole last day, whatever the clock says.
	if got, err := c.TermFor(time.Date(2026, 12, 18, 23, 59, 0, 0, time.UTC)); got != "2268" || err != nil {
		t.Errorf("TermFor(last day) = %q, %v", got, err)
	}
}

func TestCalendarValidate(t *testing.T) {
	tests := []struct {
		name string
		c    peoplesoft.Calendar
		want string
	}{
		{"empty", peoplesoft.Calendar{}, "no terms and no seasons"},
		{"overlapping seasons", peoplesoft.Calendar{Seasons: []peoplesoft.Season{{Name: "A", Start: "01-01", End: "06-30", Suffix: "2"}, {Name: "B", Start: "06-30", End: "12-31", Suffix: "8"}}}, "overlaps A"},
		{"season across new year", peoplesoft.Calendar{Seasons: []peoplesoft.Season{{Name: "Winter", Start: "12-15", End: "01-10", Suffix: "1"}}}, "starts after it ends"},
		{"bad month-day", peoplesoft.Calendar{Seasons: []peoplesoft.Season{{Name: "X", Start: "13-01", End: "12-31", Suffix: "1"}}}, "want MM-DD"},
		{"no suffix", peoplesoft.Calendar{Seasons: []peoplesoft.Season{{Name: "X", Start: "01-01", End: "12-31"}}}, "no suffix"},
		{"term without code", peoplesoft.Calendar{Terms: []peoplesoft.Term{{Start: mustDay(t, "2026-01-01"), End: mustDay(t, "2026-02-01")}}}, "no code"},
		{"overlapping terms", peoplesoft.Calendar{Terms: []peoplesoft.Term{
			{Code: "A", Start: mustDay(t, "2026-01-01"), End: mustDay(t, "2026-02-01")},
			{Code: "B", Start: mustDay(t, "2026-02-01"), End: mustDay(t, "2026-03-01")}}}, "overlaps A"},
		{"code format without suffix", peoplesoft.Calendar{CodeFormat: "{YYYY}", Seasons: peoplesoft.DefaultCalendar().Seasons}, "needs {SUFFIX}"},
		{"code format without year", peoplesoft.Calendar{CodeFormat: "{SUFFIX}", Seasons: peoplesoft.DefaultCalendar().Seasons}, "needs {SUFFIX} and a year"},
		{"unknown placeholder", peoplesoft.Calendar{CodeFormat: "{YYYY}{TERM}", Seasons: peoplesoft.DefaultCalendar().Seasons}, "unknown placeholder {TERM}"},
		{"open brace", peoplesoft.Calendar{CodeFormat: "{YYYY}{SUFFIX", Seasons: peoplesoft.DefaultCalendar().Seasons}, "without its }"},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func newFee(t testing.TB, typ fees.Type, amount string) fees.Fee {
	t.Helper()
	f, err := fees.NewFee("FEE-1", typ, "0012345", usd(amount), asOf)
	if err != nil {
		t.Fatal(err)
	}
	f.TransactionID = "TXN-1"
	f.Item.Title = "Moby Dick"
	return *f
}

func TestChargeFor(t *testing.T) {
	m := peoplesoft.DefaultMapping()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := m.ChargeFor(newFee(t, fees.TypeLostItemReplacementFee, "45.50"), asOf)
	if err != nil {
		t.Fatal(err)
	}
	want := peoplesoft.Charge{EmplID: "0012345", ItemType: "300000000002", Amount: usd("45.50"), Term: "2268",
		DueDate: day(2026, 12, 28), Ref: "TXN-1", Description: "Lost item replacement fee: Moby Dick"}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestChargeForRejects(t *testing.T) {
	m := peoplesoft.DefaultMapping()
	noUser := newFee(t, fees.TypeOverdueFine, "1.00")
	noUser.UserID = ""
	noRef := newFee(t, fees.TypeOverdueFine, "1.00")
	noRef.TransactionID = ""
	paid := newFee(t, fees.TypeOverdueFine, "1.00")
	if err := paid.Pay(fees.Payment{Amount: usd("1.00"), Channel: fees.ChannelLibrary, Method: fees.MethodCash, Date: asOf}); err != nil {
		t.Fatal(err)
	}
	fall := peoplesoft.Mapping{ItemTypes: m.ItemTypes, Calendar: peoplesoft.Calendar{Terms: []peoplesoft.Term{{Code: "2268", Start: day(2026, 8, 24), End: day(2026, 11, 20)}}}}
	tests := []struct {
		name   string
		m      peoplesoft.Mapping
		f      fees.Fee
		cause  error
		reason string
	}{
		{"unmapped type", m, newFee(t, fees.TypeInterlibraryLoanFee, "5.00"), peoplesoft.ErrUnmapped, "no PeopleSoft item type for fee type INTERLIBRARYLOANFEE"},
		{"no term", fall, newFee(t, fees.TypeOverdueFine, "5.00"), peoplesoft.ErrNoTerm, "date outside every term: 2026-11-28"},
		{"no user", m, noUser, peoplesoft.ErrFee, "no user"},
		{"no transaction id", m, noRef, peoplesoft.ErrFee, "no bursar transaction id"},
		{"nothing left", m, paid, peoplesoft.ErrFee, "nothing to charge"},
	}
	for _, tt := range tests {
		_, err := tt.m.ChargeFor(tt.f, asOf)
		var re *peoplesoft.RejectError
		if !errors.As(err, &re) || !errors.Is(err, tt.cause) || !strings.Contains(re.Reason, tt.reason) || re.Fee != "FEE-1" {
			t.Errorf("%s: ChargeFor = %v; want a RejectError for FEE-1 wrapping %v with reason %q", tt.name, err, tt.cause, tt.reason)
		}
	}
}

func TestCreditFor(t *testing.T) {
	c := fees.Credit{Key: "CR-9", TransactionID: "TXN-1", FeeID: "FEE-1", UserID: "0012345",
		Type: fees.TypeLostItemReplacementFee, Amount: usd("45.50"), Reason: "Lost item was found", Date: asOf}
	got, err := peoplesoft.DefaultMapping().CreditFor(c, asOf)
	if err != nil {
		t.Fatal(err)
	}
	want := peoplesoft.Charge{EmplID: "0012345", ItemType: "300000000002", Amount: usd("-45.50"), Term: "2268",
		DueDate: day(2026, 12, 28), Ref: "TXN-1", Description: "Credit: Lost item replacement fee"}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// The credit names its charge by (REF1_DESCR, ITEM_TYPE), whether or
	// not CREDIT is mapped.
	m := peoplesoft.DefaultMapping()
	delete(m.ItemTypes, fees.TypeCredit)
	if got, err := m.CreditFor(c, asOf); err != nil || got.ItemType != "300000000002" {
		t.Errorf("CreditFor without CREDIT mapped = %v, %v; want item type 300000000002", got.ItemType, err)
	}
	c2 := c
	c2.Type = fees.TypePhotocopyFee
	if _, err := m.CreditFor(c2, asOf); !errors.Is(err, peoplesoft.ErrUnmapped) {
		t.Errorf("CreditFor of an unmapped type = %v, want ErrUnmapped", err)
	}
	// A credit that does not name its charge's type is not sent.
	for _, typ := range []fees.Type{"", fees.TypeCredit} {
		c5 := c
		c5.Type = typ
		if _, err := peoplesoft.DefaultMapping().CreditFor(c5, asOf); !errors.Is(err, peoplesoft.ErrFee) {
			t.Errorf("CreditFor of type %q = %v, want ErrFee", typ, err)
		}
	}
	c3 := c
	c3.TransactionID = ""
	if _, err := m.CreditFor(c3, asOf); !errors.Is(err, peoplesoft.ErrFee) || !strings.Contains(err.Error(), "CR-9") {
		t.Errorf("CreditFor without a transaction id = %v, want ErrFee naming CR-9", err)
	}
	c4 := c
	c4.Amount = usd("-1.00")
	if _, err := m.CreditFor(c4, asOf); !errors.Is(err, peoplesoft.ErrFee) {
		t.Errorf("CreditFor of a negative credit = %v, want ErrFee", err)
	}
}

func TestMappingValidate(t *testing.T) {
	m := peoplesoft.DefaultMapping()
	m.ItemTypes[fees.TypeOther] = "30000000006"
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "item_types.OTHER") {
		t.Errorf("Validate = %v", err)
	}
	m = peoplesoft.DefaultMapping()
	m.DueDays = -1
	if err := m.Validate(); err == nil {
		t.Error("Validate accepted negative due_days")
	}
}

// TestCalendarCodeFormat spells season codes the way other student
// systems do: Banner's "202630", Colleague's "26/FA".
func TestCalendarCodeFormat(t *testing.T) {
	fall := mustDay(t, "2026-09-14")
	for _, tc := range []struct{ format, suffix, want string }{
		{"", "8", "2268"},
		{"{YYYY}{SUFFIX}", "30", "202630"},
		{"{YY}/{SUFFIX}", "FA", "26/FA"},
	} {
		c := peoplesoft.Calendar{CodeFormat: tc.format, Seasons: []peoplesoft.Season{{Name: "Fall", Start: "08-15", End: "12-31", Suffix: tc.suffix}}}
		if err := c.Validate(); err != nil {
			t.Fatalf("%q: %v", tc.format, err)
		}
		got, err := c.TermFor(fall)
		if err != nil || got != tc.want {
			t.Errorf("code format %q: TermFor = %q, %v; want %q", tc.format, got, err, tc.want)
		}
	}
}

// TestMappingItemTypePattern lets a mapping take codes that are not
// PeopleSoft's 12 digits, and still refuses those its pattern does not.
func TestMappingItemTypePattern(t *testing.T) {
	m := peoplesoft.DefaultMapping()
	m.ItemTypePattern = "[A-Z0-9]{4}"
	for typ := range m.ItemTypes {
		m.ItemTypes[typ] = "LB" + string(typ[:2])
	}
	for typ := range m.RefundItemTypes {
		m.RefundItemTypes[typ] = "RF" + string(typ[:2])
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	m.ItemTypes[fees.TypeOther] = "lib1"
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), `item_types.OTHER: "lib1": want a code matching "[A-Z0-9]{4}"`) {
		t.Errorf("Validate = %v", err)
	}
	m.ItemTypes[fees.TypeOther] = "LIBOT1" // longer: the pattern matches whole codes
	if err := m.Validate(); err == nil {
		t.Error("Validate accepted a code longer than the pattern")
	}
	m.ItemTypePattern = "[A-Z"
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "item_type_pattern") {
		t.Errorf("Validate with a bad pattern = %v", err)
	}
}

func TestFeeTypeOf(t *testing.T) {
	m := peoplesoft.DefaultMapping()
	if typ, ok := m.FeeTypeOf("300000000003"); !ok || typ != fees.TypeLostItemProcessFee {
		t.Errorf("FeeTypeOf(300000000003) = %q, %v", typ, ok)
	}
	for _, it := range []string{"300000000099", "999999999999", ""} {
		if typ, ok := m.FeeTypeOf(it); ok {
			t.Errorf("FeeTypeOf(%q) = %q, want none", it, typ)
		}
	}
	m.ItemTypes[fees.TypeRecalledOverdueFine] = "300000000001" // two fee types, one item type
	if typ, ok := m.FeeTypeOf("300000000001"); ok {
		t.Errorf("FeeTypeOf of a shared item type = %q, want none", typ)
	}
}

// TestTermForSeasonAllocs: the term of a season is not formatted again
// for every charge of the same term (it counts allocations, never time).
func TestTermForSeasonAllocs(t *testing.T) {
	c := peoplesoft.DefaultCalendar()
	day := mustDay(t, "2026-09-14")
	var got string
	allocs := testing.AllocsPerRun(100, func() { got, _ = c.TermFor(day) })
	if got != "2268" || allocs != 0 {
		t.Errorf("TermFor = %q with %v allocations, want 2268 with none", got, allocs)
	}
}

func TestRefundFor(t *testing.T) {
	asOf := time.Date(2026, 10, 9, 18, 0, 0, 0, time.UTC)
	m := peoplesoft.DefaultMapping()
	good := fees.Refund{Key: "K", TransactionID: "TX-9", Type: fees.TypeLostItemProcessFee,
		UserID: "0012345", Amount: fees.MustParseMoney("5.00", fees.USD)}
	line, err := m.RefundFor(good, asOf)
	if err != nil || line.ItemType != peoplesoft.ItemTypeLostItemProcessFeeRefund || line.Amount.String() != "-5.00 USD" || line.Ref != "TX-9" {
		t.Fatalf("RefundFor = %+v, %v", line, err)
	}
	for name, c := range map[string]struct {
		edit func(*fees.Refund)
		want error
	}{
		"no user":        {func(r *fees.Refund) { r.UserID = "" }, peoplesoft.ErrFee},
		"no transaction": {func(r *fees.Refund) { r.TransactionID = "" }, peoplesoft.ErrFee},
		"no type":        {func(r *fees.Refund) { r.Type = "" }, peoplesoft.ErrFee},
		"zero":           {func(r *fees.Refund) { r.Amount = fees.Zero(fees.USD) }, peoplesoft.ErrFee},
		"unmapped":       {func(r *fees.Refund) { r.Type = fees.TypeOverdueFine }, peoplesoft.ErrUnmapped},
	} {
		r := good
		c.edit(&r)
		if _, err := m.RefundFor(r, asOf); !errors.Is(err, c.want) || !strings.Contains(err.Error(), "TX-9") && r.TransactionID != "" {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	bad := peoplesoft.DefaultMapping()
	bad.RefundItemTypes[fees.TypeLostItemProcessFee] = peoplesoft.ItemTypeOverdueFine
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "refund_item_types.LOSTITEMPROCESSFEE") {
		t.Errorf("a refund item type that is also a charge's: %v", err)
	}
	bad.RefundItemTypes[fees.TypeLostItemProcessFee] = "12"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "want 12 digits") {
		t.Errorf("a short refund item type: %v", err)
	}
}
