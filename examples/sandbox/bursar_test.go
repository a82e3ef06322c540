package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWeekOtherBursars runs small weeks against Banner and Colleague, one
// with faults, and checks that the files that went to the bursar and came
// back are in that system's layouts: Banner's 100-column charge records
// with a YYYYTT term and a detail code, Colleague's rows with a YY/XX term
// and an AR code, and their payment files.
func TestWeekOtherBursars(t *testing.T) {
	for _, tc := range []struct {
		bursar  string
		faults  float64
		charge  string // a prefix every charge record has
		payment string // the payment files' name pattern
	}{
		{"banner", 0, "D", "library-payments-*.dat"},
		{"colleague", 0, "01,", "library-payments-*.csv"},
		{"banner", 0.2, "D", "library-payments-*.dat"},
	} {
		s := small(1, tc.faults)
		s.Students, s.Bursar = 20, tc.bursar
		s.OutDir = filepath.Join(t.TempDir(), "week")
		out := runSandbox(t, s)
		if !strings.Contains(out, "plays "+tc.bursar) {
			t.Errorf("%s: the intro does not say which bursar:\n%s", tc.bursar, out)
		}
		charges, _ := filepath.Glob(filepath.Join(s.OutDir, "peoplesoft", "inbound", "loaded", "feebridge-charges-*"))
		payments, _ := filepath.Glob(filepath.Join(s.OutDir, "peoplesoft", "outbound", "done", tc.payment))
		if len(charges) == 0 || len(payments) == 0 {
			t.Fatalf("%s: %d charge files, %d payment files %s", tc.bursar, len(charges), len(payments), tc.payment)
		}
		data, err := os.ReadFile(charges[0])
		if err != nil {
			t.Fatal(err)
		}
		var details int
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if !strings.HasPrefix(line, tc.charge) {
				continue
			}
			details++
			switch tc.bursar {
			case "banner":
				if len(line) != 100 || line[10:16] != "202630" || line[16:18] != "LB" {
					t.Errorf("banner charge record %q: want 100 columns, term 202630 and a detail code", line)
				}
			case "colleague":
				if f := strings.Split(line, ","); len(f) < 5 || f[2] != "26/FA" || !strings.HasPrefix(f[3], "LIB") {
					t.Errorf("colleague charge row %q: want term 26/FA and an AR code", line)
				}
			}
		}
		if details == 0 {
			t.Errorf("%s: no charge record in %s:\n%s", tc.bursar, charges[0], data)
		}
	}
}

func TestBursarFlag(t *testing.T) {
	s := New(&bytes.Buffer{})
	if err := s.ParseFlags([]string{"-bursar", "colleague"}); err != nil || s.Bursar != "colleague" {
		t.Errorf("-bursar colleague: %v, %q", err, s.Bursar)
	}
	if s := New(&bytes.Buffer{}); s.ParseFlags(nil) != nil || s.Bursar != "peoplesoft" {
		t.Errorf("default bursar %q", s.Bursar)
	}
	err := New(&bytes.Buffer{}).ParseFlags([]string{"-bursar", "sap"})
	if err == nil || !strings.Contains(err.Error(), `-bursar is banner, colleague, peoplesoft, not "sap"`) {
		t.Errorf("-bursar sap: %v", err)
	}
}
