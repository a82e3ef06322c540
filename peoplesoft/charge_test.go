package peoplesoft_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// withCredit is the MIT charges plus a credit that lowers the first one.
func withCredit(t testing.TB) []peoplesoft.Charge {
	t.Helper()
	charges := mitCharges(t)
	cr, err := peoplesoft.DefaultMapping().CreditFor(fees.Credit{
		Key: "CR-1", TransactionID: mitFees[2].txn, UserID: mitFees[2].user,
		Type: fees.TypeLostItemReplacementFee, Amount: usd("300.00"), Reason: "Lost item was found",
	}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return append(charges, cr)
}

func TestGoldenReferenceCharges(t *testing.T) {
	got := encodeCharges(t, peoplesoft.ReferenceChargeLayout(), mitCharges(t))
	golden(t, "reference-charges.dat", got)
	// The trailer carries the fixture's total.
	if !bytes.HasSuffix(got, []byte("T000000010+0000000579.72\n")) {
		t.Errorf("trailer: got %q", got[bytes.LastIndexByte(got[:len(got)-1], '\n')+1:])
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
		want := 113
		switch line[0] {
		case 'H':
			want = 25
		case 'T':
			want = 24
		}
		if len(line) != want {
			t.Errorf("line %d: %d characters, want %d", i+1, len(line), want)
		}
	}
}

func TestGoldenReferenceChargesWithCredit(t *testing.T) {
	got := encodeCharges(t, peoplesoft.ReferenceChargeLayout(), withCredit(t))
	golden(t, "reference-charges-credit.dat", got)
}

func TestGoldenOtherChargeLayouts(t *testing.T) {
	for _, name := range []string{"csv-charges", "implied-charges"} {
		t.Run(name, func(t *testing.T) {
			got := encodeCharges(t, loadLayout(t, name+".toml"), withCredit(t))
			golden(t, name+".dat", got)
		})
	}
}

// The description is cut by the layout (DESCR has truncate = true), and
// blanks at the end of a fixed-width field do not come back.
func wantAfterRoundTrip(l *peoplesoft.Layout, in []peoplesoft.Charge) []peoplesoft.Charge {
	var descr *peoplesoft.Field
	for i := range l.Detail.Fields {
		if l.Detail.Fields[i].Name == "DESCR" {
			descr = &l.Detail.Fields[i]
		}
	}
	out := make([]peoplesoft.Charge, len(in))
	for i, ch := range in {
		switch {
		case descr == nil:
			ch.Description = ""
		case len(ch.Description) > descr.Length:
			ch.Description = ch.Description[:descr.Length]
		}
		if l.Format == peoplesoft.FormatFixed {
			ch.Description = strings.TrimRight(ch.Description, " ")
		}
		out[i] = ch
	}
	return out
}

func TestChargeRoundTrip(t *testing.T) {
	layouts := map[string]*peoplesoft.Layout{
		"reference": peoplesoft.ReferenceChargeLayout(),
		"csv":       loadLayout(t, "csv-charges.toml"),
		"implied":   loadLayout(t, "implied-charges.toml"),
	}
	for name, l := range layouts {
		t.Run(name, func(t *testing.T) {
			in := withCredit(t)
			data := encodeCharges(t, l, in)
			got, errs := decodeAllCharges(t, l, data)
			if len(errs) > 0 {
				t.Fatalf("decode: %v", errs)
			}
			if diff := cmp.Diff(wantAfterRoundTrip(l, in), got, cmp.Comparer(fees.Money.Equal)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChargeDecoderCreated(t *testing.T) {
	data := encodeCharges(t, peoplesoft.ReferenceChargeLayout(), mitCharges(t))
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), peoplesoft.ReferenceChargeLayout(), nil)
	if _, err := dec.Decode(); err != nil {
		t.Fatal(err)
	}
	if got := dec.Created(); !got.Equal(created) {
		t.Errorf("Created() = %v, want %v", got, created)
	}
	if got := dec.Line(); got != 2 {
		t.Errorf("Line() = %d, want 2", got)
	}
}

func TestChargeEncoderCountTotal(t *testing.T) {
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, peoplesoft.ReferenceChargeLayout(), created)
	for _, ch := range withCredit(t) {
		if err := enc.Encode(ch); err != nil {
			t.Fatal(err)
		}
	}
	if enc.Count() != 11 || !enc.Total().Equal(usd("279.72")) {
		t.Errorf("Count, Total = %d, %s; want 11, 279.72 USD", enc.Count(), enc.Total())
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "T000000011+0000000279.72\n") {
		t.Errorf("trailer of %q", buf.String())
	}
}

func TestChargeEncoderEmptyFile(t *testing.T) {
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, peoplesoft.ReferenceChargeLayout(), created)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	want := "H20261128180507LIBRARY   \nT000000000+0000000000.00\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
	got, errs := decodeAllCharges(t, peoplesoft.ReferenceChargeLayout(), buf.Bytes())
	if len(got) != 0 || len(errs) != 0 {
		t.Errorf("decode: %v, %v", got, errs)
	}
}

func TestChargeEncoderRejects(t *testing.T) {
	good := mitCharges(t)[0]
	tests := []struct {
		name   string
		layout string // "" for the reference
		change func(*peoplesoft.Charge)
		field  string
		cause  error
	}{
		{"emplid too long", "", func(c *peoplesoft.Charge) { c.EmplID = "123456789012" }, "EMPLID", peoplesoft.ErrFieldTooLong},
		{"ref too long", "", func(c *peoplesoft.Charge) { c.Ref = strings.Repeat("9", 31) }, "REF1_DESCR", peoplesoft.ErrFieldTooLong},
		{"amount too large", "", func(c *peoplesoft.Charge) { c.Amount = usd("123456789.00") }, "AMOUNT", peoplesoft.ErrFieldTooLong},
		{"newline in ref", "", func(c *peoplesoft.Charge) { c.Ref = "TX\n1" }, "REF1_DESCR", peoplesoft.ErrCharset},
		{"non-ASCII emplid", "", func(c *peoplesoft.Charge) { c.EmplID = "12345é" }, "EMPLID", peoplesoft.ErrCharset},
		{"tab in item type", "csv-charges.toml", func(c *peoplesoft.Charge) { c.ItemType = "3000\t0000001" }, "ITEM_TYPE", peoplesoft.ErrCharset},
		{"zero amount", "", func(c *peoplesoft.Charge) { c.Amount = usd("0") }, "AMOUNT", peoplesoft.ErrAmount},
		{"other currency", "", func(c *peoplesoft.Charge) { c.Amount = fees.MustParseMoney("1.00", "EUR") }, "AMOUNT", peoplesoft.ErrAmount},
		{"no emplid", "", func(c *peoplesoft.Charge) { c.EmplID = "" }, "EMPLID", peoplesoft.ErrMissing},
		{"no ref", "", func(c *peoplesoft.Charge) { c.Ref = "" }, "REF1_DESCR", peoplesoft.ErrMissing},
		{"term too long", "", func(c *peoplesoft.Charge) { c.Term = "20268" }, "ITEM_TERM", peoplesoft.ErrFieldTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := peoplesoft.ReferenceChargeLayout()
			if tt.layout != "" {
				l = loadLayout(t, tt.layout)
			}
			var buf bytes.Buffer
			enc := peoplesoft.NewChargeEncoder(&buf, l, created)
			bad := good
			tt.change(&bad)
			err := enc.Encode(bad)
			var ee *peoplesoft.EncodeError
			if !errors.As(err, &ee) || ee.Field != tt.field || !errors.Is(err, tt.cause) {
				t.Fatalf("Encode = %v; want an EncodeError on %s wrapping %v", err, tt.field, tt.cause)
			}
			// Nothing of the bad record is written, and the file goes on.
			if err := enc.Encode(good); err != nil {
				t.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			got, errs := decodeAllCharges(t, l, buf.Bytes())
			if len(errs) != 0 || len(got) != 1 {
				t.Errorf("decoded %d charges, errors %v; want 1, none", len(got), errs)
			}
		})
	}
}

// A description is free text: the rule keeps every column in place.
func TestChargeDescriptionRule(t *testing.T) {
	ch := mitCharges(t)[0]
	tests := []struct {
		layout, in, want string
	}{
		{"", "Café\tcrème", "Cafe creme"},
		{"", "line1\nline2", "line1 line2"},
		{"", "Łódź 東京", "?odz ??"},
		{"", strings.Repeat("x", 40), strings.Repeat("x", 30)},
		{"csv-charges.toml", "Café, \"crème\"\r\nbrûlée", "Café, \"crème\"  brûlée"},
	}
	for _, tt := range tests {
		l := peoplesoft.ReferenceChargeLayout()
		if tt.layout != "" {
			l = loadLayout(t, tt.layout)
		}
		ch.Description = tt.in
		got, errs := decodeAllCharges(t, l, encodeCharges(t, l, []peoplesoft.Charge{ch}))
		if len(errs) > 0 || len(got) != 1 {
			t.Fatalf("%q: %v", tt.in, errs)
		}
		if got[0].Description != tt.want {
			t.Errorf("%s: description %q came back as %q, want %q", l.Name, tt.in, got[0].Description, tt.want)
		}
	}
}

func TestChargeEncoderBadLayout(t *testing.T) {
	l := peoplesoft.ReferencePaymentLayout()
	enc := peoplesoft.NewChargeEncoder(&bytes.Buffer{}, l, created)
	if err := enc.Encode(mitCharges(t)[0]); !errors.Is(err, peoplesoft.ErrLayout) {
		t.Errorf("Encode with a payment layout = %v, want ErrLayout", err)
	}
	if err := enc.Close(); !errors.Is(err, peoplesoft.ErrLayout) {
		t.Errorf("Close = %v, want ErrLayout", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestChargeEncoderWriteError(t *testing.T) {
	enc := peoplesoft.NewChargeEncoder(&failWriter{n: 100}, peoplesoft.ReferenceChargeLayout(), created)
	for _, ch := range mitCharges(t) {
		if err := enc.Encode(ch); err != nil {
			t.Fatalf("Encode: %v (buffered: no error yet)", err)
		}
	}
	if err := enc.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close = %v, want the write error", err)
	}
}

// reference builds a reference charge file from detail lines.
func reference(details ...string) string {
	var b strings.Builder
	b.WriteString("H20261128180507LIBRARY   \n")
	for _, d := range details {
		b.WriteString(d + "\n")
	}
	return b.String()
}

const (
	d1 = "D12345678   300000000001+00000123.45226820261228" + "15216075630006761             " + "Overdue fine: Ecology of the s" + "ARC01"
	d2 = "D09876      300000000002-00000100.00226820261228" + "15216075700006761             " + "Credit                        " + "     "
)

func TestChargeDecoderBadInput(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		good  int    // charges decoded
		line  int    // line of the first error
		field string // field of the first error
		cause error  // of the first error
	}{
		{"short line", reference(d1[:100], d1, "T000000002+0000000123.45"), 1, 2, "", peoplesoft.ErrShortLine},
		{"long line", reference(d1+"X", d1, "T000000002+0000000123.45"), 1, 2, "", peoplesoft.ErrLongLine},
		{"bad amount", reference(strings.Replace(d1, "00000123.45", "0000012x.45", 1), "T000000001+0000000000.00"), 0, 2, "AMOUNT", peoplesoft.ErrAmount},
		{"amount with three decimals", reference(strings.Replace(d1, "00000123.45", "0000123.456", 1), "T000000001+0000000000.00"), 0, 2, "AMOUNT", peoplesoft.ErrAmount},
		{"bad sign", reference(strings.Replace(d1, "+00000123.45", " 00000123.45", 1), "T000000001+0000000000.00"), 0, 2, "AMOUNT", peoplesoft.ErrAmount},
		{"bad date", reference(strings.Replace(d1, "20261228", "20261328", 1), "T000000001+0000000123.45"), 0, 2, "DUE_DT", peoplesoft.ErrDate},
		{"bad record type", reference("X"+d1[1:], "T000000001+0000000000.00"), 0, 2, "RECORD_TYPE", peoplesoft.ErrConst},
		{"no emplid", reference(strings.Replace(d1, "12345678", "        ", 1), "T000000001+0000000000.00"), 0, 2, "EMPLID", peoplesoft.ErrMissing},
		{"trailer count disagrees", reference(d1, d2, "T000000003+0000000023.45"), 2, 4, "RECORD_COUNT", peoplesoft.ErrTrailerCount},
		{"trailer total disagrees", reference(d1, d2, "T000000002+0000000223.45"), 2, 4, "TOTAL", peoplesoft.ErrTrailerTotal},
		{"trailer total sign disagrees", reference(d1, d2, "T000000002-0000000023.45"), 2, 4, "TOTAL", peoplesoft.ErrTrailerTotal},
		{"no trailer", reference(d1, d2), 2, 3, "", peoplesoft.ErrTrailer},
		{"record after trailer", reference(d1, "T000000001+0000000123.45", d2), 1, 4, "", peoplesoft.ErrTrailer},
		{"no header", strings.TrimPrefix(reference(d1, "T000000001+0000000123.45"), "H20261128180507LIBRARY   \n"), 0, 1, "", peoplesoft.ErrHeader},
		{"bad header date", strings.Replace(reference(d1, "T000000001+0000000123.45"), "20261128", "20261199", 1), 0, 1, "CREATED_DATE", peoplesoft.ErrDate},
		{"empty file", "", 0, 0, "", peoplesoft.ErrHeader},
		{"bad trailer count", reference(d1, "T00000000x+0000000123.45"), 1, 3, "RECORD_COUNT", peoplesoft.ErrTrailer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := decodeAllCharges(t, peoplesoft.ReferenceChargeLayout(), []byte(tt.file))
			if len(got) != tt.good {
				t.Errorf("decoded %d charges, want %d", len(got), tt.good)
			}
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			var pe *peoplesoft.ParseError
			if !errors.As(errs[0], &pe) {
				t.Fatalf("error %v is not a *ParseError", errs[0])
			}
			if pe.Line != tt.line || pe.Field != tt.field || !errors.Is(pe, tt.cause) || pe.File != "charges.dat" {
				t.Errorf("first error %v: line %d, field %q; want line %d, field %q, cause %v", pe, pe.Line, pe.Field, tt.line, tt.field, tt.cause)
			}
		})
	}
}

func TestChargeDecoderCRLFAndBOM(t *testing.T) {
	file := reference(d1, d2, "T000000002+0000000023.45")
	for name, data := range map[string]string{
		"crlf": strings.ReplaceAll(file, "\n", "\r\n"),
		"bom":  "\uFEFF" + file,
	} {
		got, errs := decodeAllCharges(t, peoplesoft.ReferenceChargeLayout(), []byte(data))
		if len(errs) > 0 || len(got) != 2 {
			t.Errorf("%s: got %d charges, errors %v", name, len(got), errs)
		}
	}
}

func TestChargeDecoderValues(t *testing.T) {
	got, errs := decodeAllCharges(t, peoplesoft.ReferenceChargeLayout(), []byte(reference(d1, d2, "T000000002+0000000023.45")))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []peoplesoft.Charge{
		{EmplID: "12345678", ItemType: "300000000001", Amount: usd("123.45"), Term: "2268",
			DueDate: time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), Ref: "15216075630006761", Description: "Overdue fine: Ecology of the s",
			BusinessUnit: "ARC01"},
		{EmplID: "09876", ItemType: "300000000002", Amount: usd("-100.00"), Term: "2268",
			DueDate: time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), Ref: "15216075700006761", Description: "Credit"},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestChargeDecoderMaxBytes(t *testing.T) {
	data := encodeCharges(t, peoplesoft.ReferenceChargeLayout(), mitCharges(t))
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), peoplesoft.ReferenceChargeLayout(), &peoplesoft.DecodeOptions{MaxBytes: 200})
	var err error
	for range 20 {
		if _, err = dec.Decode(); err != nil && !errors.Is(err, peoplesoft.ErrShortLine) {
			break
		}
	}
	if !errors.Is(err, peoplesoft.ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

func TestChargeDecoderCreatedCSV(t *testing.T) {
	l := loadLayout(t, "csv-charges.toml")
	data := encodeCharges(t, l, mitCharges(t)[:1])
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), l, nil)
	if _, err := dec.Decode(); err != nil {
		t.Fatal(err)
	}
	if got := dec.Created(); !got.Equal(created) {
		t.Errorf("Created() = %v, want %v", got, created)
	}
}

// Two date fields in the same place of different records, with different
// formats, each keep their own.
func TestChargeEncoderDateFormatsPerRecord(t *testing.T) {
	l, err := peoplesoft.LoadLayout(strings.NewReader(`
kind = "charges"
format = "csv"
[header]
fields = [{ name = "T", const = "H" }, { name = "CREATED_DATE", format = "20060102" }]
[detail]
fields = [
  { name = "T", const = "D" }, { name = "DUE_DT", format = "01/02/06" },
  { name = "EMPLID" }, { name = "ITEM_TYPE" }, { name = "AMOUNT" }, { name = "REF1_DESCR" },
]
`))
	if err != nil {
		t.Fatal(err)
	}
	ch := mitCharges(t)[0]
	ch.DueDate = created
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, l, created)
	if err := enc.Encode(ch); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	want := "H,20261128\nD,11/28/26,12345678,300000000001,123.45,15216075630006761\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// A bad line right after the header still counts as a record, so the
// trailer's count agrees and only the bad line is reported.
func TestChargeDecoderCountsBadLines(t *testing.T) {
	file := reference(d1+strings.Repeat("x", 70000), d2, "T000000002-0000000100.00")
	got, errs := decodeAllCharges(t, peoplesoft.ReferenceChargeLayout(), []byte(file))
	if len(got) != 1 || len(errs) != 1 || !errors.Is(errs[0], peoplesoft.ErrLongLine) {
		t.Errorf("got %d charges, errors %v; want 1 and one ErrLongLine", len(got), errs)
	}
}

func TestChargeDecoderSignMarks(t *testing.T) {
	l := loadLayout(t, "csv-charges.toml")
	data := encodeCharges(t, l, withCredit(t))
	bad := bytes.Replace(data, []byte(",C,300.00,"), []byte(",X,300.00,"), 1)
	got, errs := decodeAllCharges(t, l, bad)
	if len(got) != 10 || len(errs) == 0 || !errors.Is(errs[0], peoplesoft.ErrAmount) || !strings.Contains(errs[0].Error(), `sign "X": want 'D' or 'C'`) {
		t.Errorf("got %d charges, errors %v", len(got), errs)
	}
}
