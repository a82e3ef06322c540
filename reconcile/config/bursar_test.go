package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile/config"
)

// TestBursarBuiltins: bursar = "banner" or "colleague" chooses that
// system's layouts, codes and term calendar, and the file's own keys
// still win over them.
func TestBursarBuiltins(t *testing.T) {
	fall := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		text, charges, payments, overdue, lost, term string
	}{
		{"", "reference charges", "reference payments", "300000000001", "300000000002", "2268"},
		{`bursar = "banner"`, "banner charges", "banner payments", "LBOD", "LBLR", "202630"},
		{`bursar = "colleague"`, "colleague charges", "colleague payments", "LIBOD", "LIBLR", "26/FA"},
		{"bursar = \"banner\"\nterm_code_format = \"{YYYY}-{SUFFIX}\"\n" + minimalConfig + "[item_types]\nOVERDUEFINE = \"FINE\"\n",
			"banner charges", "banner payments", "FINE", "LBLR", "2026-30"},
		{"bursar = \"banner\"\n" + minimalConfig + "[layout]\npayments = \"colleague\"\n", "banner charges", "colleague payments", "LBOD", "LBLR", "202630"},
		{"bursar = \"colleague\"\nitem_type_pattern = \"[A-Z0-9]{5}\"\n" + minimalConfig + "[item_types]\nOVERDUEFINE = \"LB001\"\n",
			"colleague charges", "colleague payments", "LB001", "LIBLR", "26/FA"},
		{"bursar = \"colleague\"\n" + minimalConfig + "[[seasons]]\nname = \"Fall\"\nstart = \"08-01\"\nend = \"12-31\"\nsuffix = \"FA\"\n",
			"colleague charges", "colleague payments", "LIBOD", "LIBLR", "26/FA"},
	} {
		text := tc.text
		if !strings.Contains(text, minimalConfig) {
			text += "\n" + minimalConfig
		}
		c, err := config.Parse(strings.NewReader(text), "f.toml")
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		cl, err1 := c.ChargeLayout()
		pl, err2 := c.PaymentLayout()
		if err1 != nil || err2 != nil || cl.Name != tc.charges || pl.Name != tc.payments {
			t.Errorf("%q: layouts %v (%v), %v (%v)", tc.text, cl, err1, pl, err2)
			continue
		}
		m := c.Mapping()
		if err := m.Validate(); err != nil {
			t.Errorf("%q: mapping: %v", tc.text, err)
		}
		term, err := m.Calendar.TermFor(fall)
		if got := []string{m.ItemTypes[fees.TypeOverdueFine], m.ItemTypes[fees.TypeLostItemReplacementFee], term}; !cmp.Equal(got, []string{tc.overdue, tc.lost, tc.term}) || err != nil {
			t.Errorf("%q: codes and term %q, %v; want %q, %q, %q", tc.text, got, err, tc.overdue, tc.lost, tc.term)
		}
	}
}

// TestBursarErrors: a wrong bursar, a code that is not the bursar's and
// a bad term code format are reported with file, line and key.
func TestBursarErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"bursar = \"sap\"\n", `f.toml:1: bursar: unknown student system "sap" (want one of banner, colleague, peoplesoft)`},
		{"bursar = \"banner\"\n" + minimalConfig + "[item_types]\nOVERDUEFINE = \"300000000001\"\n",
			`f.toml:10: item_types.OVERDUEFINE: "300000000001" is not a banner code: want a code matching "[A-Z0-9]{4}"`},
		{minimalConfig + "[item_types]\nOVERDUEFINE = \"LBOD\"\n", `f.toml:9: item_types.OVERDUEFINE: "LBOD" is not a 12-digit PeopleSoft item type`},
		{"item_type_pattern = \"[A-Z\"\n", "f.toml:1: item_type_pattern: peoplesoft: item_type_pattern: \"[A-Z\": error parsing regexp: missing closing ]: `[A-Z)$`"},
		{"item_type_pattern = \"[0-9]{6}\"\n" + minimalConfig + "[item_types]\nOVERDUEFINE = \"300000000001\"\n",
			`f.toml:10: item_types.OVERDUEFINE: "300000000001" is not a peoplesoft code: want a code matching "[0-9]{6}"`},
		{"bursar = \"colleague\"\nitem_type_pattern = \"[A-Z]{2}[0-9]{3}\"\n" + minimalConfig + "[item_types]\nOVERDUEFINE = \"LB001\"\n",
			`f.toml:2: item_type_pattern: the colleague built-in code "LIBCR" of CREDIT does not match "[A-Z]{2}[0-9]{3}": set the code in [item_types]`},
		{"term_code_format = \"{YYYY}\"\n", `f.toml:1: term_code_format: peoplesoft: calendar.code_format: "{YYYY}": needs {SUFFIX} and a year ({YYYY} or {YY})`},
	} {
		text := tc.text
		if !strings.Contains(text, minimalConfig) {
			text += "\n" + minimalConfig
		}
		_, err := config.Parse(strings.NewReader(text), "f.toml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got: %v\nwant: %s", tc.text, err, tc.want)
		}
	}
	if got := peoplesoft.BuiltinBursars(); len(got) != 3 {
		t.Errorf("BuiltinBursars = %q", got)
	}
}
