package peoplesoft

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/feebridge/feebridge/fees"
)

// College is one college of a district that runs one PeopleSoft for
// several colleges: the Alma libraries it owns, the SF business unit its
// charges are posted to, and what it does differently from the district's
// mapping. A fee goes to the college whose Libraries hold the fee's owning
// library (Alma's owneredEntity/libraryCode), and a credit to the college
// of the fee it lowers.
type College struct {
	// Name is how staff call the college ("ARC"); messages name it.
	Name string `toml:"name"`
	// BusinessUnit is the college's SF business unit, 1 to 5
	// characters, written in the charge file's BUSINESS_UNIT field.
	BusinessUnit string `toml:"business_unit"`
	// Libraries are the codes of the Alma libraries the college owns.
	Libraries []string `toml:"libraries"`
	// ItemTypes overrides the district's item type of a fee type for this
	// college's charges; a fee type left out keeps the district's.
	ItemTypes map[fees.Type]string `toml:"item_types"`
	// Calendar, when not nil, is the college's own term calendar; nil
	// uses the district's.
	Calendar *Calendar `toml:"calendar"`
}

// ErrUnrouted is the cause of a [RejectError] for a fee or a credit whose
// owning library belongs to none of the configured colleges. The record is
// held, never sent to another college's business unit, until the
// configuration maps the library and the record is re-driven.
var ErrUnrouted = errors.New("library not mapped to a college")

// maxBusinessUnit is the width of PeopleSoft's BUSINESS_UNIT.
const maxBusinessUnit = 5

// CollegeOf returns the college that owns library, or false when no
// college lists it (or none is configured).
func (m Mapping) CollegeOf(library string) (College, bool) {
	for _, c := range m.Colleges {
		if slices.Contains(c.Libraries, library) {
			return c, true
		}
	}
	return College{}, false
}

// route is what a charge of a library is written with: its item types,
// calendar and business unit.
type route struct {
	itemTypes    map[fees.Type]string // the college's overrides, or nil
	calendar     Calendar
	businessUnit string
}

// routeOf returns the route of a record owned by library; with no
// colleges configured, the district's mapping and no business unit. A
// library no college lists is an error that says so, for the reason of a
// [RejectError] wrapping [ErrUnrouted].
func (m *Mapping) routeOf(library string) (route, error) {
	if len(m.Colleges) == 0 {
		return route{calendar: m.Calendar}, nil
	}
	c, ok := m.CollegeOf(library)
	if !ok {
		if library == "" {
			return route{}, errors.New("no owning library, so no college to send it to; held until the export names one")
		}
		return route{}, fmt.Errorf("library %q is mapped to no college; held until the configuration maps it", library)
	}
	r := route{itemTypes: c.ItemTypes, calendar: m.Calendar, businessUnit: c.BusinessUnit}
	if c.Calendar != nil {
		r.calendar = *c.Calendar
	}
	return r, nil
}

// itemType is the item type of fee type t on route r.
func (m *Mapping) itemType(r route, t fees.Type) (string, bool) {
	if it, ok := r.itemTypes[t]; ok {
		return it, true
	}
	it, ok := m.ItemTypes[t]
	return it, ok
}

// validateColleges checks the colleges: each named once, with a business
// unit of 1 to 5 characters, at least one library, no library in two
// colleges, item types that itemType (the mapping's pattern) matches and
// a sound calendar.
func (m Mapping) validateColleges(itemType *regexp.Regexp) error {
	owner := make(map[string]string)
	names := make(map[string]bool)
	for i, c := range m.Colleges {
		where := fmt.Sprintf("peoplesoft: colleges[%d]", i)
		if c.Name != "" {
			where = fmt.Sprintf("peoplesoft: college %s", c.Name)
		}
		switch {
		case c.Name == "":
			return fmt.Errorf("%s: name: empty", where)
		case names[c.Name]:
			return fmt.Errorf("%s: name: named twice", where)
		case c.BusinessUnit == "":
			return fmt.Errorf("%s: business_unit: empty", where)
		case len(c.BusinessUnit) > maxBusinessUnit || !isKeyText(c.BusinessUnit):
			return fmt.Errorf("%s: business_unit: %q: want 1 to %d letters or digits", where, c.BusinessUnit, maxBusinessUnit)
		case len(c.Libraries) == 0:
			return fmt.Errorf("%s: libraries: empty: the college would receive no fee", where)
		}
		names[c.Name] = true
		for _, lib := range c.Libraries {
			if lib == "" {
				return fmt.Errorf("%s: libraries: an empty library code", where)
			}
			if other, ok := owner[lib]; ok {
				return fmt.Errorf("%s: libraries: library %q is already mapped to college %s", where, lib, other)
			}
			owner[lib] = c.Name
		}
		for t, it := range c.ItemTypes {
			if !itemType.MatchString(it) {
				return fmt.Errorf("%s: item_types.%s: %q: %s", where, t, it, m.ItemTypeWant())
			}
		}
		if c.Calendar != nil {
			if err := c.Calendar.Validate(); err != nil {
				return fmt.Errorf("%s: calendar: %w", where, err)
			}
		}
	}
	return nil
}

// isKeyText reports whether s holds only ASCII letters and digits, as
// PeopleSoft's keys do.
func isKeyText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}
