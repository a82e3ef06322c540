package peoplesoft_test

import (
	"bytes"
	"errors"
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

// decodeResults reads every result of data in layout l, with the errors
// of bad records apart; a file error stops it.
func decodeResults(t *testing.T, data string, l *peoplesoft.Layout) (got []peoplesoft.Result, errs []error, fileErr error) {
	t.Helper()
	dec := peoplesoft.NewResultDecoder(strings.NewReader(data), l, &peoplesoft.DecodeOptions{File: "results.csv"})
	for range 1000 {
		r, err := dec.Decode()
		switch {
		case err == io.EOF:
			return got, errs, nil
		case peoplesoft.IsFileError(err):
			return got, errs, err
		case err != nil:
			errs = append(errs, err)
		default:
			got = append(got, r)
		}
	}
	t.Fatal("the decoder does not end")
	return
}

func TestResultDecoderReadsPostedAndRefused(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "results", "posted-and-refused.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got, errs, fileErr := decodeResults(t, string(data), peoplesoft.ReferenceResultLayout())
	if fileErr != nil || len(errs) > 0 {
		t.Fatalf("file error %v, record errors %v", fileErr, errs)
	}
	want := []peoplesoft.Result{
		{Ref: "15216075630006761", ItemType: "300000000001", EmplID: "12345678", Amount: fees.MustParseMoney("123.45", fees.USD), Line: 2},
		{Ref: "15216075700006761", ItemType: "300000000002", EmplID: "09876", Amount: fees.MustParseMoney("25.00", fees.USD), Refused: true, Message: "Invalid Employee ID", Line: 3},
		{Ref: "15216075700006761", ItemType: "300000000003", EmplID: "09876", Amount: fees.MustParseMoney("10.00", fees.USD), Refused: true, Message: "Invalid Item Type", Line: 4},
		{Ref: "15216075630006761", ItemType: "300000000001", EmplID: "12345678", Amount: fees.MustParseMoney("-23.45", fees.USD), Refused: true, Message: "Cannot reverse this charge, no matching charge", Line: 5},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !got[3].Credit() || got[0].Credit() {
		t.Errorf("Credit: line 5 is a credit, line 2 is not")
	}
}

func TestResultDecoderColumnsByName(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "results", "reordered-columns.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got, errs, fileErr := decodeResults(t, string(data), peoplesoft.ReferenceResultLayout())
	if fileErr != nil || len(errs) > 0 || len(got) != 1 {
		t.Fatalf("got %v, record errors %v, file error %v", got, errs, fileErr)
	}
	if r := got[0]; !r.Refused || r.Message != "Invalid Employee ID, student not in SF" || r.Ref != "15216075700006761" || !r.Credit() {
		t.Errorf("got %+v", r)
	}
}

// Hostile and broken results files: each bad line is an error naming the
// file, line and field, and the lines after it are still read; a trailer
// that disagrees fails the whole file.
func TestResultDecoderHostile(t *testing.T) {
	const head = "REF1_DESCR,ITEM_TYPE,EMPLID,AMOUNT,STATUS,MESSAGE\n"
	const good = "R2,300000000001,1,1.00,POSTED,\n"
	tests := []struct {
		name, line string
		cause      error
		want       string // in the message
	}{
		{"unknown status", "R1,300000000001,1,1.00,MAYBE,x\n", peoplesoft.ErrStatus, `results.csv:2: STATUS: unknown status: "MAYBE"`},
		{"empty status", "R1,300000000001,1,1.00,,x\n", peoplesoft.ErrStatus, "results.csv:2: STATUS"},
		{"no reference", ",300000000001,1,1.00,ERROR,x\n", peoplesoft.ErrMissing, "results.csv:2: REF1_DESCR"},
		{"no item type", "R1,,1,1.00,ERROR,x\n", peoplesoft.ErrMissing, "results.csv:2: ITEM_TYPE"},
		{"bad amount", "R1,300000000001,1,1.005,ERROR,x\n", peoplesoft.ErrAmount, "results.csv:2: AMOUNT"},
		{"float amount", "R1,300000000001,1,1e3,ERROR,x\n", peoplesoft.ErrAmount, "results.csv:2: AMOUNT"},
		{"control character in a key", "R\x001,300000000001,1,1.00,ERROR,x\n", peoplesoft.ErrCharset, "results.csv:2: REF1_DESCR"},
		{"too many fields", "R1,300000000001,1,1.00,ERROR,x,y\n", peoplesoft.ErrFieldCount, "results.csv:2"},
		{"reference too long", strings.Repeat("9", 31) + ",300000000001,1,1.00,ERROR,x\n", peoplesoft.ErrFieldTooLong, "results.csv:2: REF1_DESCR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs, fileErr := decodeResults(t, head+tt.line+good, peoplesoft.ReferenceResultLayout())
			if fileErr != nil {
				t.Fatalf("file error: %v", fileErr)
			}
			if len(errs) != 1 || !errors.Is(errs[0], tt.cause) || !strings.Contains(errs[0].Error(), tt.want) {
				t.Fatalf("errors %v: want one wrapping %v and saying %q", errs, tt.cause, tt.want)
			}
			if len(got) != 1 || got[0].Ref != "R2" {
				t.Errorf("the line after the bad one: got %+v", got)
			}
		})
	}
	_, _, fileErr := decodeResults(t, head+good+"TRAILER,2,1.00\n", peoplesoft.ReferenceResultLayout())
	if !errors.Is(fileErr, peoplesoft.ErrTrailerCount) {
		t.Errorf("a trailer counting 2 lines of 1: %v, want ErrTrailerCount", fileErr)
	}
	_, _, fileErr = decodeResults(t, head+good+"TRAILER,1,9.00\n", peoplesoft.ReferenceResultLayout())
	if !errors.Is(fileErr, peoplesoft.ErrTrailerTotal) {
		t.Errorf("a trailer total of 9.00 for 1.00: %v, want ErrTrailerTotal", fileErr)
	}
	dec := peoplesoft.NewResultDecoder(strings.NewReader(head+strings.Repeat(good, 100)), peoplesoft.ReferenceResultLayout(),
		&peoplesoft.DecodeOptions{MaxBytes: 256})
	var err error
	for range 200 {
		if _, err = dec.Decode(); err == io.EOF || errors.Is(err, peoplesoft.ErrTooLarge) {
			break
		}
	}
	if !errors.Is(err, peoplesoft.ErrTooLarge) {
		t.Errorf("a file above MaxBytes: %v, want ErrTooLarge", err)
	}
}

func TestResultLayoutStatusValues(t *testing.T) {
	l := peoplesoft.ReferenceResultLayout()
	l.Detail.Fields[4].Values = []string{"P", "E"}
	got, errs, _ := decodeResults(t, "REF1_DESCR,ITEM_TYPE,EMPLID,AMOUNT,STATUS,MESSAGE\nR1,1,1,1.00,E,Invalid Term\nR2,1,1,1.00,P,\n", l)
	if len(errs) > 0 || len(got) != 2 || !got[0].Refused || got[1].Refused {
		t.Errorf("got %+v, errors %v", got, errs)
	}
	for _, bad := range [][]string{{"P"}, {"P", "P"}, {"", "E"}, {"P", "E\x01"}} {
		l.Detail.Fields[4].Values = bad
		if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "STATUS") {
			t.Errorf("values %q: %v, want an error naming STATUS", bad, err)
		}
	}
	l = peoplesoft.ReferenceResultLayout()
	l.Detail.Fields[0].Values = []string{"P", "E"}
	if err := l.Validate(); err == nil {
		t.Errorf("values on REF1_DESCR: no error")
	}
	l = peoplesoft.ReferenceResultLayout()
	l.Detail.Fields = l.Detail.Fields[:4]
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "no STATUS field") {
		t.Errorf("a results layout without STATUS: %v", err)
	}
}

func TestResultEncoderRoundTrip(t *testing.T) {
	in := []peoplesoft.Result{
		{Ref: "A1", ItemType: "300000000001", EmplID: "1", Amount: fees.MustParseMoney("12.50", fees.USD)},
		{Ref: "A2", ItemType: "300000000002", EmplID: "2", Amount: fees.MustParseMoney("-3.00", fees.USD), Refused: true, Message: "Cannot reverse this charge, \"none\""},
	}
	var b bytes.Buffer
	enc := peoplesoft.NewResultEncoder(&b, peoplesoft.ReferenceResultLayout(), time.Time{}).WithTrailer()
	for _, r := range in {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(peoplesoft.Result{ItemType: "1"}); !errors.Is(err, peoplesoft.ErrMissing) {
		t.Errorf("a result without a reference: %v, want ErrMissing", err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "TRAILER,2,9.50\n") {
		t.Errorf("the file ends %q, want the trailer TRAILER,2,9.50", b.String())
	}
	got, errs, fileErr := decodeResults(t, b.String(), peoplesoft.ReferenceResultLayout())
	if fileErr != nil || len(errs) > 0 {
		t.Fatalf("file error %v, record errors %v", fileErr, errs)
	}
	for i := range got {
		got[i].Line = 0
	}
	if diff := cmp.Diff(in, got, cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// FuzzResultDecoder feeds the decoder arbitrary files. It must never
// panic nor loop, every error must be a *ParseError, and every result it
// returns must name its line (reference and item type) and survive a
// round trip through the encoder.
func FuzzResultDecoder(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "results", "*.csv"))
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
	l := peoplesoft.ReferenceResultLayout()
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := peoplesoft.NewResultDecoder(bytes.NewReader(data), l, &peoplesoft.DecodeOptions{MaxBytes: 1 << 20})
		var got []peoplesoft.Result
		var last error
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("more records than bytes")
			}
			r, err := dec.Decode()
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
			if r.Ref == "" || r.ItemType == "" {
				t.Fatalf("a result without its reference or item type: %+v", r)
			}
			got = append(got, r)
		}
		var b bytes.Buffer
		enc := peoplesoft.NewResultEncoder(&b, l, time.Time{})
		for _, r := range got {
			if err := enc.Encode(r); err != nil {
				t.Fatalf("encode %+v: %v", r, err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		again, _, fileErr := decodeResults(t, b.String(), l)
		if fileErr != nil || len(again) != len(got) {
			t.Fatalf("round trip: %d results, then %d (%v)", len(got), len(again), fileErr)
		}
		for i := range got {
			if a, b := got[i], again[i]; a.Ref != b.Ref || a.ItemType != b.ItemType || a.Refused != b.Refused || a.Message != b.Message || !a.Amount.Equal(b.Amount) {
				t.Fatalf("round trip: %+v became %+v", a, b)
			}
		}
	})
}
