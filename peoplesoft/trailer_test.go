package peoplesoft_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/peoplesoft"
)

// decodeAll reads every payment of file in the reference layout and
// returns how many came back and the first whole-file error.
func decodeAll(t *testing.T, file string) (n int, fileErr error) {
	t.Helper()
	dec := peoplesoft.NewPaymentDecoder(strings.NewReader(file), peoplesoft.ReferencePaymentLayout(), &peoplesoft.DecodeOptions{File: "pay.csv"})
	for {
		_, err := dec.Decode()
		if err == io.EOF {
			return n, nil
		}
		if peoplesoft.IsFileError(err) {
			return n, err
		}
		if err == nil {
			n++
		}
	}
}

const trailerHead = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n" +
	"12345678,T1,300000000001,5.00,5.00,2026-12-01,CASHIER,CASH,G-145\n" +
	"12345678,T2,300000000001,7.50,7.50,2026-12-01,CASHIER,CASH,G-245\n"

// TestPaymentTrailer: the reference payment layout takes an optional
// trailer row; when present, its count and total must match the rows.
func TestPaymentTrailer(t *testing.T) {
	for _, tc := range []struct {
		name, tail string
		n          int
		want       string // the whole-file error; "" for none
	}{
		{"no trailer", "", 2, ""},
		{"matching trailer", "TRAILER,2,12.50\n", 2, ""},
		{"a held line counts in the trailer", "12345678,T3,300000000001,1.00,1.00,2026-12-01,KIOSK,CASH,G-345\nTRAILER,3,13.50\n", 2, ""},
		{"count disagrees", "TRAILER,7,12.50\n", 2, "peoplesoft: pay.csv:4: RECORD_COUNT: trailer count disagrees: the trailer says 7 records, the file has 2"},
		{"total disagrees", "TRAILER,2,28.00\n", 2, "peoplesoft: pay.csv:4: TOTAL: trailer total disagrees: the trailer says 28.00 USD, the records add up to 12.50 USD"},
		{"both disagree", "TRAILER,7,28.00\n", 2, "peoplesoft: pay.csv:4: RECORD_COUNT: trailer count disagrees: the trailer says 7 records, the file has 2; trailer total disagrees: the trailer says 28.00 USD, the records add up to 12.50 USD"},
		{"a row after the trailer", "TRAILER,2,12.50\n12345678,T3,300000000001,1.00,1.00,2026-12-01,CASHIER,CASH,G-345\n", 2, "peoplesoft: pay.csv:5: bad trailer: a record follows the trailer"},
		{"bad trailer", "TRAILER,two,12.50\n", 2, "peoplesoft: pay.csv:4: RECORD_COUNT: bad trailer:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := decodeAll(t, trailerHead+tc.tail)
			if n != tc.n {
				t.Errorf("%d payments, want %d", n, tc.n)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// TestPaymentTrailerWritten: the encoder writes the optional trailer only
// when told to, and what it writes reads back.
func TestPaymentTrailerWritten(t *testing.T) {
	l := peoplesoft.ReferencePaymentLayout()
	var plain, with bytes.Buffer
	for _, tc := range []struct {
		buf   *bytes.Buffer
		trail bool
	}{{&plain, false}, {&with, true}} {
		enc := peoplesoft.NewPaymentEncoder(tc.buf, l, created)
		if tc.trail {
			enc.WithTrailer()
		}
		for _, p := range samplePayments() {
			if err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(plain.String(), "TRAILER") {
		t.Errorf("a trailer written unasked:\n%s", plain.String())
	}
	if !strings.HasSuffix(with.String(), "\nTRAILER,4,224.27\n") {
		t.Errorf("trailer not written:\n%s", with.String())
	}
	if n, err := decodeAll(t, with.String()); n != 4 || err != nil {
		t.Errorf("read back %d payments, %v", n, err)
	}
	bad := *l
	bad.Trailer = nil
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "trailer_optional") {
		t.Errorf("trailer_optional without a trailer: %v", err)
	}
}
