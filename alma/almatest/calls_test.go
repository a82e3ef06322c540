package almatest_test

import (
	"context"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// TestCallStats counts the calls by operation (a fee's POST by its op),
// by simulated day, with those answered by a fault, and keeps a peak per
// wall-clock second that is at least 1 and at most the calls made.
func TestCallStats(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	c := w.client(t, 0)
	f, err := w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeLostItemReplacementFee, Amount: usd("40.00")})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.srv.CallStats(); got.Total != 0 || got.PeakPerSecond != 0 || len(got.ByOp) != 0 {
		t.Fatalf("before any call: %+v", got)
	}
	if _, err := c.ListFees(ctx, "0123456", fees.StatusActive); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, "0123456"); err != nil {
		t.Fatal(err)
	}
	day1 := w.srv.CallStats()
	w.clock.Advance(24 * time.Hour)
	if _, err := c.Waive(ctx, "0123456", f.ID, alma.WaiveRequest{Amount: usd("40.00"), Reason: "LOST_ITEM_FOUND"}); err != nil {
		t.Fatal(err)
	}
	// A call answered 429 counts too: Alma counts what it receives.
	w.srv.SetFaults(almatest.Faults{RateLimit429: 1, PerSecond: -1})
	if _, err := c.GetUser(ctx, "0123456"); err == nil {
		t.Fatal("GetUser: no error under RateLimit429 = 1")
	}

	// The client may retry a 429: each attempt is a call.
	attempts := w.srv.APICalls()["GET users/{user_id}"] - 1
	if attempts < 1 {
		t.Fatalf("the server counted %d attempts of the refused GetUser", attempts)
	}

	got := w.srv.CallStats()
	wantOps := map[string]int{
		"GET users/{user_id}/fees":                    1,
		"GET users/{user_id}":                         1 + attempts,
		"GET users/{user_id}/fees/{fee_id}":           1, // Waive reads the fee first
		"POST users/{user_id}/fees/{fee_id}?op=waive": 1,
	}
	if got.Total != 4+attempts || len(got.ByOp) != len(wantOps) {
		t.Errorf("Total %d, ByOp %v; want %d, %v", got.Total, got.ByOp, 4+attempts, wantOps)
	}
	for op, n := range wantOps {
		if got.ByOp[op] != n {
			t.Errorf("ByOp[%q] = %d, want %d", op, got.ByOp[op], n)
		}
	}
	wantDays := map[string]int{"2026-09-14": 2, "2026-09-15": 2 + attempts}
	if len(got.ByDay) != 2 || got.ByDay["2026-09-14"] != 2 || got.ByDay["2026-09-15"] != 2+attempts {
		t.Errorf("ByDay %v, want %v", got.ByDay, wantDays)
	}
	if len(got.Refused) != 1 || got.Refused["GET users/{user_id}"] != attempts {
		t.Errorf("Refused %v, want the %d attempts of GET users/{user_id}", got.Refused, attempts)
	}
	if got.PeakPerSecond < 1 || got.PeakPerSecond > got.Total {
		t.Errorf("PeakPerSecond %d, want between 1 and %d", got.PeakPerSecond, got.Total)
	}
	d := got.Sub(day1)
	if d.Total != 2+attempts || len(d.ByDay) != 1 || d.ByDay["2026-09-15"] != 2+attempts || d.ByOp["GET users/{user_id}"] != attempts {
		t.Errorf("Sub: %+v", d)
	}
	if _, ok := d.ByOp["GET users/{user_id}/fees"]; ok {
		t.Errorf("Sub keeps an operation with no call in between: %v", d.ByOp)
	}
	// The maps are copies.
	got.ByOp["GET users/{user_id}"] = 99
	if w.srv.CallStats().ByOp["GET users/{user_id}"] != 1+attempts {
		t.Error("CallStats returned the server's own map")
	}
}
