package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

const mitExport = "testdata/mit-bursar-export.xml"

// readCharges decodes a charge file in layout l and returns its lines.
func readCharges(t *testing.T, path string, l *peoplesoft.Layout) []peoplesoft.Charge {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := peoplesoft.NewChargeDecoder(f, l, &peoplesoft.DecodeOptions{File: path})
	var out []peoplesoft.Charge
	for {
		ch, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ch)
	}
}

func sumCharges(t *testing.T, chs []peoplesoft.Charge) fees.Money {
	t.Helper()
	total := fees.Zero(fees.USD)
	for _, ch := range chs {
		var err error
		if total, err = total.Add(ch.Amount); err != nil {
			t.Fatal(err)
		}
	}
	return total
}

// TestConvertMITExport converts a real Alma export with no config: the
// reference layout, item types and calendar.
func TestConvertMITExport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "charges.dat")
	r := runFeesync(t, nil, "convert", "alma-export", "-in", mitExport, "-out", out, "-as-of", "2026-03-02")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	chs := readCharges(t, out, peoplesoft.ReferenceChargeLayout())
	if len(chs) != 10 {
		t.Errorf("%d detail lines, want 10", len(chs))
	}
	if got, want := sumCharges(t, chs), fees.MustParseMoney("579.72", fees.USD); !got.Equal(want) {
		t.Errorf("total %s, want %s", got, want)
	}
	first := chs[0]
	want := peoplesoft.Charge{EmplID: "12345678", ItemType: peoplesoft.ItemTypeOverdueFine,
		Amount: fees.MustParseMoney("123.45", fees.USD), Term: "2262", Ref: "15216075630006761"}
	if d := cmp.Diff(want, first, cmp.Comparer(fees.Money.Equal), cmpIgnore("DueDate", "Description")); d != "" {
		t.Errorf("first line (-want +got):\n%s", d)
	}
	for _, s := range []string{`records=10`, `total="579.72 USD"`, `rejected=0`} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("summary line lacks %s:\n%s", s, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "12345678") || strings.Contains(r.stderr, "09876") {
		t.Errorf("a student id reached the log:\n%s", r.stderr)
	}
}

// TestConvertRejects breaks three records of the real export; the other
// seven are written and each bad one is listed as FILE:LINE: KEY: reason.
func TestConvertRejects(t *testing.T) {
	data, err := os.ReadFile(mitExport)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, r := range []struct{ old, new string }{
		{"<xb:sum>0.82</xb:sum>", "<xb:sum>0.825</xb:sum>"},                                      // line 64: too many decimals
		{"<xb:fineFeeType>OTHER</xb:fineFeeType>", "<xb:fineFeeType>LOCKERKEY</xb:fineFeeType>"}, // no item type
		{"<xb:bursarTransactionId>15216075700006761</xb:bursarTransactionId>", ""},               // no key
	} {
		if !strings.Contains(text, r.old) {
			t.Fatalf("fixture lacks %s", r.old)
		}
		text = strings.Replace(text, r.old, r.new, 1)
	}
	in := writeFile(t, "bad-export.xml", text)
	out := filepath.Join(t.TempDir(), "charges.dat")
	r := runFeesync(t, nil, "convert", "alma-export", "-in", in, "-out", out, "-as-of", "2026-03-02")
	if r.code != ExitRejected {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitRejected, r.stderr)
	}
	chs := readCharges(t, out, peoplesoft.ReferenceChargeLayout())
	if len(chs) != 7 {
		t.Errorf("%d lines written, want 7", len(chs))
	}
	if got, want := sumCharges(t, chs), fees.MustParseMoney("468.90", fees.USD); !got.Equal(want) {
		t.Errorf("total %s, want %s", got, want)
	}
	var listed []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, in+":") {
			listed = append(listed, strings.TrimPrefix(l, in+":"))
		}
	}
	// The charges job's rejections, as `run charges` lists them: a record
	// that cannot be read is held under a key of its own (file and line).
	want := []struct{ prefix, reason string }{
		{"64: ", "transaction 15216075640006761: bad amount"},
		{"134: ", "missing bursarTransactionId"},
		{"188: 15216075690006761/LOCKERKEY: ", "no PeopleSoft item type for fee type LOCKERKEY"},
	}
	if len(listed) != len(want) {
		t.Fatalf("rejections listed:\n%s\nwant %d", strings.Join(listed, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(listed[i], w.prefix) || !strings.Contains(listed[i], w.reason) {
			t.Errorf("rejection %d = %q, want prefix %q and %q", i, listed[i], w.prefix, w.reason)
		}
	}
	if !strings.Contains(r.stderr, "3 records rejected") {
		t.Errorf("no final count:\n%s", r.stderr)
	}
}

// TestConvertWithConfig uses the example config: its item types and its
// term calendar.
func TestConvertWithConfig(t *testing.T) {
	cfg := strings.Replace(minimalConfig, `journal = "/tmp/j.db"`, `journal = "/tmp/j.db"
due_days = 14
[item_types]
OVERDUEFINE = "310000000001"
[[terms]]
code = "SP26"
start = 2026-01-01
end = 2026-06-30`, 1)
	path := writeFile(t, "feesync.toml", cfg)
	out := filepath.Join(t.TempDir(), "charges.dat")
	r := runFeesync(t, nil, "convert", "alma-export", "-config", path, "-in", mitExport, "-out", out, "-as-of", "2026-03-02")
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	chs := readCharges(t, out, peoplesoft.ReferenceChargeLayout())
	if chs[0].ItemType != "310000000001" || chs[0].Term != "SP26" || chs[0].DueDate.Format("2006-01-02") != "2026-03-16" {
		t.Errorf("first line = %+v, want the configured item type, term and due date", chs[0])
	}
	if chs[2].ItemType != peoplesoft.ItemTypeLostItemReplacementFee {
		t.Errorf("an unconfigured type lost its reference item type: %+v", chs[2])
	}

	// A day outside the configured calendar rejects every record.
	r = runFeesync(t, nil, "convert", "alma-export", "-config", path, "-in", mitExport, "-out", out, "-as-of", "2026-09-02")
	if r.code != ExitRejected || !strings.Contains(r.stderr, "10 records rejected") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

func TestConvertUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no in", []string{"convert", "alma-export", "-out", "x"}, "-in and -out are required"},
		{"bad as-of", []string{"convert", "alma-export", "-in", mitExport, "-out", "x", "-as-of", "03/02/2026"}, `-as-of "03/02/2026": want YYYY-MM-DD`},
		{"which", []string{"convert"}, "convert: which one?"},
		{"unknown", []string{"convert", "pdf"}, `unknown command "convert pdf"`},
		{"extra", []string{"convert", "alma-export", "-in", "a", "-out", "b", "c"}, `unexpected argument "c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFeesync(t, nil, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestConvertFailureKeepsOutput checks that a file that cannot be read
// leaves no output behind and exits 1.
func TestConvertFailure(t *testing.T) {
	in := writeFile(t, "broken.xml", "<xb:xml-fragment><xb:userExportedFineFees><oops")
	dir := t.TempDir()
	out := filepath.Join(dir, "charges.dat")
	r := runFeesync(t, nil, "convert", "alma-export", "-in", in, "-out", out)
	if r.code != ExitFailure {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	r = runFeesync(t, nil, "convert", "alma-export", "-in", filepath.Join(dir, "missing.xml"), "-out", out)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "missing.xml") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

const payments = `EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR
12345678,15216075630006761,300000000001,123.45,123.45,2026-03-03,ESERVICES,CREDIT_CARD,R1
12345678,15216075490006761,300000000002,300.00,100.00,2026-03-03,CASHIER,CASH,R2
09876,15216075700006761,300000000002,100.00,50.00,2026-03-03,ESERVICES,CREDIT_CARD,R3
09876,15216075690006761,300000000001,14.00,15.00,2026-03-03,CASHIER,CHECK,R4
12345678,15216075630006761,300000000001,123.45,123.45,2026-03-03,ESERVICES,CREDIT_CARD,R1
09876,15216075690006761,300000000001,14.00,0.00,2026-03-03,CASHIER,CHECK,R5
09876,15216075640006761,300000000001,0.82,0.82,2026-03-03,CASHIER,CHECK,R6
`

func TestConvertPayments(t *testing.T) {
	in := writeFile(t, "payments.csv", payments)
	out := filepath.Join(t.TempDir(), "import.xml")
	r := runFeesync(t, nil, "convert", "ps-payments", "-in", in, "-out", out)
	if r.code != ExitRejected {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		in + ":4: R3/15216075700006761/300000000002: fee 15216075700006761: eServices payment R3/15216075700006761/300000000002 of 50.00 USD does not pay the whole 100.00 USD",
		"PAID_AMT: bad amount: paid 15.00 is more than the charge of 14.00",     // line 5
		"payment R1/15216075630006761/300000000001 repeats line 2 of this file", // line 6
		`PAID_AMT: bad amount: "0.00": must be positive`,                        // line 7
		"4 records rejected",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := alma.NewExportDecoder(f, &alma.DecoderOptions{File: out, AllowDuplicates: true})
	type got struct {
		Patron, Key, Amount string
		Type                fees.Type
	}
	var gots []got
	for {
		rec, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		gots = append(gots, got{rec.Patron.ID, rec.TransactionID, rec.Amount.String(), rec.Type})
	}
	want := []got{
		{"12345678", "15216075630006761", "123.45 USD", fees.TypeOverdueFine},
		{"12345678", "15216075490006761", "100.00 USD", fees.TypeLostItemReplacementFee},
		{"09876", "15216075640006761", "0.82 USD", fees.TypeOverdueFine},
	}
	if d := cmp.Diff(want, gots); d != "" {
		t.Errorf("import file (-want +got):\n%s", d)
	}
}

func TestConvertPaymentsAllGood(t *testing.T) {
	lines := strings.Split(payments, "\n")
	in := writeFile(t, "payments.csv", strings.Join([]string{lines[0], lines[1], lines[2], ""}, "\n"))
	out := filepath.Join(t.TempDir(), "import.xml")
	r := runFeesync(t, nil, "convert", "ps-payments", "-in", in, "-out", out)
	if r.code != ExitOK || !strings.Contains(r.stderr, `records=2 total="223.45 USD" rejected=0`) {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
}

func cmpIgnore(fields ...string) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		sf, ok := p.Last().(cmp.StructField)
		if !ok {
			return false
		}
		for _, f := range fields {
			if sf.Name() == f {
				return true
			}
		}
		return false
	}, cmp.Ignore())
}

// TestConvertCustomLayout names a layout file in the config, by a path
// relative to the config file.
func TestConvertCustomLayout(t *testing.T) {
	dir := t.TempDir()
	layout, err := os.ReadFile("testdata/csv-charges.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "campus.toml"), layout, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "feesync.toml")
	if err := os.WriteFile(cfg, []byte(minimalConfig+"[layout]\ncharges = \"campus.toml\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "charges.csv")
	r := runFeesync(t, nil, "convert", "alma-export", "-config", cfg, "-in", mitExport, "-out", out, "-as-of", "2026-03-02")
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	l, err := peoplesoft.LoadLayoutFile(filepath.Join(dir, "campus.toml"))
	if err != nil {
		t.Fatal(err)
	}
	chs := readCharges(t, out, l)
	if len(chs) != 10 || !sumCharges(t, chs).Equal(fees.MustParseMoney("579.72", fees.USD)) {
		t.Errorf("%d lines, total %s", len(chs), sumCharges(t, chs))
	}

	// A layout file that is not there is named with its key and line.
	if err := os.WriteFile(cfg, []byte(minimalConfig+"[layout]\n\ncharges = \"../missing.toml\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runFeesync(t, nil, "convert", "alma-export", "-config", cfg, "-in", mitExport, "-out", out)
	if want := cfg + ":10: layout.charges: layout file: "; r.code != ExitFailure || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %s", r.code, r.stderr, want)
	}
}
