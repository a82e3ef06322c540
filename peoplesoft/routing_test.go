package peoplesoft_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// losRios is a district of four colleges: CRC has its own item type for
// overdue fines, FLC its own term calendar.
func losRios(t testing.TB) peoplesoft.Mapping {
	t.Helper()
	m := peoplesoft.DefaultMapping()
	m.Colleges = []peoplesoft.College{
		{Name: "ARC", BusinessUnit: "ARC01", Libraries: []string{"ARC", "ARCNAT"}},
		{Name: "CRC", BusinessUnit: "CRC01", Libraries: []string{"CRC"},
			ItemTypes: map[fees.Type]string{fees.TypeOverdueFine: "410000000001"}},
		{Name: "FLC", BusinessUnit: "FLC01", Libraries: []string{"FLC"},
			Calendar: &peoplesoft.Calendar{Terms: []peoplesoft.Term{{Code: "2269", Start: mustDay(t, "2026-08-01"), End: mustDay(t, "2026-12-31")}}}},
		{Name: "SCC", BusinessUnit: "SCC01", Libraries: []string{"SCC"}},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func routedFee(t testing.TB, typ fees.Type, owner string) fees.Fee {
	t.Helper()
	f, err := fees.NewFee("F-"+owner, typ, "1234567", usd("12.50"), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	f.TransactionID, f.Owner = "TX-"+owner, owner
	return *f
}

func TestChargeForRoutesByLibrary(t *testing.T) {
	m := losRios(t)
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	tests := []struct {
		owner, unit, itemType, term string
		typ                         fees.Type
	}{
		{"ARC", "ARC01", peoplesoft.ItemTypeOverdueFine, "2268", fees.TypeOverdueFine},
		{"ARCNAT", "ARC01", peoplesoft.ItemTypeLostItemReplacementFee, "2268", fees.TypeLostItemReplacementFee},
		{"CRC", "CRC01", "410000000001", "2268", fees.TypeOverdueFine},
		{"CRC", "CRC01", peoplesoft.ItemTypeDamagedItemFine, "2268", fees.TypeDamagedItemFine},
		{"FLC", "FLC01", peoplesoft.ItemTypeOverdueFine, "2269", fees.TypeOverdueFine},
		{"SCC", "SCC01", peoplesoft.ItemTypeOverdueFine, "2268", fees.TypeOverdueFine},
	}
	for _, tt := range tests {
		ch, err := m.ChargeFor(routedFee(t, tt.typ, tt.owner), asOf)
		if err != nil {
			t.Errorf("%s %s: %v", tt.owner, tt.typ, err)
			continue
		}
		if ch.BusinessUnit != tt.unit || ch.ItemType != tt.itemType || ch.Term != tt.term {
			t.Errorf("%s %s: business unit %q, item type %s, term %s; want %q, %s, %s",
				tt.owner, tt.typ, ch.BusinessUnit, ch.ItemType, ch.Term, tt.unit, tt.itemType, tt.term)
		}
	}
}

func TestUnroutedLibraryIsRefused(t *testing.T) {
	m := losRios(t)
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	for _, owner := range []string{"DISTRICT", ""} {
		_, err := m.ChargeFor(routedFee(t, fees.TypeOverdueFine, owner), asOf)
		var re *peoplesoft.RejectError
		if !errors.Is(err, peoplesoft.ErrUnrouted) || !errors.As(err, &re) || re.Fee != "F-"+owner {
			t.Errorf("owner %q: ChargeFor = %v; want a RejectError for the fee wrapping ErrUnrouted", owner, err)
		}
		if owner != "" && !strings.Contains(err.Error(), `"DISTRICT"`) {
			t.Errorf("the error does not name the library: %v", err)
		}
		_, err = m.CreditFor(fees.Credit{Key: "C1", TransactionID: "TX", UserID: "1234567",
			Type: fees.TypeOverdueFine, Amount: usd("1.00"), Owner: owner}, asOf)
		if !errors.Is(err, peoplesoft.ErrUnrouted) {
			t.Errorf("owner %q: CreditFor = %v; want ErrUnrouted", owner, err)
		}
	}
}

func TestCreditGoesToTheFeesCollege(t *testing.T) {
	m := losRios(t)
	asOf := time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	cr, err := m.CreditFor(fees.Credit{Key: "C1", TransactionID: "TX-CRC", UserID: "1234567",
		Type: fees.TypeOverdueFine, Amount: usd("2.00"), Owner: "CRC"}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if cr.BusinessUnit != "CRC01" || cr.ItemType != "410000000001" || !cr.Amount.Equal(usd("-2.00")) {
		t.Errorf("credit: %+v; want CRC01, CRC's item type 410000000001, -2.00", cr)
	}
}

func TestNoCollegesWritesNoBusinessUnit(t *testing.T) {
	ch, err := peoplesoft.DefaultMapping().ChargeFor(routedFee(t, fees.TypeOverdueFine, "ANY"), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	if err != nil || ch.BusinessUnit != "" {
		t.Errorf("ChargeFor without colleges = %+v, %v; want no business unit", ch, err)
	}
}

func TestFeeTypeOfCollegeItemTypes(t *testing.T) {
	m := losRios(t)
	if got, ok := m.FeeTypeOf("410000000001"); !ok || got != fees.TypeOverdueFine {
		t.Errorf("FeeTypeOf(CRC's own) = %s, %v", got, ok)
	}
	if got, ok := m.FeeTypeOf(peoplesoft.ItemTypeOverdueFine); !ok || got != fees.TypeOverdueFine {
		t.Errorf("FeeTypeOf(district's) = %s, %v", got, ok)
	}
	// A college that uses another fee type's code makes it ambiguous.
	m.Colleges[3].ItemTypes = map[fees.Type]string{fees.TypeOther: "410000000001"}
	if got, ok := m.FeeTypeOf("410000000001"); ok {
		t.Errorf("FeeTypeOf(shared by two fee types) = %s, true; want false", got)
	}
}

func TestValidateColleges(t *testing.T) {
	tests := []struct {
		name   string
		change func(cs []peoplesoft.College)
		want   string
	}{
		{"library twice", func(cs []peoplesoft.College) { cs[1].Libraries = append(cs[1].Libraries, "ARC") },
			`college CRC: libraries: library "ARC" is already mapped to college ARC`},
		{"empty business unit", func(cs []peoplesoft.College) { cs[0].BusinessUnit = "" }, "college ARC: business_unit: empty"},
		{"long business unit", func(cs []peoplesoft.College) { cs[0].BusinessUnit = "ARC001" }, "want 1 to 5 letters or digits"},
		{"no name", func(cs []peoplesoft.College) { cs[2].Name = "" }, "colleges[2]: name: empty"},
		{"name twice", func(cs []peoplesoft.College) { cs[3].Name = "ARC" }, "college ARC: name: named twice"},
		{"no libraries", func(cs []peoplesoft.College) { cs[3].Libraries = nil }, "college SCC: libraries: empty"},
		{"empty library", func(cs []peoplesoft.College) { cs[3].Libraries = []string{""} }, "college SCC: libraries: an empty library code"},
		{"bad item type", func(cs []peoplesoft.College) { cs[1].ItemTypes[fees.TypeOverdueFine] = "41" }, "college CRC: item_types.OVERDUEFINE"},
		{"bad calendar", func(cs []peoplesoft.College) { cs[2].Calendar = &peoplesoft.Calendar{} }, "college FLC: calendar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := losRios(t)
			tt.change(m.Colleges)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v; want %q", err, tt.want)
			}
		})
	}
}
