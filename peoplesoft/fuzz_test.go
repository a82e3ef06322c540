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

// FuzzPaymentDecoder feeds the decoder arbitrary files. It must never
// panic nor loop, every error must be a *ParseError, and every payment it
// returns must be valid by the domain's rules and survive a round trip
// through the encoder.
func FuzzPaymentDecoder(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "payments", "*.csv"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(payFile(goodRow, strings.Replace(goodRow, "C1", "C2", 1)))
	l := peoplesoft.ReferencePaymentLayout()
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := peoplesoft.NewPaymentDecoder(bytes.NewReader(data), l, &peoplesoft.DecodeOptions{MaxBytes: 1 << 20})
		var got []peoplesoft.Payment
		var last error
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("more records than bytes")
			}
			p, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *peoplesoft.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v (%T) is not a *ParseError", err, err)
				}
				if err == last {
					break // sticky
				}
				last = err
				continue
			}
			if err := p.FeesPayment().Validate(); err != nil {
				t.Fatalf("decoded an invalid payment %+v: %v", p, err)
			}
			got = append(got, p)
		}
		if len(got) == 0 {
			return
		}
		var buf bytes.Buffer
		enc := peoplesoft.NewPaymentEncoder(&buf, l, created)
		for _, p := range got {
			if err := enc.Encode(p); err != nil {
				t.Fatalf("decoded payment %+v does not encode: %v", p, err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		again, errs := decodeAllPayments(t, l, buf.Bytes(), nil)
		if len(errs) > 0 || len(again) != len(got) {
			t.Fatalf("re-decoding %q: %d payments, errors %v; want %d", buf.Bytes(), len(again), errs, len(got))
		}
		for i := range got {
			a, b := got[i], again[i]
			if a.Key() != b.Key() || !a.PaidAmt.Equal(b.PaidAmt) || !a.PaidDate.Equal(b.PaidDate) || a.EmplID != b.EmplID {
				t.Fatalf("round trip changed %+v into %+v", a, b)
			}
		}
	})
}

// FuzzChargeDecoder does the same for charge files in the reference
// layout and the two layouts of testdata/layouts.
func FuzzChargeDecoder(f *testing.F) {
	layouts := []*peoplesoft.Layout{peoplesoft.ReferenceChargeLayout()}
	for _, name := range []string{"csv-charges.toml", "implied-charges.toml"} {
		l, err := peoplesoft.LoadLayoutFile(filepath.Join("testdata", "layouts", name))
		if err != nil {
			f.Fatal(err)
		}
		layouts = append(layouts, l)
	}
	for i, name := range []string{"reference-charges-credit.dat", "csv-charges.dat", "implied-charges.dat"} {
		data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		l := layouts[int(which)%len(layouts)]
		dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), l, nil)
		var last error
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("more records than bytes")
			}
			ch, err := dec.Decode()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.As(err, new(*peoplesoft.ParseError)) {
					t.Fatalf("error %v (%T) is not a *ParseError", err, err)
				}
				if err == last {
					return
				}
				last = err
				continue
			}
			if ch.Amount.IsZero() || ch.EmplID == "" || ch.Ref == "" {
				t.Fatalf("decoded an invalid charge %+v", ch)
			}
			// What was read can be written again in the same layout.
			if err := peoplesoft.NewChargeEncoder(io.Discard, l, created).Encode(ch); err != nil {
				t.Fatalf("decoded charge %+v does not encode: %v", ch, err)
			}
		}
	})
}
