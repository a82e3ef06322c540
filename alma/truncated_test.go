package alma_test

import (
	"bytes"
	"testing"

	"github.com/feebridge/feebridge/alma"
)

// TestTruncatedExportIsAFileError: Alma's export carries no control
// totals, so a file cut short (a sender still writing it) is caught by
// its XML alone: cut anywhere before its last closing tag, it fails as a
// whole-file error, never as a shorter clean file (issue 15, case 1).
func TestTruncatedExportIsAFileError(t *testing.T) {
	src := openFixture(t)
	end := bytes.LastIndex(src, []byte("</"))
	if end < 0 {
		t.Fatal("no closing tag in the fixture")
	}
	step := max(1, end/97)
	for cut := 1; cut <= end; cut += step {
		got := decodeAll(t, bytes.NewReader(src[:cut]), nil)
		if !alma.IsFileError(got.fatal) {
			t.Fatalf("cut at byte %d of %d: %d records and %v, want a file error", cut, len(src), len(got.recs), got.fatal)
		}
	}
}
