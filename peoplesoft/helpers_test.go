package peoplesoft_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// mitFee is one fee of the MIT bursar export fixture (see
// testdata/PROVENANCE.md).
type mitFee struct {
	user, typ, amount, txn, title string
}

var mitFees = []mitFee{
	{"12345678", "OVERDUEFINE", "123.45", "15216075630006761", "Ecology of the saguaro /"},
	{"12345678", "OVERDUEFINE", "0.82", "15216075640006761", "Ecology of the saguaro /"},
	{"12345678", "LOSTITEMREPLACEMENTFEE", "300", "15216075490006761", "The Rough-Stuff Fellowship archive /"},
	{"12345678", "OVERDUEFINE", "1.45", "15216075650006761", "The Rough-Stuff Fellowship archive /"},
	{"09876", "LOSTITEMREPLACEMENTFEE", "100", "15216075700006761", "Case studies of child play areas and child support facilities"},
	{"09876", "OVERDUEFINE", "14", "15216075690006761", "Case studies of child play areas and child support facilities"},
	{"09876", "OTHER", "10", "15216075690006761", "Case studies of child play areas and child support facilities"},
	{"09876", "DAMAGEDITEMFINE", "10", "15216075690006761", "Case studies of child play areas and child support facilities"},
	{"09876", "RECALLEDOVERDUEFINE", "10", "15216075690006761", "Case studies of child play areas and child support facilities"},
	{"09876", "LOSTITEMPROCESSFEE", "10", "15216075690006761", "Case studies of child play areas and child support facilities"},
}

// The clock of the golden files: the charges job on 2026-11-28 at 18:05.
var (
	asOf    = time.Date(2026, 11, 28, 18, 5, 0, 0, time.UTC)
	created = time.Date(2026, 11, 28, 18, 5, 7, 0, time.UTC)
)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// mitCharges maps the MIT fees to charges with the default mapping.
func mitCharges(t testing.TB) []peoplesoft.Charge {
	t.Helper()
	m := peoplesoft.DefaultMapping()
	var out []peoplesoft.Charge
	for i, mf := range mitFees {
		f, err := fees.NewFee(mf.txn+"-"+string(rune('a'+i)), fees.Type(mf.typ), mf.user, usd(mf.amount), asOf)
		if err != nil {
			t.Fatal(err)
		}
		f.TransactionID = mf.txn
		f.Item.Title = mf.title
		ch, err := m.ChargeFor(*f, asOf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ch)
	}
	return out
}

// encodeCharges writes charges in layout l and returns the file.
func encodeCharges(t testing.TB, l *peoplesoft.Layout, charges []peoplesoft.Charge) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := peoplesoft.NewChargeEncoder(&buf, l, created)
	for _, ch := range charges {
		if err := enc.Encode(ch); err != nil {
			t.Fatalf("Encode(%s): %v", ch.Ref, err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// decodeAllCharges reads a whole charge file and returns the charges and
// every error met (record errors, then the sticky one if any).
func decodeAllCharges(t testing.TB, l *peoplesoft.Layout, data []byte) ([]peoplesoft.Charge, []error) {
	t.Helper()
	dec := peoplesoft.NewChargeDecoder(bytes.NewReader(data), l, &peoplesoft.DecodeOptions{File: "charges.dat"})
	var out []peoplesoft.Charge
	var errs []error
	for range 10000 {
		ch, err := dec.Decode()
		if err == io.EOF {
			return out, errs
		}
		if err != nil {
			errs = append(errs, err)
			if isSticky(err, errs) {
				return out, errs[:len(errs)-1]
			}
			continue
		}
		out = append(out, ch)
	}
	t.Fatal("decoder does not end")
	return nil, nil
}

// decodeAllPayments reads a whole payment file like decodeAllCharges.
func decodeAllPayments(t testing.TB, l *peoplesoft.Layout, data []byte, opts *peoplesoft.DecodeOptions) ([]peoplesoft.Payment, []error) {
	t.Helper()
	if opts == nil {
		opts = &peoplesoft.DecodeOptions{File: "payments.csv"}
	}
	dec := peoplesoft.NewPaymentDecoder(bytes.NewReader(data), l, opts)
	var out []peoplesoft.Payment
	var errs []error
	for range 10000 {
		p, err := dec.Decode()
		if err == io.EOF {
			return out, errs
		}
		if err != nil {
			errs = append(errs, err)
			if isSticky(err, errs) {
				return out, errs[:len(errs)-1]
			}
			continue
		}
		out = append(out, p)
	}
	t.Fatal("decoder does not end")
	return nil, nil
}

// isSticky reports whether err came twice in a row: a sticky error is
// returned by every call.
func isSticky(err error, errs []error) bool {
	return len(errs) >= 2 && errs[len(errs)-2] == err
}

func loadLayout(t testing.TB, name string) *peoplesoft.Layout {
	t.Helper()
	l, err := peoplesoft.LoadLayoutFile(filepath.Join("testdata", "layouts", name))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func causeOf(err error, causes ...error) error {
	for _, c := range causes {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
