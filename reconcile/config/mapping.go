package config

import (
	"os"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// calendar is the term calendar: the configured terms and seasons, or the
// built-in calendar when the file has neither.
func (c *Config) calendar() peoplesoft.Calendar {
	if len(c.Terms) == 0 && len(c.Seasons) == 0 {
		return peoplesoft.DefaultCalendar()
	}
	var cal peoplesoft.Calendar
	for _, t := range c.Terms {
		cal.Terms = append(cal.Terms, peoplesoft.Term{Code: t.Code, Start: t.Start.Time, End: t.End.Time})
	}
	for _, s := range c.Seasons {
		cal.Seasons = append(cal.Seasons, peoplesoft.Season{Name: s.Name, Start: s.Start, End: s.End, Suffix: s.Suffix})
	}
	return cal
}

// Mapping is the reference mapping with the configured item types, term
// calendar and due days. Its FeeTypeOf reads a payment's item type back to
// the fee type.
func (c *Config) Mapping() peoplesoft.Mapping {
	mp := peoplesoft.DefaultMapping()
	for typ, code := range c.ItemTypes {
		mp.ItemTypes[fees.Type(typ)] = code
	}
	mp.Calendar = c.calendar()
	mp.DueDays = c.DueDays
	return mp
}

// ChargeLayout is the layout of the charge files the jobs write.
func (c *Config) ChargeLayout() (*peoplesoft.Layout, error) {
	if c.Layout.Charges == "reference" {
		return peoplesoft.ReferenceChargeLayout(), nil
	}
	return c.layout("layout.charges", c.Layout.Charges, peoplesoft.KindCharges)
}

// PaymentLayout is the layout of the payment files PeopleSoft sends.
func (c *Config) PaymentLayout() (*peoplesoft.Layout, error) {
	if c.Layout.Payments == "reference" {
		return peoplesoft.ReferencePaymentLayout(), nil
	}
	return c.layout("layout.payments", c.Layout.Payments, peoplesoft.KindPayments)
}

// ResultLayout is the layout of the results files of PeopleSoft's load.
func (c *Config) ResultLayout() (*peoplesoft.Layout, error) {
	if c.Layout.Results == "reference" {
		return peoplesoft.ReferenceResultLayout(), nil
	}
	return c.layout("layout.results", c.Layout.Results, peoplesoft.KindResults)
}

// layout loads the layout file at path for key; kind, when set, is the
// kind it must describe (a key layout.charges takes a charges layout).
func (c *Config) layout(key, path, kind string) (*peoplesoft.Layout, error) {
	if kind == "" {
		kind = strings.TrimPrefix(key, "layout.")
	}
	if st, err := os.Stat(path); err != nil {
		return nil, c.errorf(key, "layout file: %v", err)
	} else if !st.Mode().IsRegular() {
		return nil, c.errorf(key, "layout file %s is not a regular file", path)
	}
	l, err := peoplesoft.LoadLayoutFile(path)
	if err != nil {
		return nil, c.errorf(key, "%v", err)
	}
	if l.Kind != kind {
		return nil, c.errorf(key, "%s describes a %s file, not %s", path, l.Kind, kind)
	}
	return l, nil
}
