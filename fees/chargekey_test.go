package fees_test

import (
	"fmt"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

func TestChargeKey(t *testing.T) {
	tests := []struct {
		id   string
		typ  fees.Type
		want string
	}{
		{"15216075690006761", fees.TypeOverdueFine, "15216075690006761/OVERDUEFINE"},
		{"15216075690006761", "LOSTITEMPROCESSFEE", "15216075690006761/LOSTITEMPROCESSFEE"},
		{"", "OTHER", "/OTHER"},
	}
	for _, tt := range tests {
		if got := fees.ChargeKey(tt.id, tt.typ); got != tt.want {
			t.Errorf("ChargeKey(%q, %q) = %q, want %q", tt.id, tt.typ, got, tt.want)
		}
	}
	// Fees sharing a transaction id but not a type have different keys.
	if fees.ChargeKey("1", "OTHER") == fees.ChargeKey("1", "OVERDUEFINE") {
		t.Error("charge keys of two types collide")
	}
}

func ExampleChargeKey() {
	// One bursar transaction id, two fees of different types.
	fmt.Println(fees.ChargeKey("15216075690006761", fees.TypeOverdueFine))
	fmt.Println(fees.ChargeKey("15216075690006761", "DAMAGEDITEMFINE"))
	// Output:
	// 15216075690006761/OVERDUEFINE
	// 15216075690006761/DAMAGEDITEMFINE
}
