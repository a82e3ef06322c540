package peoplesoft

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"testing"
)

// FuzzCSVRecords checks the CSV record reader against encoding/csv: the
// same records, the same fields, up to the first syntax error, which both
// must report on the same record.
func FuzzCSVRecords(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"a,\"b,c\",d\r\n\"x\"\"y\",\"multi\nline\",z\n",
		"a,b\"c,d\nok,1\n",
		"\n\na,b\n\r\n\"q\"\n",
		"\"unterminated,x\ny,z\n",
		"a;b;\"c;d\"\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("a;b;\"c;d\"\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, semicolon bool) {
		if bytes.HasPrefix(data, []byte("\uFEFF")) {
			return // the reader strips a BOM; encoding/csv does not
		}
		delim := ','
		if semicolon {
			delim = ';'
		}
		rr := newRecordReader(bytes.NewReader(data), &compiled{delim: delim}, "", 0)
		cr := csv.NewReader(bytes.NewReader(data))
		cr.Comma = delim
		cr.FieldsPerRecord = -1
		for n := 0; n <= len(data); n++ {
			want, werr := cr.Read()
			got, _, gerr := rr.readCSV()
			if errors.Is(gerr, ErrLongLine) {
				return
			}
			if werr == io.EOF || gerr == io.EOF {
				if werr != gerr {
					t.Fatalf("record %d: encoding/csv: %v, reader: %v", n, werr, gerr)
				}
				return
			}
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("record %d: encoding/csv: %q, %v; reader: %q, %v", n, want, werr, got, gerr)
			}
			if werr != nil {
				return
			}
			if !slices.Equal(want, got) {
				t.Fatalf("record %d: encoding/csv %q, reader %q", n, want, got)
			}
		}
	})
}
