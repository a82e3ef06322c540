package main

import (
	"os"
	"strings"
	"testing"
)

// TestReconcileWithTheOpenFeesReport: with alma.fees_report set, the
// nightly `feesync reconcile` reads the Analytics report; `-all` compares
// fee by fee without it.
func TestReconcileWithTheOpenFeesReport(t *testing.T) {
	s := newSite(t)
	cfg, err := os.ReadFile(s.config)
	s.must(err)
	s.must(os.WriteFile(s.config, []byte(strings.Replace(string(cfg), "[alma]\n",
		"[alma]\nfees_report = \"/shared/Feebridge College/Reports/feebridge open fees\"\n", 1)), 0o600))
	chargeThree(t, s)
	reports := func() int { return s.alma.APICalls()["GET analytics/reports"] }
	before := reports()
	wantRun(t, s.run("reconcile"), ExitRejected, "job=reconcile", "disagreements=")
	if reports() != before+1 {
		t.Errorf("reconcile made %d report calls, want 1", reports()-before)
	}
	before = reports()
	wantRun(t, s.run("reconcile", "-all"), ExitRejected, "job=reconcile", "disagreements=1")
	if reports() != before {
		t.Errorf("reconcile -all made %d report calls, want none", reports()-before)
	}
}
