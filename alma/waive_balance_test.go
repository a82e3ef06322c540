package alma_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma"
)

// TestWaiveWithBalanceSeen: given the balance the caller has just read, a
// waiver is one call (no read first); after an attempt that may have
// reached Alma, the fee is read again and the waiver is sent again only
// if Alma did not take it.
func TestWaiveWithBalanceSeen(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fault     fault
		wantLog   []string // methods, in order
		wantPosts int
	}{
		{"no fault", nil, []string{"POST"}, 1},
		{"took effect, then no answer", appliedThen(http.StatusGatewayTimeout), []string{"POST", "GET"}, 1},
		{"refused with 500", faultBody(http.StatusInternalServerError, "Internal Server Error"), []string{"POST", "GET", "POST"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.fault != nil {
				f.inject(1, tt.fault)
			}
			got, err := f.client(t, nil, nil).Waive(t.Context(), patronID, lostFee, alma.WaiveRequest{
				Amount: dollars("60"), Reason: "LOST_ITEM_FOUND", Comment: "Lost item was found", Balance: dollars("60"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Waived.Equal(dollars("70")) || !got.Balance.IsZero() {
				t.Errorf("waived %s balance %s; want 70 and 0", got.Waived, got.Balance)
			}
			var methods []string
			for _, r := range f.log() {
				methods = append(methods, strings.Fields(r)[0])
			}
			if strings.Join(methods, " ") != strings.Join(tt.wantLog, " ") || countOps(f.log()) != tt.wantPosts {
				t.Errorf("requests %q, want %v with %d POSTs", f.log(), tt.wantLog, tt.wantPosts)
			}
		})
	}
}
