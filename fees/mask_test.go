package fees_test

import (
	"fmt"
	"testing"

	"github.com/feebridge/feebridge/fees"
)

func TestMaskID(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"", ""},
		{"1", "*"},
		{"123456", "******"},
		{"1234567", "****567"},
		{"12345678", "*****678"},
		{"ÉTUDIANT-42", "********-42"},
	} {
		if got := fees.MaskID(tc.id); got != tc.want {
			t.Errorf("MaskID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// No two masks of one id can be combined into more than three characters:
// the rule is the same everywhere, so what shows is always the same tail.
func TestMaskIDShowsAtMostThree(t *testing.T) {
	for n := range 40 {
		id := fmt.Sprintf("%0*d", n, 0)
		shown := 0
		for _, c := range fees.MaskID(id) {
			if c != '*' {
				shown++
			}
		}
		if shown > 3 || (n > 0 && shown*2 >= n) {
			t.Errorf("MaskID of a %d-character id shows %d characters", n, shown)
		}
	}
}

func ExampleMaskID() {
	fmt.Println(fees.MaskID("12345678"))
	fmt.Println(fees.MaskID("0042"))
	// Output:
	// *****678
	// ****
}
