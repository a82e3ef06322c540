package peoplesoft_test

import (
	"io"
	"os"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// TestMillionChargesRoundTrip writes a million charges and reads them
// back, trailer checked. It runs with FEEBRIDGE_LONG=1.
func TestMillionChargesRoundTrip(t *testing.T) {
	if os.Getenv("FEEBRIDGE_LONG") == "" {
		t.Skip("set FEEBRIDGE_LONG=1 to run")
	}
	charges := benchCharges()
	l := peoplesoft.ReferenceChargeLayout()
	w := &sliceWriter{}
	enc := peoplesoft.NewChargeEncoder(w, l, created)
	want := fees.Zero(fees.USD)
	for i := range benchLines {
		ch := charges[i%len(charges)]
		if err := enc.Encode(ch); err != nil {
			t.Fatal(err)
		}
		want, _ = want.Add(ch.Amount)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	dec := peoplesoft.NewChargeDecoder(&byteReader{b: w.b}, l, nil)
	got, n := fees.Zero(fees.USD), 0
	for {
		ch, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if w := charges[n%len(charges)]; ch.Ref != w.Ref || ch.EmplID != w.EmplID || !ch.Amount.Equal(w.Amount) || !ch.DueDate.Equal(w.DueDate) {
			t.Fatalf("line %d: %+v", n+2, ch)
		}
		got, _ = got.Add(ch.Amount)
		n++
	}
	if n != benchLines || !got.Equal(want) || !enc.Total().Equal(want) {
		t.Errorf("read %d charges totalling %s; wrote %d totalling %s", n, got, benchLines, want)
	}
}
