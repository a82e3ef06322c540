package peoplesoft_test

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

func TestReferenceLayoutsInTOML(t *testing.T) {
	tests := []struct {
		file string
		want *peoplesoft.Layout
	}{
		{"reference-charges.toml", peoplesoft.ReferenceChargeLayout()},
		{"reference-payments.toml", peoplesoft.ReferencePaymentLayout()},
		{"reference-results.toml", peoplesoft.ReferenceResultLayout()},
	}
	for _, tt := range tests {
		got := loadLayout(t, tt.file)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	for _, l := range []*peoplesoft.Layout{peoplesoft.ReferenceChargeLayout(), peoplesoft.ReferencePaymentLayout(), peoplesoft.ReferenceResultLayout()} {
		if err := l.Validate(); err != nil {
			t.Errorf("%s: %v", l.Name, err)
		}
	}
}

// detail returns a fixed-width charge layout whose detail fields are given
// in TOML.
func detail(fields string) string {
	return "kind = \"charges\"\nformat = \"fixed\"\n[detail]\nfields = [\n" + fields + "\n]\n"
}

const okFields = `
  { name = "EMPLID", start = 1, length = 11 },
  { name = "ITEM_TYPE", start = 12, length = 12 },
  { name = "AMOUNT", start = 24, length = 11 },
  { name = "REF1_DESCR", start = 35, length = 30 },`

func TestLoadLayoutErrors(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"ok", detail(okFields), ""},
		{"syntax", "kind = \"charges\n", "layout: toml: line 1"},
		{"wrong type with line", "kind = \"charges\"\nformat = \"fixed\"\n\n[detail]\nfields = [{ name = \"EMPLID\", start = \"one\" }]\n", `layout: toml: line 5 (last key "detail.fields.start")`},
		{"unknown key", detail(okFields) + "colour = \"blue\"\n", "unknown key detail.colour"},
		{"unknown field key", detail(okFields + `{ name = "DESCR", start = 65, length = 5, width = 3 },`), "unknown key detail.fields.width"},
		{"bad kind", strings.Replace(detail(okFields), `"charges"`, `"fines"`, 1), `kind: "fines"`},
		{"bad format", strings.Replace(detail(okFields), `"fixed"`, `"xml"`, 1), `format: "xml"`},
		{"overlap", detail(strings.Replace(okFields, "start = 24", "start = 20", 1)), "detail.fields[2] (AMOUNT): starts at column 20 and overlaps ITEM_TYPE, which ends at column 23"},
		{"gap", detail(strings.Replace(okFields, "start = 24", "start = 25", 1)), "detail.fields[2] (AMOUNT): starts at column 25, leaving a gap after column 23"},
		{"not from column 1", detail(strings.Replace(okFields, "start = 1,", "start = 2,", 1)), "detail.fields[0] (EMPLID): starts at column 2, leaving a gap after column 0"},
		{"unknown name", detail(okFields + `{ name = "EMPLOYEE", start = 65, length = 5 },`), "detail.fields[4] (EMPLOYEE): unknown field name"},
		{"payment name in a charge file", detail(okFields + `{ name = "PAID_AMT", start = 65, length = 5 },`), "detail.fields[4] (PAID_AMT): unknown field name"},
		{"name twice", detail(okFields + `{ name = "EMPLID", start = 65, length = 5 },`), "detail.fields[4] (EMPLID): name used twice"},
		{"missing required", detail(strings.Replace(okFields, `"REF1_DESCR"`, `"DESCR"`, 1)), "detail: no REF1_DESCR field"},
		{"zero length", detail(strings.Replace(okFields, "length = 12", "length = 0", 1)), "detail.fields[1] (ITEM_TYPE): length 0"},
		{"record length", detail(okFields) + "length = 70\n", "detail: length 70, but the fields end at column 64"},
		{"bad justify", detail(strings.Replace(okFields, "length = 11 }", `length = 11, justify = "centre" }`, 1)), `justify "centre"`},
		{"bad pad", detail(strings.Replace(okFields, "length = 11 }", `length = 11, pad = "ab" }`, 1)), `pad "ab"`},
		{"zero pad left", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 11, justify = "left" }`, 1)), `pad "0" on a left-justified number`},
		{"date without format", detail(okFields + `{ name = "DUE_DT", start = 65, length = 8 },`), "needs a format"},
		{"format on text", detail(strings.Replace(okFields, "length = 11 }", `length = 11, format = "2006" }`, 1)), "format: only for date"},
		{"separate sign without field", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 11, sign = "separate" }`, 1)), "no AMOUNT_SIGN field"},
		{"sign field without separate", detail(okFields + `{ name = "AMOUNT_SIGN", start = 65, length = 1 },`), "AMOUNT_SIGN is present but AMOUNT has sign \"minus\""},
		{"bad sign", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 11, sign = "trailing" }`, 1)), `sign "trailing"`},
		{"decimals too few", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 11, decimals = 1 }`, 1)), "decimals 1"},
		{"truncate a key", detail(strings.Replace(okFields, "length = 30 }", `length = 30, truncate = true }`, 1)), "truncate: only DESCR"},
		{"trailer without const", detail(okFields) + "[trailer]\nfields = [{ name = \"RECORD_COUNT\", start = 1, length = 9 }]\n", "trailer: needs a field with a const"},
		{"control in detail", detail(okFields + `{ name = "RECORD_COUNT", start = 65, length = 5 },`), "unknown field name"},
		{"delimiter in fixed", detail(okFields) + "delimiter = \";\"\n", "delimiter"},
		{"column names in fixed", "column_names = true\n" + detail(okFields), "column_names: only for CSV"},
		{"unknown currency", "currency = \"XYZ\"\n" + detail(okFields), "currency"},
		{"bad line end", "line_end = \"\\r\"\n" + detail(okFields), "line_end"},
		{"signs on an amount", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 11, signs = "DC" }`, 1)), "signs: only for sign fields"},
		{"signs of one character", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 10, sign = "separate" }, { name = "AMOUNT_SIGN", start = 34, length = 1, signs = "D" }`, 1)), `signs "D"`},
		{"signs the same", detail(strings.Replace(okFields, "start = 24, length = 11 }", `start = 24, length = 10, sign = "separate" }, { name = "AMOUNT_SIGN", start = 34, length = 1, signs = "DD" }`, 1)), `signs "DD"`},
		{"const too long", detail(okFields + `{ name = "X", start = 65, length = 1, const = "AB" },`), "longer than the field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := peoplesoft.LoadLayout(strings.NewReader(tt.toml))
			switch {
			case tt.want == "" && tt.name == "ok" && err != nil:
				t.Fatalf("LoadLayout: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("LoadLayout error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// The trailer of the "trailer like detail" case has the detail's own
// const, so nothing tells them apart.
func TestLayoutTrailerLikeDetail(t *testing.T) {
	l := peoplesoft.ReferenceChargeLayout()
	l.Trailer.Fields[0].Const = "D"
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "do not tell it from a detail record") {
		t.Errorf("Validate = %v", err)
	}
}

// feesync embeds a layout and a mapping in its own TOML configuration.
func TestLayoutAndMappingEmbedded(t *testing.T) {
	const config = `
[peoplesoft]
due_days = 21

[peoplesoft.item_types]
OVERDUEFINE = "400000000001"
LOSTITEMREPLACEMENTFEE = "400000000002"

[[peoplesoft.calendar.terms]]
code = "2271"
start = 2027-01-04
end = 2027-01-29

[[peoplesoft.calendar.seasons]]
name = "Spring"
start = "02-01"
end = "05-31"
suffix = "3"

[peoplesoft.charge_layout]
kind = "charges"
format = "csv"
fields = []
[[peoplesoft.charge_layout.detail.fields]]
name = "EMPLID"
[[peoplesoft.charge_layout.detail.fields]]
name = "ITEM_TYPE"
[[peoplesoft.charge_layout.detail.fields]]
name = "AMOUNT"
[[peoplesoft.charge_layout.detail.fields]]
name = "REF1_DESCR"
`
	var cfg struct {
		PeopleSoft struct {
			peoplesoft.Mapping
			ChargeLayout peoplesoft.Layout `toml:"charge_layout"`
		} `toml:"peoplesoft"`
	}
	md, err := toml.Decode(config, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) != 1 || und[0].String() != "peoplesoft.charge_layout.fields" {
		t.Errorf("undecoded keys %v, want only peoplesoft.charge_layout.fields", und)
	}
	m := cfg.PeopleSoft.Mapping
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.PeopleSoft.ChargeLayout.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.DueDays != 21 || m.ItemTypes[fees.TypeOverdueFine] != "400000000001" {
		t.Errorf("mapping %+v", m)
	}
	for date, want := range map[string]string{"2027-01-10": "2271", "2027-03-01": "2273", "2027-01-31": ""} {
		got, err := m.Calendar.TermFor(mustDay(t, date))
		if got != want || (want == "") != (err != nil) {
			t.Errorf("TermFor(%s) = %q, %v; want %q", date, got, err, want)
		}
	}
}

// Record types of different widths are told apart by the columns they
// share; a trailer whose const overlaps free data is refused.
func TestLayoutRecordTypes(t *testing.T) {
	base := `kind = "charges"
format = "fixed"
[detail]
fields = [
  { name = "RECORD_TYPE", start = 1, length = 1, const = "D" },
  { name = "EMPLID", start = 2, length = 11 },
  { name = "ITEM_TYPE", start = 13, length = 12 },
  { name = "AMOUNT", start = 25, length = 11 },
  { name = "REF1_DESCR", start = 36, length = 30 },
]
`
	tests := []struct{ trailer, want string }{
		{`{ name = "RECORD_TYPE", start = 1, length = 3, const = "TRL" }`, ""},
		{`{ name = "RECORD_TYPE", start = 1, length = 3, const = "DTL" }`, "do not tell it from a detail record"},
		{`{ name = "X", start = 1, length = 1, const = "D" }, { name = "Y", start = 2, length = 3, const = "END" }`, "do not tell it from a detail record"},
	}
	for _, tt := range tests {
		toml := base + "[trailer]\nfields = [" + tt.trailer + `, { name = "RECORD_COUNT", start = 10, length = 6 }]` + "\n"
		toml = strings.Replace(toml, `start = 10, length = 6`, `start = `+startAfter(tt.trailer)+`, length = 6`, 1)
		_, err := peoplesoft.LoadLayout(strings.NewReader(toml))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("trailer %s: %v, want %q", tt.trailer, err, tt.want)
		}
	}
}

func startAfter(fields string) string {
	if strings.Contains(fields, `"END"`) {
		return "5"
	}
	if strings.Contains(fields, "length = 3") {
		return "4"
	}
	return "2"
}

// The reference layouts encode to TOML that loads back the same, so a
// campus can start its own layout from them.
func TestReferenceLayoutsEncode(t *testing.T) {
	for _, l := range []*peoplesoft.Layout{peoplesoft.ReferenceChargeLayout(), peoplesoft.ReferencePaymentLayout(), peoplesoft.ReferenceResultLayout()} {
		var buf strings.Builder
		if err := toml.NewEncoder(&buf).Encode(l); err != nil {
			t.Fatal(err)
		}
		got, err := peoplesoft.LoadLayout(strings.NewReader(buf.String()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", l.Name, err, buf.String())
		}
		if diff := cmp.Diff(l, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", l.Name, diff)
		}
		if strings.Contains(buf.String(), "start = 0") {
			t.Errorf("zero values written:\n%s", buf.String())
		}
	}
}
