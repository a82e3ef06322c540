package psport_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile/psport"
)

const paymentsHeader = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"

// TestPaymentReaderFileErrors checks that the reader sorts errors as
// peoplesoft.IsFileError does: a bad record is held and the file goes on;
// a read error or a bad header fails the whole file.
func TestPaymentReaderFileErrors(t *testing.T) {
	good := "12345678,15216075630006761,300000000001,123.45,123.45,2026-12-01,ESERVICES,CREDIT_CARD,E000104233\n"
	bad := "09876,15216075700006761,300000000002,100.00,40.00,2026-12-02,KIOSK,CASH,C000200017\n"
	boom := errors.New("connection reset")
	tests := []struct {
		name     string
		in       io.Reader
		held     int
		fileFail error // nil: the file reads to io.EOF
	}{
		{"a bad record is held", strings.NewReader(paymentsHeader + bad + good), 1, nil},
		{"a read error fails the file", io.MultiReader(strings.NewReader(paymentsHeader+good), iotest.ErrReader(boom)), 0, boom},
		{"a bad header fails the file", strings.NewReader("EMPLID,REF1_DESCR\n" + good), 0, peoplesoft.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := psport.PaymentFormat{}.NewPaymentReader(tt.in)
			held := 0
			for range 10 {
				rec, err := r.Next()
				if err == io.EOF {
					if tt.fileFail != nil {
						t.Fatalf("read to the end, want the file to fail with %v", tt.fileFail)
					}
					break
				}
				if err != nil {
					if tt.fileFail == nil || !errors.Is(err, tt.fileFail) {
						t.Fatalf("file failed with %v, want %v", err, tt.fileFail)
					}
					break
				}
				if rec.Err != nil {
					held++
				}
			}
			if held != tt.held {
				t.Errorf("held %d records, want %d", held, tt.held)
			}
		})
	}
}
