package psport_test

import (
	"io"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/psport"
)

// TestChargeWriterWriteAllocs: writing a charge line costs the writer no
// allocation of its own beyond the encoder's (it counts allocations,
// never time).
func TestChargeWriterWriteAllocs(t *testing.T) {
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	ch := peoplesoft.Charge{EmplID: "10000001", ItemType: "300000000001", Amount: fees.FromMinor(1250, fees.USD),
		Term: "2268", DueDate: day, Ref: "1000", Description: "Overdue fine: A book"}
	line := reconcile.ChargeLine{Amount: ch.Amount, Value: ch}
	l := peoplesoft.ReferenceChargeLayout()
	enc := peoplesoft.NewChargeEncoder(io.Discard, l, day)
	w := psport.ChargeFormat{Layout: l}.NewChargeWriter(io.Discard, day)
	_ = enc.Encode(ch) // the header, once
	if err := w.Write(line); err != nil {
		t.Fatal(err)
	}
	base := testing.AllocsPerRun(200, func() { _ = enc.Encode(ch) })
	got := testing.AllocsPerRun(200, func() {
		if err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	})
	if got > base {
		t.Errorf("Write: %v allocations per line, the encoder alone %v", got, base)
	}
}
