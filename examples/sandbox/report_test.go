package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/browsertest"
	"github.com/feebridge/feebridge/reconcile"
)

// TestReportShowsThePreviousDay: written for the sandbox week, each 07:00
// report shows the previous day's real totals, as the journal has them:
// count and amount of the charges sent (F2), the payments forwarded by
// channel (F3), the credits (F4) and the waivers of returned lost items
// (F5); on a day with charges they are not zero (the old report
// covered the day of 07:00, and showed nothing). One report with charges
// is rendered in Chromium at 1280 and 400 px.
func TestReportShowsThePreviousDay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "week")
	s := small(1, 0)
	s.OutDir = dir
	runSandbox(t, s)
	j, err := reconcile.OpenJournal(t.Context(), filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	reports, err := filepath.Glob(filepath.Join(dir, "library", "reports", "feebridge-report-*.csv"))
	if err != nil || len(reports) < 3 {
		t.Fatalf("reports %v, %v", reports, err)
	}
	var withCharges string
	for _, name := range reports {
		day, err := time.Parse("2006-01-02", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(name), "feebridge-report-"), ".csv"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := j.Totals(t.Context(), day.AddDate(0, 0, -1), day)
		if err != nil {
			t.Fatal(err)
		}
		got := flowed(t, name)
		for _, w := range want {
			var key string
			switch w.Outcome {
			case reconcile.OutcomeCharged:
				key = "F2"
			case reconcile.OutcomeForwarded:
				key = "F3 " + w.Channel
			case reconcile.OutcomeCredited:
				key = "F4"
			case reconcile.OutcomeWaived:
				key = "F5"
			default:
				continue
			}
			if g := got[key]; g != [2]string{strconv.Itoa(w.Count), w.Amount.Amount()} {
				t.Errorf("%s: %s = %q, the journal has %d records, %s", filepath.Base(name), key, g, w.Count, w.Amount.Amount())
			}
			if key == "F2" && w.Count > 0 && withCharges == "" {
				withCharges = name
			}
		}
		for _, key := range []string{"F2", "F3 ESERVICES", "F3 CASHIER", "F4", "F5"} {
			if _, ok := got[key]; !ok {
				t.Errorf("%s lacks the total %s", filepath.Base(name), key)
			}
		}
	}
	if withCharges == "" {
		t.Fatal("no report shows a day with charges")
	}
	got := flowed(t, withCharges)["F2"]
	t.Logf("%s: F2 %s charges, %s", filepath.Base(withCharges), got[0], got[1])
	html, err := os.ReadFile(strings.TrimSuffix(withCharges, ".csv") + ".html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range browsertest.Check(t, "sandbox-"+strings.TrimSuffix(filepath.Base(withCharges), ".csv"), html, 1280, 400) {
		for _, want := range []string{"Charges sent to the bursar", got[1], "Payments forwarded to Alma (ESERVICES)", "1. Needs staff", "3. The schedule"} {
			if !strings.Contains(p.Text, want) {
				t.Errorf("at %d px the report lacks %q:\n%s", p.Width, want, p.Text)
			}
		}
	}
}

// flowed reads the "what flowed" rows of a report's CSV: count and amount
// by flow ("F2", "F3 CASHIER").
func flowed(t *testing.T, name string) map[string][2]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(n string) int { return slices.Index(rows[0], n) }
	out := map[string][2]string{}
	for _, r := range rows[1:] {
		if r[col("section")] != "what flowed" {
			continue
		}
		key := r[col("item")]
		if c := r[col("type")]; c != "" {
			key += " " + c
		}
		out[key] = [2]string{r[col("count")], r[col("amount")]}
	}
	return out
}
