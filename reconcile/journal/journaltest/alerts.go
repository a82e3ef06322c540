package journaltest

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// testAlerts checks the open alerts: a problem opens once however often it
// is seen, closes once, and opens again after it was closed.
func testAlerts(t *testing.T, open Open) {
	c := &clock{now: day}
	s, ok := open(t, c.Now).(reconcile.AlertStore)
	if !ok {
		t.Fatal("the store does not keep alerts (reconcile.AlertStore)")
	}
	ctx := t.Context()
	for i, want := range []bool{true, false, false} {
		opened, err := s.OpenAlert(ctx, "failed:charges", "job charges failed", c.now)
		must(t, err)
		if opened != want {
			t.Fatalf("sighting %d: opened = %v, want %v", i+1, opened, want)
		}
		c.now = c.now.Add(time.Hour)
	}
	a, was, err := s.CloseAlert(ctx, "failed:charges")
	must(t, err)
	if !was || a.Summary != "job charges failed" || a.Count != 3 || !a.Opened.Equal(day) || !a.Seen.Equal(day.Add(2*time.Hour)) {
		t.Fatalf("closed %+v, %v; want the alert opened at %s, seen 3 times", a, was, day)
	}
	if _, was, err := s.CloseAlert(ctx, "failed:charges"); err != nil || was {
		t.Fatalf("second close: %v, %v; want nothing to close", was, err)
	}
	if opened, err := s.OpenAlert(ctx, "failed:charges", "job charges failed", c.now); err != nil || !opened {
		t.Fatalf("after the close: opened = %v, %v; want a new alert", opened, err)
	}
	if opened, err := s.OpenAlert(ctx, "held:charges", "job charges holds 2 records", c.now); err != nil || !opened {
		t.Fatalf("another problem: opened = %v, %v; want a new alert", opened, err)
	}
}
