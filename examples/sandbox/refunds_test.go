package main

import (
	"regexp"
	"testing"
)

// TestWeekRefunds: a week long enough for lost items to be paid for and
// then returned has refunds (R8) both sent to PeopleSoft (policy refund)
// and decided by staff (policy report), and still ends reconciled, every
// refund audited to the cent.
func TestWeekRefunds(t *testing.T) {
	out := runSandbox(t, &Sandbox{Students: 60, Days: 7, Seed: 1})
	for _, row := range []string{"lost items paid for, then returned", "refunds sent to PeopleSoft (policy refund)",
		"refunds reported, decided by staff (policy report)"} {
		m := regexp.MustCompile(regexp.QuoteMeta(row) + `\s+([0-9]+)\s`).FindStringSubmatch(out)
		if m == nil || m[1] == "0" {
			t.Errorf("row %q: no records in the table:\n%s", row, out)
		}
	}
}
