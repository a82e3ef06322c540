package main

import (
	"regexp"
	"strconv"
	"testing"
)

// TestWeekLintsTheFirstExport: on the first evening staff check the
// export against the district's 5.00 minimum; the fees below it are named,
// and the week still reconciles with every fee charged (runSandbox checks
// it), since feesync drops none.
func TestWeekLintsTheFirstExport(t *testing.T) {
	out := runSandbox(t, small(1, 0))
	m := regexp.MustCompile(`18:05  staff      lint-export: ([0-9]+) of the ([0-9]+) fees exported are below the district's 5\.00 minimum \(([0-9.]+) in all\); Alma's profile sets no threshold, feesync sends them all\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no lint-export line on the first evening:\n%s", out)
	}
	below, _ := strconv.Atoi(m[1])
	exported, _ := strconv.Atoi(m[2])
	if below == 0 || below >= exported {
		t.Errorf("%d of %d fees below the minimum", below, exported)
	}
	charged := regexp.MustCompile(`18:30  feesync    charges job: ` + m[2] + ` lines`)
	if !charged.MatchString(out) {
		t.Errorf("the first charges job did not send all %s fees exported:\n%s", m[2], out)
	}
	if n := len(regexp.MustCompile(`lint-export`).FindAllString(out, -1)); n != 1 {
		t.Errorf("%d lint-export lines, want 1 (the first export only)", n)
	}
}
