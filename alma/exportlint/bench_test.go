package exportlint_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

// BenchmarkLint lints an export of 10,000 fees under every check, a
// fifth of them below the minimum: the cost of lint-export beyond the
// decoder's.
func BenchmarkLint(b *testing.B) {
	const n = 10000
	var buf bytes.Buffer
	enc := alma.NewExportEncoder(&buf, "1", nil)
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	groups := map[string]string{}
	for i := range n {
		user := fmt.Sprintf("1%07d", i/4)
		groups[user] = "UNDERGRAD"
		amount := fees.FromMinor(int64(100+(i%5)*500), fees.USD)
		rec := alma.ExportRecord{Patron: alma.Patron{ID: user, IDType: "02", Name: "Student, A"}, Type: fees.TypeOverdueFine,
			Amount: amount, TransactionID: fmt.Sprint(900000 + i), Owner: "MAIN", LastTransaction: at.AddDate(0, 0, -30)}
		if err := enc.Encode(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s, err := exportlint.Lint(bytes.NewReader(data), dukePolicy(), &exportlint.Options{ExportedAt: at, UserGroups: groups}, func(exportlint.Warning) {})
		if err != nil || s.Fees != n || s.Warned != n/5 {
			b.Fatalf("%v: %+v", err, s)
		}
	}
}
