package alma_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/feebridge/feebridge/alma"
)

// TestExportDecoderAllocs checks how many allocations decoding a fee
// takes: the text of a fee's own fields is one string, not one per field
// (the patron's fields, shared by several fees, and the duplicate check
// come on top). It counts allocations, never time.
func TestExportDecoderAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	const n = 2000
	src := generateExport(t, n)
	var d *alma.ExportDecoder
	allocs := testing.AllocsPerRun(3, func() {
		d = alma.NewExportDecoder(bytes.NewReader(src), &alma.DecoderOptions{AllowDuplicates: true})
		for {
			if _, err := d.Decode(); err == io.EOF {
				return
			} else if err != nil {
				t.Fatal(err)
			}
		}
	})
	perFee := allocs / n
	t.Logf("%.2f allocations per fee", perFee)
	if perFee > 4 {
		t.Errorf("%.2f allocations per fee, want at most 4", perFee)
	}
}
