package alma

// This file is an internal test: it reaches the decoder's amount hook to
// see the text of every amount it accepts. The XML scanner under the
// decoder is compared with encoding/xml by FuzzScanner in package
// alma/internal/xmlscan, on the same fixtures.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/feebridge/feebridge/fees"
)

func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob("testdata/bursar/*.xml")
	if err != nil || len(files) == 0 {
		tb.Fatal("no seed files", err)
	}
	var seeds [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, s := range []string{
		`<a/>`,
		`<a><b>x &amp; y &#65;&#x42;</b><!-- c --><?p q?><![CDATA[<d>]]></a>`,
		`<x:a xmlns:x="u"><x:userFineFee><x:sum>1</x:sum></x:userFineFee></x:a>`,
		"\ufeff<a>\r\n</a>",
		`<!DOCTYPE a><a/>`,
		`<a b='1' c="2"/>`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzExportDecoder decodes arbitrary input. It must never panic; every
// amount it accepts must be exactly the amount written, formatted and
// parsed back to the same value; every record it accepts must come back
// equal through ExportEncoder.
func FuzzExportDecoder(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewExportDecoder(bytes.NewReader(data), nil)
		d.onAmount = func(text string, m fees.Money) {
			want, err := decimal.NewFromString(text)
			if err != nil || !want.Equal(m.Decimal()) {
				t.Fatalf("amount %q accepted as %s", text, m)
			}
			back, err := fees.ParseMoney(m.Amount(), m.Currency())
			if err != nil || !back.Equal(m) {
				t.Fatalf("amount %q accepted as %s, which formats as %q and parses back as %v (%v)", text, m, m.Amount(), back, err)
			}
		}
		var recs []ExportRecord
		for range 100_000 {
			rec, err := d.Decode()
			if err == io.EOF {
				break
			}
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if errors.Is(err, ErrSyntax) {
				break
			}
			if err == nil {
				if rec.Patron.ID == "" || rec.TransactionID == "" || rec.Type == "" || !rec.Amount.Valid() || rec.Amount.IsZero() {
					t.Fatalf("accepted an incomplete record %+v", rec)
				}
				recs = append(recs, rec)
			}
		}

		var buf bytes.Buffer
		e := NewExportEncoder(&buf, d.ExportNumber(), nil)
		for _, r := range recs {
			if err := e.Encode(r); err != nil {
				t.Fatalf("Encode(%+v): %v", r, err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		d2 := NewExportDecoder(bytes.NewReader(buf.Bytes()), nil)
		var back []ExportRecord
		for {
			rec, err := d2.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("decoding the re-encoded file: %v\n%s", err, buf.Bytes())
			}
			back = append(back, rec)
		}
		if diff := cmp.Diff(recs, back, cmpopts.IgnoreFields(ExportRecord{}, "Line"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-decoded +re-decoded):\n%s", diff)
		}
		if got := d2.ExportNumber(); got != d.ExportNumber() {
			t.Fatalf("export number %q came back as %q", d.ExportNumber(), got)
		}

	})
}

// FuzzCollapseSpace checks that both ways of collapsing white space agree.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", " a ", "a  b", "\ta\r\n b\n", "Case studies\n\t\t: travel /"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := collapseSpace(b)
		if got := string(collapseSpaceInPlace(bytes.Clone(b))); got != want {
			t.Fatalf("collapseSpaceInPlace(%q) = %q, collapseSpace gives %q", b, got, want)
		}
		if got := string(appendCollapsed([]byte("x y"), b)); got != "x y"+want {
			t.Fatalf("appendCollapsed(\"x y\", %q) = %q, collapseSpace gives %q", b, got, want)
		}
	})
}

// FuzzPlainMoney checks that what plainMoney takes, fees.ParseMoney
// takes too, as the same amount.
func FuzzPlainMoney(f *testing.F) {
	for _, s := range []string{"0.01", "12.5", "300", "-5.00", "007", "0", "-0.00", "1.005", "1.", ".5", "+1", "1e3",
		"123456789012345.99", "1234567890123456", " 1", "12.345"} {
		f.Add(s, "USD")
		f.Add(s, "JPY")
		f.Add(s, "KWD")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		c := fees.Currency(cur)
		m, ok := plainMoney(s, c)
		if !ok {
			return
		}
		want, err := fees.ParseMoney(s, c)
		if err != nil || !m.Equal(want) || m.String() != want.String() {
			t.Fatalf("plainMoney(%q, %s) = %v, ParseMoney gives %v, %v", s, c, m, want, err)
		}
	})
}
