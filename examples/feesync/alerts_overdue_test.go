package main

import (
	"strings"
	"testing"
	"time"
)

// TestOverdueCountsCLIRuns (issue 16): serve's overdue watch reads the last
// successes from the journal's run history, so a run made from the
// command line (as cron does) keeps the job on time: after it, the watch
// does not alert again.
func TestOverdueCountsCLIRuns(t *testing.T) {
	box, s, w := overdueWatchSite(t)
	if w == nil || w.periods[jobCredits] != time.Hour {
		t.Fatalf("watch: %+v", w)
	}
	for job := range w.periods {
		if job != jobCredits {
			delete(w.periods, job) // only the hourly credits job is watched here
		}
	}
	s.clock.Advance(3 * time.Hour)
	w.check(t.Context())
	if msgs := box.received(); len(msgs) != 1 || !strings.Contains(subject(t, msgs[0]), "ALERT: job credits is overdue") {
		t.Fatalf("%d mails, want one overdue alert", len(msgs))
	}
	wantRun(t, s.run("run", "credits"), ExitOK)
	s.clock.Advance(10 * time.Minute)
	w.check(t.Context())
	msgs := box.received()
	for i, msg := range msgs {
		t.Logf("mail %d: %s", i, subject(t, msg))
	}
	if len(msgs) != 2 || !strings.Contains(subject(t, msgs[1]), "RESOLVED: job credits ran again") {
		t.Fatalf("%d mails, want the alert and its resolution by the command line's run, and no new alert", len(msgs))
	}
}
