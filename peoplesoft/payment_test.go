package peoplesoft_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// samplePayments are the payments of testdata/payments/eservices-and-cashier.csv.
func samplePayments() []peoplesoft.Payment {
	return []peoplesoft.Payment{
		{EmplID: "12345678", Ref: "15216075630006761", ItemType: "300000000001", ChargeAmt: usd("123.45"), PaidAmt: usd("123.45"),
			PaidDate: day(2026, 12, 1), Channel: fees.ChannelEServices, Method: fees.MethodCreditCard, Receipt: "E000104233", Line: 2},
		{EmplID: "12345678", Ref: "15216075640006761", ItemType: "300000000001", ChargeAmt: usd("0.82"), PaidAmt: usd("0.82"),
			PaidDate: day(2026, 12, 1), Channel: fees.ChannelEServices, Method: fees.MethodCreditCard, Receipt: "E000104233", Line: 3},
		{EmplID: "09876", Ref: "15216075700006761", ItemType: "300000000002", ChargeAmt: usd("100.00"), PaidAmt: usd("40.00"),
			PaidDate: day(2026, 12, 2), Channel: fees.ChannelCashier, Method: fees.MethodCash, Receipt: "C000200017", Line: 4},
		{EmplID: "09876", Ref: "15216075700006761", ItemType: "300000000002", ChargeAmt: usd("100.00"), PaidAmt: usd("60.00"),
			PaidDate: day(2026, 12, 9), Channel: fees.ChannelCashier, Method: fees.MethodCheck, Receipt: "C000200145", Line: 5},
	}
}

func encodePayments(t testing.TB, l *peoplesoft.Layout, ps []peoplesoft.Payment) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := peoplesoft.NewPaymentEncoder(&buf, l, created)
	for _, p := range ps {
		if err := enc.Encode(p); err != nil {
			t.Fatalf("Encode(%s): %v", p.Key(), err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoldenReferencePayments(t *testing.T) {
	got := encodePayments(t, peoplesoft.ReferencePaymentLayout(), samplePayments())
	want, err := os.ReadFile(filepath.Join("testdata", "payments", "eservices-and-cashier.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestPaymentDecoderFiles(t *testing.T) {
	tests := []struct {
		file string
		want []peoplesoft.Payment
	}{
		{"eservices-and-cashier.csv", samplePayments()},
		{"bom-crlf-quoted.csv", []peoplesoft.Payment{
			{EmplID: "12345678", Ref: "15216075490006761", ItemType: "300000000002", ChargeAmt: usd("300.00"), PaidAmt: usd("300.00"),
				PaidDate: day(2026, 12, 3), Channel: fees.ChannelCashier, Method: fees.MethodCreditCard, Receipt: "C000200031", Line: 2},
		}},
		{"reordered-columns.csv", []peoplesoft.Payment{
			{EmplID: "09876", Ref: "15216075690006761", ItemType: "300000000001", ChargeAmt: usd("14.00"), PaidAmt: usd("5.00"),
				PaidDate: day(2026, 12, 4), Channel: fees.ChannelCashier, Method: fees.MethodCash, Receipt: "C0002,00040", Line: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "payments", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// fixedPayments is a fixed-width payment layout with a trailer, to show
// the model's reach and to test trailer checks on payment files.
const fixedPayments = `
name = "fixed payments"
kind = "payments"
format = "fixed"
[detail]
fields = [
  { name = "RECORD_TYPE", start = 1, length = 1, const = "P" },
  { name = "EMPLID", start = 2, length = 11 },
  { name = "REF1_DESCR", start = 13, length = 30 },
  { name = "PAID_AMT", start = 43, length = 9, implied_decimal = true, sign = "none" },
  { name = "PAID_DATE", start = 52, length = 8, format = "20060102" },
  { name = "CHANNEL", start = 60, length = 9 },
  { name = "METHOD", start = 69, length = 11 },
  { name = "RECEIPT_NBR", start = 80, length = 12 },
]
[trailer]
fields = [
  { name = "RECORD_TYPE", start = 1, length = 1, const = "Z" },
  { name = "RECORD_COUNT", start = 2, length = 6 },
  { name = "TOTAL", start = 8, length = 12, sign = "none" },
]
`

func TestPaymentRoundTrip(t *testing.T) {
	fixed, err := peoplesoft.LoadLayout(strings.NewReader(fixedPayments))
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*peoplesoft.Layout{"reference": peoplesoft.ReferencePaymentLayout(), "fixed": fixed} {
		t.Run(name, func(t *testing.T) {
			in := samplePayments()
			data := encodePayments(t, l, in)
			got, errs := decodeAllPayments(t, l, data, nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if name == "fixed" {
				for i := range in {
					in[i].ItemType, in[i].ChargeAmt, in[i].Line = "", fees.Money{}, i+1
				}
				if !bytes.HasSuffix(data, []byte("Z000004000000224.27\n")) {
					t.Errorf("trailer: %q", data)
				}
			}
			if diff := cmp.Diff(in, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

const payHeader = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"

func payFile(rows ...string) []byte { return []byte(payHeader + strings.Join(rows, "\n") + "\n") }

const goodRow = "09876,TX1,300000000002,100.00,40.00,2026-12-02,CASHIER,CASH,C1"

func TestPaymentDecoderBadInput(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		good  int
		line  int
		field string
		cause error
	}{
		{"bad amount", payFile(strings.Replace(goodRow, "40.00", "40.0.0", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"amount with 3 decimals", payFile(strings.Replace(goodRow, "40.00", "40.001", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"negative amount", payFile(strings.Replace(goodRow, "40.00", "-40.00", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"zero amount", payFile(strings.Replace(goodRow, "40.00", "0.00", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"amount with a space", payFile(strings.Replace(goodRow, "40.00", " 40.00", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"paid above the charge", payFile(strings.Replace(goodRow, "40.00", "140.00", 1), goodRow), 1, 2, "PAID_AMT", peoplesoft.ErrAmount},
		{"bad date", payFile(strings.Replace(goodRow, "2026-12-02", "12/02/2026", 1), goodRow), 1, 2, "PAID_DATE", peoplesoft.ErrDate},
		{"impossible date", payFile(strings.Replace(goodRow, "2026-12-02", "2026-02-30", 1), goodRow), 1, 2, "PAID_DATE", peoplesoft.ErrDate},
		{"unknown channel", payFile(strings.Replace(goodRow, "CASHIER", "KIOSK", 1), goodRow), 1, 2, "CHANNEL", peoplesoft.ErrChannel},
		{"library channel", payFile(strings.Replace(goodRow, "CASHIER", "LIBRARY", 1), goodRow), 1, 2, "CHANNEL", peoplesoft.ErrChannel},
		{"unknown method", payFile(strings.Replace(goodRow, "CASH,", "BITCOIN,", 1), goodRow), 1, 2, "METHOD", peoplesoft.ErrMethod},
		{"eservices by cash", payFile(strings.Replace(goodRow, "CASHIER", "ESERVICES", 1), goodRow), 1, 2, "METHOD", peoplesoft.ErrMethod},
		{"duplicate receipt", payFile(goodRow, "09876,TX2,300000000002,100.00,40.00,2026-12-02,CASHIER,CASH,C1", goodRow), 2, 4, "RECEIPT_NBR", peoplesoft.ErrDuplicate},
		{"no receipt", payFile(strings.TrimSuffix(goodRow, "C1"), goodRow), 1, 2, "RECEIPT_NBR", peoplesoft.ErrMissing},
		{"too few fields", payFile("09876,TX1,300000000002,100.00,40.00", goodRow), 1, 2, "", peoplesoft.ErrFieldCount},
		{"too many fields", payFile(goodRow+",X", goodRow), 1, 2, "", peoplesoft.ErrFieldCount},
		{"bare quote", payFile(`09876,TX"1,300000000002,100.00,40.00,2026-12-02,CASHIER,CASH,C9`, goodRow), 1, 2, "", peoplesoft.ErrSyntax},
		{"emplid too long", payFile(strings.Replace(goodRow, "09876", "123456789012", 1), goodRow), 1, 2, "EMPLID", peoplesoft.ErrFieldTooLong},
		{"missing column", []byte("EMPLID,REF1_DESCR,PAID_AMT\n1,2,3\n"), 0, 1, "", peoplesoft.ErrHeader},
		{"empty file", nil, 0, 0, "", peoplesoft.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), tt.data, nil)
			if len(got) != tt.good {
				t.Errorf("decoded %d payments, want %d (errors %v)", len(got), tt.good, errs)
			}
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			var pe *peoplesoft.ParseError
			if !errors.As(errs[0], &pe) {
				t.Fatalf("error %v is not a *ParseError", errs[0])
			}
			if pe.Line != tt.line || pe.Field != tt.field || !errors.Is(pe, tt.cause) || pe.File != "payments.csv" {
				t.Errorf("first error %v: line %d, field %q; want line %d, field %q, cause %v", pe, pe.Line, pe.Field, tt.line, tt.field, tt.cause)
			}
		})
	}
}

// TestPaymentSharedReference pays, on one receipt, two charges that share
// a REF1_DESCR but not an ITEM_TYPE (Alma gave their fees one bursar
// transaction id): both are payments with keys of their own. The same
// receipt, reference and item type twice is still a duplicate.
func TestPaymentSharedReference(t *testing.T) {
	other := strings.Replace(goodRow, "300000000002", "300000000003", 1)
	got, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), payFile(goodRow, other, goodRow), nil)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key())
	}
	if diff := cmp.Diff([]string{"C1/TX1/300000000002", "C1/TX1/300000000003"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if len(errs) != 1 || !errors.Is(errs[0], peoplesoft.ErrDuplicate) {
		t.Errorf("errors %v, want one duplicate", errs)
	}
	// AllowDuplicates leaves repeats to the caller: all three are read.
	got, errs = decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), payFile(goodRow, other, goodRow),
		&peoplesoft.DecodeOptions{AllowDuplicates: true})
	if len(got) != 3 || len(errs) != 0 || got[0].Key() != got[2].Key() {
		t.Errorf("AllowDuplicates: %d payments, errors %v", len(got), errs)
	}
}

func TestPaymentDecoderFixedTrailer(t *testing.T) {
	fixed, err := peoplesoft.LoadLayout(strings.NewReader(fixedPayments))
	if err != nil {
		t.Fatal(err)
	}
	data := encodePayments(t, fixed, samplePayments())
	tests := []struct {
		name  string
		data  []byte
		cause error
	}{
		{"count disagrees", bytes.Replace(data, []byte("Z000004"), []byte("Z000005"), 1), peoplesoft.ErrTrailerCount},
		{"total disagrees", bytes.Replace(data, []byte("000000224.27"), []byte("000000224.28"), 1), peoplesoft.ErrTrailerTotal},
		{"cut short", data[:bytes.LastIndex(data, []byte("Z"))], peoplesoft.ErrTrailer},
		{"short line", bytes.Replace(data, []byte("E000104233  \n"), []byte("E000104233\n"), 1), peoplesoft.ErrShortLine},
		{"long line", bytes.Replace(data, []byte("E000104233  \n"), []byte("E000104233    \n"), 1), peoplesoft.ErrLongLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := decodeAllPayments(t, fixed, tt.data, nil)
			if len(errs) == 0 || !errors.Is(errs[0], tt.cause) {
				t.Errorf("errors %v, want %v first", errs, tt.cause)
			}
		})
	}
}

func TestPaymentDecoderKeepsGoing(t *testing.T) {
	data := payFile(goodRow,
		strings.Replace(goodRow, "C1", "C2", 1)+"X,Y",
		strings.Replace(strings.Replace(goodRow, "C1", "C3", 1), "CASHIER", "X", 1),
		strings.Replace(goodRow, "C1", "C4", 1))
	got, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, nil)
	if len(got) != 2 || len(errs) != 2 {
		t.Fatalf("got %d payments and errors %v; want 2 and 2", len(got), errs)
	}
	if got[0].Receipt != "C1" || got[1].Receipt != "C4" || got[1].Line != 5 {
		t.Errorf("got %+v", got)
	}
}

func TestPaymentDecoderMaxBytes(t *testing.T) {
	var rows []string
	for i := range 2000 {
		rows = append(rows, strings.Replace(goodRow, "C1", fmt.Sprintf("C%06d", i), 1))
	}
	data := payFile(rows...)
	_, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, &peoplesoft.DecodeOptions{MaxBytes: 10000, File: "big.csv"})
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], peoplesoft.ErrTooLarge) {
		t.Fatalf("errors %v; want ErrTooLarge last", errs)
	}
	if !strings.Contains(errs[len(errs)-1].Error(), "big.csv") {
		t.Errorf("error %q does not name the file", errs[len(errs)-1])
	}
}

func TestPaymentEncoderRejects(t *testing.T) {
	good := samplePayments()[2]
	tests := []struct {
		name   string
		change func(*peoplesoft.Payment)
		field  string
		cause  error
	}{
		{"emplid too long", func(p *peoplesoft.Payment) { p.EmplID = "123456789012" }, "EMPLID", peoplesoft.ErrFieldTooLong},
		{"zero paid", func(p *peoplesoft.Payment) { p.PaidAmt = usd("0") }, "PAID_AMT", peoplesoft.ErrAmount},
		{"library channel", func(p *peoplesoft.Payment) { p.Channel = fees.ChannelLibrary }, "CHANNEL", peoplesoft.ErrChannel},
		{"no method", func(p *peoplesoft.Payment) { p.Method = 0 }, "METHOD", peoplesoft.ErrMethod},
		{"no date", func(p *peoplesoft.Payment) { p.PaidDate = time.Time{} }, "PAID_DATE", peoplesoft.ErrMissing},
		{"newline in receipt", func(p *peoplesoft.Payment) { p.Receipt = "C\n1" }, "RECEIPT_NBR", peoplesoft.ErrCharset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := peoplesoft.NewPaymentEncoder(&buf, peoplesoft.ReferencePaymentLayout(), created)
			bad := good
			tt.change(&bad)
			err := enc.Encode(bad)
			var ee *peoplesoft.EncodeError
			if !errors.As(err, &ee) || ee.Field != tt.field || !errors.Is(err, tt.cause) {
				t.Fatalf("Encode = %v; want an EncodeError on %s wrapping %v", err, tt.field, tt.cause)
			}
		})
	}
	t.Run("duplicate key", func(t *testing.T) {
		enc := peoplesoft.NewPaymentEncoder(&bytes.Buffer{}, peoplesoft.ReferencePaymentLayout(), created)
		if err := enc.Encode(good); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(good); !errors.Is(err, peoplesoft.ErrDuplicate) {
			t.Errorf("second Encode = %v, want ErrDuplicate", err)
		}
		if enc.Count() != 1 || !enc.Total().Equal(good.PaidAmt) {
			t.Errorf("Count, Total = %d, %s", enc.Count(), enc.Total())
		}
	})
}

func TestPaymentFeesPayment(t *testing.T) {
	p := samplePayments()[2]
	got := p.FeesPayment()
	want := fees.Payment{Key: "C000200017/15216075700006761/300000000002", TransactionID: "15216075700006761", UserID: "09876",
		Amount: usd("40.00"), Channel: fees.ChannelCashier, Method: fees.MethodCash, Receipt: "C000200017", Date: day(2026, 12, 2)}
	if diff := cmp.Diff(want, got, cmp.Comparer(fees.Money.Equal)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPaymentDecoderCurrency(t *testing.T) {
	data := payFile(goodRow)
	got, errs := decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, &peoplesoft.DecodeOptions{Currency: "EUR"})
	if len(errs) > 0 || len(got) != 1 || !got[0].PaidAmt.Equal(fees.MustParseMoney("40.00", "EUR")) {
		t.Fatalf("got %+v, %v", got, errs)
	}
	_, errs = decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, &peoplesoft.DecodeOptions{Currency: "XYZ"})
	if len(errs) == 0 || !errors.Is(errs[0], peoplesoft.ErrLayout) {
		t.Errorf("unknown currency: %v", errs)
	}
	// Yen have no minor units: "40.00" is refused.
	_, errs = decodeAllPayments(t, peoplesoft.ReferencePaymentLayout(), data, &peoplesoft.DecodeOptions{Currency: "JPY"})
	if len(errs) == 0 || !errors.Is(errs[0], peoplesoft.ErrAmount) {
		t.Errorf("JPY: %v", errs)
	}
}

func TestIsFileError(t *testing.T) {
	fixed, err := peoplesoft.LoadLayout(strings.NewReader(fixedPayments))
	if err != nil {
		t.Fatal(err)
	}
	data := encodePayments(t, fixed, samplePayments())
	bad := bytes.Replace(data, []byte("000000224.27"), []byte("000000224.28"), 1)
	bad = bytes.Replace(bad, []byte("CASHIER  CASH"), []byte("KIOSK    CASH"), 1)
	_, errs := decodeAllPayments(t, fixed, bad, nil)
	if len(errs) != 2 || peoplesoft.IsFileError(errs[0]) || !peoplesoft.IsFileError(errs[1]) {
		t.Errorf("errors %v: want a record error, then a file error", errs)
	}
	enc := peoplesoft.NewPaymentDecoder(bytes.NewReader(data), &peoplesoft.Layout{}, nil)
	if _, err := enc.Decode(); !peoplesoft.IsFileError(err) {
		t.Errorf("invalid layout: %v is not a file error", err)
	}
	if peoplesoft.IsFileError(io.EOF) || peoplesoft.IsFileError(nil) {
		t.Error("io.EOF or nil taken for a file error")
	}
}
