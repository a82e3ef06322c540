package config

import (
	"os"
	"slices"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
)

// bursar is the configured built-in bursar, or PeopleSoft when the name
// is unknown (checkBursar reports it).
func (c *Config) bursar() peoplesoft.Bursar {
	b, err := peoplesoft.BuiltinBursar(c.Bursar)
	if err != nil {
		b, _ = peoplesoft.BuiltinBursar(peoplesoft.BursarPeopleSoft)
	}
	return b
}

// builtinLayoutName reports whether a layout key names a built-in layout
// ("reference" or a built-in bursar) rather than a file.
func builtinLayoutName(s string) bool {
	return s == "reference" || slices.Contains(peoplesoft.BuiltinBursars(), s)
}

// calendar is the term calendar: the configured terms and seasons, or the
// bursar's built-in calendar when the file has neither; its codes are
// spelled by term_code_format, or by the bursar's format.
func (c *Config) calendar() peoplesoft.Calendar {
	builtin := c.bursar().Mapping.Calendar
	if len(c.Terms) == 0 && len(c.Seasons) == 0 {
		if c.TermCodeFormat != "" {
			builtin.CodeFormat = c.TermCodeFormat
		}
		return builtin
	}
	return c.calendarOf(c.Terms, c.Seasons)
}

// calendarOf is the calendar of terms and seasons, its codes spelled by
// term_code_format, or by the bursar's format.
func (c *Config) calendarOf(terms []Term, seasons []Season) peoplesoft.Calendar {
	cal := peoplesoft.Calendar{CodeFormat: c.bursar().Mapping.Calendar.CodeFormat}
	if c.TermCodeFormat != "" {
		cal.CodeFormat = c.TermCodeFormat
	}
	for _, t := range terms {
		cal.Terms = append(cal.Terms, peoplesoft.Term{Code: t.Code, Start: t.Start.Time, End: t.End.Time})
	}
	for _, s := range seasons {
		cal.Seasons = append(cal.Seasons, peoplesoft.Season{Name: s.Name, Start: s.Start, End: s.End, Suffix: s.Suffix})
	}
	return cal
}

// Mapping is the bursar's built-in mapping with the configured item
// types, term calendar, due days and colleges. Its FeeTypeOf reads a payment's item
// type back to the fee type.
func (c *Config) Mapping() peoplesoft.Mapping {
	mp := c.bursar().Mapping
	if c.ItemTypePattern != "" {
		mp.ItemTypePattern = c.ItemTypePattern
	}
	for typ, code := range c.ItemTypes {
		mp.ItemTypes[fees.Type(typ)] = code
	}
	if mp.RefundItemTypes == nil && len(c.RefundItemTypes) > 0 {
		mp.RefundItemTypes = make(map[fees.Type]string, len(c.RefundItemTypes))
	}
	for typ, code := range c.RefundItemTypes {
		mp.RefundItemTypes[fees.Type(typ)] = code
	}
	mp.Calendar = c.calendar()
	mp.DueDays = c.DueDays
	mp.Colleges = c.colleges()
	return mp
}

// ChargeLayout is the layout of the charge files the jobs write.
func (c *Config) ChargeLayout() (*peoplesoft.Layout, error) {
	if b, ok := c.builtinLayouts(c.Layout.Charges); ok {
		return b.Charges, nil
	}
	return c.layout("layout.charges", c.Layout.Charges, peoplesoft.KindCharges)
}

// PaymentLayout is the layout of the payment files the bursar sends.
func (c *Config) PaymentLayout() (*peoplesoft.Layout, error) {
	if b, ok := c.builtinLayouts(c.Layout.Payments); ok {
		return b.Payments, nil
	}
	return c.layout("layout.payments", c.Layout.Payments, peoplesoft.KindPayments)
}

// builtinLayouts returns the built-in bursar whose layouts a layout key
// names: the configured bursar for "reference", the bursar called name
// for a built-in bursar's name; false for a file.
func (c *Config) builtinLayouts(name string) (peoplesoft.Bursar, bool) {
	if name == "reference" {
		return c.bursar(), true
	}
	b, err := peoplesoft.BuiltinBursar(name)
	return b, err == nil
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

// RefundPolicies is the refund policy by fee type (R8) for the jobs.
func (c *Config) RefundPolicies() map[fees.Type]reconcile.RefundPolicy {
	out := make(map[fees.Type]reconcile.RefundPolicy, len(c.Refunds))
	for typ, r := range c.Refunds {
		p := reconcile.RefundPolicy{Action: reconcile.RefundReport, Ratio: fees.FullRefund}
		if r.Policy == RefundPolicyRefund {
			p.Action = reconcile.RefundSend
		}
		if r.Ratio != nil {
			p.Ratio = fees.RefundRatio(*r.Ratio)
		}
		out[fees.Type(typ)] = p
	}
	return out
}
