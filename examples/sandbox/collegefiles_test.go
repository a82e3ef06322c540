package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sim "github.com/feebridge/feebridge/examples/district"
)

// perCollege is the name of a charge file of one college (a re-driven
// one too: the charges the bursar refused, sent again).
var perCollege = regexp.MustCompile(`^feebridge-charges-(?:redrive-)?[0-9a-f]{16}-([A-Z0-9]{1,5})\.dat$`)

// TestWeekWithCollegeFiles: with -college-files, with and without faults,
// feesync delivers a charge file per college, named with its business
// unit; the simulated PeopleSoft loads every one, none twice, and the
// week ends reconciled (runSandbox fails otherwise).
func TestWeekWithCollegeFiles(t *testing.T) {
	knownUnit := map[string]bool{}
	for _, c := range sim.Colleges() {
		knownUnit[c.BusinessUnit] = true
	}
	for _, faults := range []float64{0, 0.2} {
		s := small(2, faults)
		s.CollegeFiles = true
		s.OutDir = t.TempDir()
		runSandbox(t, s)
		loaded, err := os.ReadDir(filepath.Join(s.OutDir, "peoplesoft", "inbound", "loaded"))
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]bool{}
		for _, f := range loaded {
			if m := perCollege.FindStringSubmatch(f.Name()); m != nil {
				units[m[1]] = true
			} else if strings.HasPrefix(f.Name(), "feebridge-charges-") {
				t.Errorf("faults %g: a charge file of no college: %s", faults, f.Name())
			}
		}
		for u := range units {
			if !knownUnit[u] {
				t.Errorf("faults %g: a charge file of business unit %s, which is no college's", faults, u)
			}
		}
		if len(units) < 2 {
			t.Errorf("faults %g: charge files of %d business units, want several colleges': %v", faults, len(units), units)
		}
	}
}
