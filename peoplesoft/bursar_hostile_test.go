package peoplesoft_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/peoplesoft"
)

// bursarLayouts are the charge and payment layouts of the built-in
// bursars other than PeopleSoft, and their golden files, in the order
// FuzzBursarDecoders picks them.
func bursarLayouts(tb testing.TB) (layouts []*peoplesoft.Layout, files []string) {
	tb.Helper()
	for _, ob := range otherBursars {
		b, err := peoplesoft.BuiltinBursar(ob.name)
		if err != nil {
			tb.Fatal(err)
		}
		layouts = append(layouts, b.Charges, b.Payments)
		files = append(files, ob.charges, ob.payments)
	}
	return layouts, files
}

// FuzzBursarDecoders feeds the Banner and Colleague decoders arbitrary
// files. They must never panic nor loop, every error must be a
// *ParseError, every record read must be valid, and what was read must
// be written again in the same layout.
func FuzzBursarDecoders(f *testing.F) {
	layouts, files := bursarLayouts(f)
	for i, name := range files {
		data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		l := layouts[int(which)%len(layouts)]
		if l.Kind == peoplesoft.KindCharges {
			fuzzCharges(t, l, data)
		} else {
			fuzzPayments(t, l, data)
		}
	})
}

// fuzzCharges reads data as a charge file in l.
func fuzzCharges(t *testing.T, l *peoplesoft.Layout, data []byte) {
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), l, &peoplesoft.DecodeOptions{MaxBytes: 1 << 20})
	fuzzDrain(t, len(data)+2, func() error {
		ch, err := dec.Decode()
		if err != nil {
			return err
		}
		if ch.Amount.IsZero() || ch.EmplID == "" || ch.Ref == "" {
			t.Fatalf("decoded an invalid charge %+v", ch)
		}
		if err := peoplesoft.NewChargeEncoder(io.Discard, l, created).Encode(ch); err != nil {
			t.Fatalf("decoded charge %+v does not encode: %v", ch, err)
		}
		return nil
	})
}

// fuzzPayments reads data as a payment file in l.
func fuzzPayments(t *testing.T, l *peoplesoft.Layout, data []byte) {
	dec := peoplesoft.NewPaymentDecoder(bytes.NewReader(data), l, &peoplesoft.DecodeOptions{MaxBytes: 1 << 20})
	fuzzDrain(t, len(data)+2, func() error {
		p, err := dec.Decode()
		if err != nil {
			return err
		}
		if err := p.FeesPayment().Validate(); err != nil {
			t.Fatalf("decoded an invalid payment %+v: %v", p, err)
		}
		if err := peoplesoft.NewPaymentEncoder(io.Discard, l, created).Encode(p); err != nil {
			t.Fatalf("decoded payment %+v does not encode: %v", p, err)
		}
		return nil
	})
}

// fuzzDrain calls read, which decodes and checks one record, until it
// returns io.EOF or the same (sticky) error twice; every error must be a
// *ParseError, and there are never more than limit records.
func fuzzDrain(t *testing.T, limit int, read func() error) {
	var last error
	for range limit {
		err := read()
		switch {
		case err == io.EOF:
			return
		case err == nil:
			continue
		case !errors.As(err, new(*peoplesoft.ParseError)):
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		case err == last:
			return
		}
		last = err
	}
	t.Fatal("more records than bytes")
}

// TestBursarHostileFiles: each bad record of a Banner or Colleague file
// is an error on its own line, naming the field and the cause, and the
// records around it are still read; a file whose trailer disagrees is a
// whole-file error.
func TestBursarHostileFiles(t *testing.T) {
	banner, colleague := mustBursar(t, "banner"), mustBursar(t, "colleague")
	bannerPay := func(rows ...string) string {
		return strings.Join(rows, "\n") + "\n"
	}
	good := "P12345678 15216075630006761             LBOD0000001234520261201WCCRDE000104233  "
	tests := []struct {
		name    string
		l       *peoplesoft.Layout
		data    string
		read    int   // records read
		cause   error // of the first error
		field   string
		sticky  bool
		payment bool
	}{
		{"banner: a decimal point in a cents field", banner.Payments,
			bannerPay(strings.Replace(good, "00000012345", "000000123.4", 1), "T0000000010000000012345"), 0, peoplesoft.ErrAmount, "PAID_AMT", false, true},
		{"banner: a source code not in the layout", banner.Payments,
			bannerPay(strings.Replace(good, "WCCRD", "XCCRD", 1), "T0000000010000000012345"), 0, peoplesoft.ErrChannel, "CHANNEL", false, true},
		{"banner: a payment detail code not in the layout", banner.Payments,
			bannerPay(strings.Replace(good, "WCCRD", "WVISA", 1), "T0000000010000000012345"), 0, peoplesoft.ErrMethod, "METHOD", false, true},
		{"banner: a file cut short (the trailer counts two)", banner.Payments,
			bannerPay(good, "T0000000020000000024690"), 1, peoplesoft.ErrTrailerCount, "RECORD_COUNT", true, true},
		{"banner: no trailer", banner.Payments, bannerPay(good), 1, peoplesoft.ErrTrailer, "", true, true},
		{"banner: a record one column short", banner.Payments,
			bannerPay(good[:len(good)-1], "T0000000010000000012345"), 0, peoplesoft.ErrShortLine, "", false, true},
		{"banner: a tab in the ID", banner.Charges,
			"H20261128180507LIBRARY   \nD1234\t678 202630LBOD+000000123452026122815216075630006761             Overdue fine: Ecology of the s\nT000000001+00000000012345\n",
			0, peoplesoft.ErrCharset, "EMPLID", false, false},
		{"colleague: an amount with a point", colleague.Payments,
			"12345678,01,123.45,12/01/26,CC,R1,TXN1,LIBOD,WEB\n12345678,01,500,12/01/26,CC,R2,TXN2,LIBOD,WEB\n", 1, peoplesoft.ErrAmount, "PAID_AMT", false, true},
		{"colleague: a day that does not exist", colleague.Payments,
			"12345678,01,500,02/30/26,CC,R1,TXN1,LIBOD,WEB\n", 0, peoplesoft.ErrDate, "PAID_DATE", false, true},
		{"colleague: another AR type", colleague.Payments,
			"12345678,02,500,12/01/26,CC,R1,TXN1,LIBOD,WEB\n", 0, peoplesoft.ErrConst, "AR_TYPE", false, true},
		{"colleague: a quoted comma does not shift a column", colleague.Payments,
			"12345678,01,500,12/01/26,CC,\"R1,WEB\",TXN1,LIBOD,WEB\n", 1, nil, "", false, true},
		{"colleague: a column too many", colleague.Payments,
			"12345678,01,500,12/01/26,CC,R1,TXN1,LIBOD,WEB,EXTRA\n", 0, peoplesoft.ErrFieldCount, "", false, true},
		{"colleague: charges whose trailer total disagrees", colleague.Charges,
			"01,12345678,26/FA,LIBOD,12345,12/28/26,15216075630006761,Overdue fine\nTRAILER,1,12346\n", 1, peoplesoft.ErrTrailerTotal, "TOTAL", true, false},
		{"colleague: a row after the trailer", colleague.Charges,
			"01,12345678,26/FA,LIBOD,12345,12/28/26,1521,x\nTRAILER,1,12345\n01,1,26/FA,LIBOD,1,12/28/26,1522,y\n", 1, peoplesoft.ErrTrailer, "", true, false},
	}
	for _, tt := range tests {
		var n int
		var errs []error
		if tt.payment {
			got, e := decodeAllPayments(t, tt.l, []byte(tt.data), nil)
			n, errs = len(got), e
		} else {
			got, e := decodeAllCharges(t, tt.l, []byte(tt.data))
			n, errs = len(got), e
		}
		if n != tt.read {
			t.Errorf("%s: read %d records, want %d (errors %v)", tt.name, n, tt.read, errs)
		}
		if tt.cause == nil {
			if len(errs) > 0 {
				t.Errorf("%s: errors %v", tt.name, errs)
			}
			continue
		}
		if len(errs) == 0 {
			t.Errorf("%s: no error, want %v", tt.name, tt.cause)
			continue
		}
		err := errs[0]
		var pe *peoplesoft.ParseError
		if !errors.Is(err, tt.cause) || !errors.As(err, &pe) || pe.Field != tt.field || peoplesoft.IsFileError(err) != tt.sticky {
			t.Errorf("%s: error %v (file error %v), want %v on field %q (file error %v)", tt.name, err, peoplesoft.IsFileError(err), tt.cause, tt.field, tt.sticky)
		}
	}
}
