package exportlint_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

// TestCheckEdges: the edges of each check, one record at a time.
func TestCheckEdges(t *testing.T) {
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	fee := func(amount string, c fees.Currency, last time.Time) alma.ExportRecord {
		return alma.ExportRecord{Type: fees.TypeOverdueFine, Amount: fees.MustParseMoney(amount, c), Owner: "MAIN", LastTransaction: last, TransactionID: "1"}
	}
	p := exportlint.Policy{MinimumAmount: fees.MustParseMoney("5.00", fees.USD), MinimumAgeDays: 7}
	for _, tc := range []struct {
		name      string
		rec       alma.ExportRecord
		facts     exportlint.Facts
		reasons   []exportlint.Reason
		unchecked []exportlint.Unchecked
	}{
		{"exactly the minimum, exactly 7 days", fee("5.00", fees.USD, at.Add(-7*24*time.Hour)), exportlint.Facts{ExportedAt: at}, nil, nil},
		{"7 calendar days, whatever the hours", fee("5.00", fees.USD, time.Date(2026, 2, 23, 23, 59, 0, 0, time.UTC)), exportlint.Facts{ExportedAt: at}, nil, nil},
		{"a cent under, 6 calendar days", fee("4.99", fees.USD, time.Date(2026, 2, 24, 0, 1, 0, 0, time.UTC)), exportlint.Facts{ExportedAt: at},
			[]exportlint.Reason{exportlint.BelowMinimum, exportlint.TooRecent}, nil},
		{"dated after the export", fee("9.00", fees.USD, at.Add(time.Hour)), exportlint.Facts{ExportedAt: at}, []exportlint.Reason{exportlint.TooRecent}, nil},
		{"no export time", fee("9.00", fees.USD, at), exportlint.Facts{}, nil, []exportlint.Unchecked{exportlint.NoDate}},
		{"no date", fee("9.00", fees.USD, time.Time{}), exportlint.Facts{ExportedAt: at}, nil, []exportlint.Unchecked{exportlint.NoDate}},
		{"another currency", fee("1.00", fees.Currency("EUR"), at.Add(-30*24*time.Hour)), exportlint.Facts{ExportedAt: at}, nil,
			[]exportlint.Unchecked{exportlint.OtherCurrency}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, unchecked := p.Check(tc.rec, tc.facts)
			var got []exportlint.Reason
			for _, f := range found {
				got = append(got, f.Reason)
				if f.Detail == "" || f.Reason.Hint() == "" {
					t.Errorf("finding %+v has no detail or hint", f)
				}
			}
			if len(got) != len(tc.reasons) || len(unchecked) != len(tc.unchecked) {
				t.Fatalf("reasons %v unchecked %v, want %v %v", got, unchecked, tc.reasons, tc.unchecked)
			}
			for i := range got {
				if got[i] != tc.reasons[i] {
					t.Errorf("reasons %v, want %v", got, tc.reasons)
				}
			}
			for i := range unchecked {
				if unchecked[i] != tc.unchecked[i] {
					t.Errorf("unchecked %v, want %v", unchecked, tc.unchecked)
				}
			}
		})
	}
	for _, r := range exportlint.Reasons {
		if r.Hint() == "" {
			t.Errorf("reason %s has no hint", r)
		}
	}
}
