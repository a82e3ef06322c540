package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCollegesWithOneThrottled (issue 20): three colleges in one
// deployment, college 2's Alma answering only 429. Colleges 1 and 3 end
// reconciled; college 2's shortfall is printed and fails the run. Each
// college has its own config file and journal, and its Alma's webhooks
// reached the deployment's listener on its own path.
func TestCollegesWithOneThrottled(t *testing.T) {
	var out bytes.Buffer
	s := New(&out)
	s.Students, s.Days, s.Colleges, s.ThrottledCollege = 40, 2, 3, 2
	s.OutDir = t.TempDir()
	err := s.Run(t.Context())
	defer s.Close()
	if !errors.Is(err, ErrNotReconciled) {
		t.Fatalf("got %v, want ErrNotReconciled for the throttled college\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^college-01 +reconciled `),
		regexp.MustCompile(`(?m)^college-02 +NOT RECONCILED .*throttled \(Alma answered only 429; [1-9][0-9]* job runs failed, the week played on\): .*429`),
		regexp.MustCompile(`(?m)^college-03 +reconciled `),
		regexp.MustCompile(`2 of 3 reconciled`),
	} {
		if !want.MatchString(text) {
			t.Errorf("output lacks %s:\n%s", want, text)
		}
	}
	for _, n := range []string{"college-01", "college-02", "college-03"} {
		if _, err := os.Stat(filepath.Join(s.OutDir, "config", n+".toml")); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(filepath.Join(s.OutDir, "colleges", n, "journal.db")); err != nil {
			t.Error(err)
		}
	}
	// The throttled college played its whole week: the jobs that need
	// Alma's API failed and ran again at their next times, as serve runs
	// them; the charges, which only move files, went on.
	week, err := os.ReadFile(filepath.Join(s.OutDir, "colleges", "college-02", "week.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reconcile failed (", "feesync    charges job: "} {
		if n := strings.Count(string(week), want); n < s.Days {
			t.Errorf("college-02's week notes %q %d times, want one a day at least (%d days):\n%s", want, n, s.Days, week)
		}
	}
	log, err := os.ReadFile(filepath.Join(s.OutDir, "sandbox.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "college=college-03") {
		t.Error("the log lines do not name their college")
	}
}

func TestCollegesFlags(t *testing.T) {
	for _, args := range [][]string{{"-colleges", "-1"}, {"-colleges", "2", "-throttled-college", "3"}, {"-throttled-college", "1"}} {
		if err := New(&bytes.Buffer{}).ParseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
