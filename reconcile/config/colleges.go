package config

import (
	"fmt"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// College is one [[colleges]] entry: a college of a district whose
// colleges share one PeopleSoft. Each fee goes to the college that owns
// its library (the owneredEntity/libraryCode of Alma's export), and is
// written with the college's business unit, its own item types where they
// differ, and its own term calendar when it has one. A fee of a library
// that no college lists is held, never sent to a default, until the
// configuration maps the library and the fee is re-driven.
type College struct {
	// Name is how staff call the college ("ARC"); the report shows it.
	Name string `toml:"name"`
	// BusinessUnit is the college's SF business unit in PeopleSoft, 1 to
	// 5 letters or digits ("ARC01").
	BusinessUnit string `toml:"business_unit"`
	// Libraries are the codes of the Alma libraries the college owns; a
	// library belongs to one college only.
	Libraries []string `toml:"libraries"`
	// ItemTypes overrides item_types for this college's charges; fee
	// types left out keep the district's item type.
	ItemTypes map[string]string `toml:"item_types"`
	// Terms and Seasons, when either is set, are the college's own term
	// calendar, as the top-level terms and seasons; else the district's.
	Terms   []Term   `toml:"terms"`
	Seasons []Season `toml:"seasons"`
}

// colleges is the configured colleges as the mapping routes them.
func (c *Config) colleges() []peoplesoft.College {
	if len(c.Colleges) == 0 {
		return nil
	}
	out := make([]peoplesoft.College, 0, len(c.Colleges))
	for _, col := range c.Colleges {
		pc := peoplesoft.College{Name: col.Name, BusinessUnit: col.BusinessUnit, Libraries: col.Libraries}
		if len(col.ItemTypes) > 0 {
			pc.ItemTypes = make(map[fees.Type]string, len(col.ItemTypes))
			for typ, code := range col.ItemTypes {
				pc.ItemTypes[fees.Type(typ)] = code
			}
		}
		if len(col.Terms) > 0 || len(col.Seasons) > 0 {
			cal := c.calendarOf(col.Terms, col.Seasons)
			pc.Calendar = &cal
		}
		out = append(out, pc)
	}
	return out
}

// checkColleges checks each college (and that separate files have
// colleges to be separated by): a name given once, a business unit,
// libraries that no other college lists, item types of 12 digits and a
// sound calendar. Each mistake names the college's key in the file.
func (c *Config) checkColleges() error {
	if c.PeopleSoft.SeparateFiles && len(c.Colleges) == 0 {
		return c.errorf("peoplesoft.separate_files", "a file per college needs [[colleges]]; none is configured")
	}
	owner := make(map[string]string)
	named := make(map[string]string)
	for i, col := range c.Colleges {
		key := fmt.Sprintf("colleges[%d]", i)
		if err := c.checkCollege(key, col); err != nil {
			return err
		}
		if other, ok := named[col.Name]; ok {
			return c.errorf(key+".name", "college %s is already configured (%s)", col.Name, other)
		}
		named[col.Name] = key
		for _, lib := range col.Libraries {
			if lib == "" {
				return c.errorf(key+".libraries", "an empty library code")
			}
			if other, ok := owner[lib]; ok {
				return c.errorf(key+".libraries", "library %q is already mapped to college %s: a library belongs to one college", lib, other)
			}
			owner[lib] = col.Name
		}
	}
	return nil
}

// checkCollege checks one college on its own.
func (c *Config) checkCollege(key string, col College) error {
	switch {
	case col.Name == "":
		return c.errorf(key+".name", "missing: how staff call the college")
	case col.BusinessUnit == "":
		return c.errorf(key+".business_unit", "missing: the college's SF business unit in PeopleSoft")
	case !businessUnitRE.MatchString(col.BusinessUnit):
		return c.errorf(key+".business_unit", "%q is not 1 to 5 letters or digits", col.BusinessUnit)
	case len(col.Libraries) == 0:
		return c.errorf(key+".libraries", "missing: the codes of the Alma libraries college %s owns", col.Name)
	}
	mp := c.Mapping()
	re, err := mp.ItemTypeRegexp()
	if err != nil {
		return nil // checkItemTypes names it
	}
	for typ, code := range col.ItemTypes {
		if !re.MatchString(code) {
			return c.itemTypeError(key+".item_types."+typ, code)
		}
	}
	if err := c.checkTermList(key+".terms", col.Terms); err != nil {
		return err
	}
	if err := c.checkSeasonList(key+".seasons", col.Seasons); err != nil {
		return err
	}
	if len(col.Terms) > 0 || len(col.Seasons) > 0 {
		if err := c.calendarOf(col.Terms, col.Seasons).Validate(); err != nil {
			return c.errorf(key+".terms", "%v", err)
		}
	}
	return nil
}
