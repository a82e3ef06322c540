package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestWeekPrintsAlmaCalls: after the week's summary the sandbox prints
// the calls to Alma per flow, per simulated day (one entry per day, the
// judging morning included) and at their peak per second, and the figures
// add up: the flows are what the client sent, the days what Alma received.
func TestWeekPrintsAlmaCalls(t *testing.T) {
	s := small(1, 0)
	out := runSandbox(t, s)
	i := strings.Index(out, "\nAlma API calls ─")
	if i < 0 || i < strings.Index(out, "Reconciliation ─") {
		t.Fatalf("no table of Alma's calls after the reconciliation:\n%s", out)
	}
	table := out[i:]
	st := s.d.sim.Alma().CallStats()
	flows := s.d.flowCalls.counts()
	if flows[flowLostReturns] == 0 || flows["reconcile"] == 0 || flows[flowOther] != 0 {
		t.Errorf("calls per flow %v: want lost returns and the reconciliation, nothing unattributed", flows)
	}
	for _, f := range flowNames {
		if n := flows[f.job]; n > 0 && !strings.Contains(table, f.words+" "+strconv.Itoa(n)) {
			t.Errorf("the table does not show %q %d:\n%s", f.words, n, table)
		}
	}
	// Days 14, 15, 16 and the morning of the 17th, a day without a call too.
	days := regexp.MustCompile(`(Mon|Tue|Wed|Thu) (\d+): (\d+)`).FindAllStringSubmatch(table, -1)
	sum := 0
	for _, d := range days {
		n, _ := strconv.Atoi(d[3])
		sum += n
	}
	if len(days) != 4 || sum != st.Total {
		t.Errorf("calls per day %q add up to %d; want 4 days (%v) adding up to %d", days, sum, st.ByDay, st.Total)
	}
	sent := 0
	for _, n := range flows {
		sent += n
	}
	// Alma receives each lookup by barcode twice (its redirect).
	if want := sent + st.ByOp["GET items"]; st.Total != want {
		t.Errorf("Alma received %d calls, the client sent %d and followed %d redirects", st.Total, sent, st.ByOp["GET items"])
	}
	if !regexp.MustCompile(`\n  peak +\d+ calls in one second`).MatchString(table) || st.PeakPerSecond < 1 {
		t.Errorf("no peak per second (%d):\n%s", st.PeakPerSecond, table)
	}
}
