package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
)

// fourColleges is a district of four colleges: CRC with its own item
// type for overdue fines, FLC with its own term calendar.
const fourColleges = minimalConfig + `
[[colleges]]
name = "ARC"
business_unit = "ARC01"
libraries = ["ARC", "ARCNAT"]

[[colleges]]
name = "CRC"
business_unit = "CRC01"
libraries = ["CRC"]
item_types = { OVERDUEFINE = "410000000001" }

[[colleges]]
name = "FLC"
business_unit = "FLC01"
libraries = ["FLC"]
terms = [{ code = "2269", start = 2026-08-01, end = 2026-12-31 }]

[[colleges]]
name = "SCC"
business_unit = "SCC01"
libraries = ["SCC"]
`

func TestCollegesRouteTheMapping(t *testing.T) {
	c, err := config.Parse(strings.NewReader(fourColleges), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mapping()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ owner, unit, itemType, term string }{
		{"ARCNAT", "ARC01", "300000000001", "2268"},
		{"CRC", "CRC01", "410000000001", "2268"},
		{"FLC", "FLC01", "300000000001", "2269"},
		{"SCC", "SCC01", "300000000001", "2268"},
	} {
		f, _ := fees.NewFee("F1", fees.TypeOverdueFine, "1234567", fees.MustParseMoney("3.00", fees.USD), asOf)
		f.TransactionID, f.Owner = "TX1", tc.owner
		ch, err := m.ChargeFor(*f, asOf)
		if err != nil || ch.BusinessUnit != tc.unit || ch.ItemType != tc.itemType || ch.Term != tc.term {
			t.Errorf("%s: %+v, %v; want %s %s %s", tc.owner, ch, err, tc.unit, tc.itemType, tc.term)
		}
	}
}

func TestNoCollegesNoRouting(t *testing.T) {
	c, err := config.Parse(strings.NewReader(minimalConfig), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Mapping(); len(m.Colleges) != 0 {
		t.Errorf("a config without colleges routes: %+v", m.Colleges)
	}
}

func TestCollegeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"library mapped twice", `libraries = ["CRC"]`, `libraries = ["CRC", "ARC"]`,
			`f.toml:17: colleges[1].libraries: library "ARC" is already mapped to college ARC: a library belongs to one college`},
		{"empty business unit", `business_unit = "SCC01"`, `business_unit = ""`,
			"f.toml:28: colleges[3].business_unit: missing: the college's SF business unit in PeopleSoft"},
		{"long business unit", `business_unit = "FLC01"`, `business_unit = "FLC001"`,
			`f.toml:22: colleges[2].business_unit: "FLC001" is not 1 to 5 letters or digits`},
		{"no libraries", `libraries = ["SCC"]`, `libraries = []`,
			"f.toml:29: colleges[3].libraries: missing: the codes of the Alma libraries college SCC owns"},
		{"name twice", `name = "SCC"`, `name = "ARC"`,
			"f.toml:27: colleges[3].name: college ARC is already configured (colleges[0])"},
		{"bad item type", `OVERDUEFINE = "410000000001"`, `OVERDUEFINE = "41"`,
			`f.toml:18: colleges[1].item_types.OVERDUEFINE: "41" is not a 12-digit PeopleSoft item type`},
		{"term ends before it starts", `end = 2026-12-31`, `end = 2026-07-01`,
			"f.toml:24: colleges[2].terms[0].end: term 2269 ends (2026-07-01) before it starts (2026-08-01)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(fourColleges, tc.from) {
				t.Fatalf("the config has no %q", tc.from)
			}
			_, err := config.Parse(strings.NewReader(strings.Replace(fourColleges, tc.from, tc.to, 1)), "f.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Line == 0 {
				t.Errorf("not a *config.Error with a line: %#v", err)
			}
		})
	}
}

// A layout without BUSINESS_UNIT cannot carry the routing: check-config
// says so; the layout with it passes.
func TestCollegesNeedABusinessUnitField(t *testing.T) {
	dir := t.TempDir()
	ref, err := os.ReadFile("../../peoplesoft/testdata/layouts/reference-charges.toml")
	if err != nil {
		t.Fatal(err)
	}
	with := filepath.Join(dir, "with.toml")
	without := filepath.Join(dir, "without.toml")
	if err := os.WriteFile(with, ref, 0o644); err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(strings.Replace(string(ref), "length = 113", "length = 108", 1),
		"  { name = \"BUSINESS_UNIT\", start = 109, length = 5 },\n", "", 1)
	if err := os.WriteFile(without, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	layout := func(path string) string {
		return strings.Replace(fourColleges, "\n[[colleges]]", "\n[layout]\ncharges = \""+path+"\"\n\n[[colleges]]", 1)
	}
	if _, err := config.Parse(strings.NewReader(layout(with)), "f.toml"); err != nil {
		t.Errorf("a layout with BUSINESS_UNIT: %v", err)
	}
	_, err = config.Parse(strings.NewReader(layout(without)), "f.toml")
	if err == nil || !strings.Contains(err.Error(), "f.toml:10: layout.charges: ") || !strings.Contains(err.Error(), "has no BUSINESS_UNIT field") {
		t.Errorf("a layout without BUSINESS_UNIT: %v", err)
	}
	// Without colleges the same layout is fine.
	if _, err := config.Parse(strings.NewReader(minimalConfig+"[layout]\ncharges = \""+without+"\"\n"), "f.toml"); err != nil {
		t.Errorf("a layout without BUSINESS_UNIT and no colleges: %v", err)
	}
}

// separate_files asks for a file per college: it needs colleges, and
// check-config says so with the key's line.
func TestSeparateFilesNeedColleges(t *testing.T) {
	withFiles := strings.Replace(minimalConfig, `path = "/srv/ps"`, "path = \"/srv/ps\"\nseparate_files = true", 1)
	_, err := config.Parse(strings.NewReader(withFiles), "f.toml")
	want := "f.toml:8: peoplesoft.separate_files: a file per college needs [[colleges]]; none is configured"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	c, err := config.Parse(strings.NewReader(strings.Replace(fourColleges, minimalConfig, withFiles, 1)), "f.toml")
	if err != nil || !c.PeopleSoft.SeparateFiles {
		t.Errorf("with colleges: %v, %+v", err, c)
	}
}
