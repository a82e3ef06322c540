package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// outbox is a Mailer that keeps the subjects, and fails while down.
type outbox struct {
	subjects []string
	down     bool
}

func (o *outbox) Send(_ context.Context, m reconcile.Mail) error {
	if o.down {
		return errors.New("connection refused")
	}
	o.subjects = append(o.subjects, m.Subject)
	return nil
}

func newAlerter(t *testing.T, now *time.Time) (*reconcile.Alerter, *outbox) {
	t.Helper()
	j, err := journal.OpenMemory(t.Context(), &journal.Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	box := &outbox{}
	return &reconcile.Alerter{Store: j, Mailer: box, To: []string{"staff@example.edu"}, Now: func() time.Time { return *now }}, box
}

func wantSubjects(t *testing.T, box *outbox, want ...string) {
	t.Helper()
	if strings.Join(box.subjects, "\n") != strings.Join(want, "\n") {
		t.Fatalf("mailed:\n%s\nwant:\n%s", strings.Join(box.subjects, "\n"), strings.Join(want, "\n"))
	}
}

func TestAlertHeldOncePerProblem(t *testing.T) {
	now := time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC)
	a, box := newAlerter(t, &now)
	ctx := t.Context()
	for _, held := range []int{2, 3, 3} {
		if err := a.AfterRun(ctx, reconcile.RunOutcome{Job: "charges", Held: held}); err != nil {
			t.Fatal(err)
		}
	}
	mustAlert(t, a.AfterRun(ctx, reconcile.RunOutcome{Job: "charges"}))
	mustAlert(t, a.AfterRun(ctx, reconcile.RunOutcome{Job: "charges", Held: 1}))
	wantSubjects(t, box, "ALERT: job charges held back 2 records or files", "ALERT: job charges held back 1 records or files")
}

func TestAlertNotMailedIsTriedAgain(t *testing.T) {
	now := time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC)
	a, box := newAlerter(t, &now)
	ctx := t.Context()
	box.down = true
	if err := a.AfterRun(ctx, reconcile.RunOutcome{Job: "payments", Err: errors.New("boom")}); err == nil {
		t.Fatal("no error while the mail server is down")
	}
	box.down = false
	mustAlert(t, a.AfterRun(ctx, reconcile.RunOutcome{Job: "payments", Err: errors.New("boom")}))
	mustAlert(t, a.AfterRun(ctx, reconcile.RunOutcome{Job: "payments", Err: errors.New("boom")}))
	wantSubjects(t, box, "ALERT: job payments failed")
}

func TestAlertOverdue(t *testing.T) {
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	now := start
	a, box := newAlerter(t, &now)
	ctx := t.Context()
	check := func(last time.Time) {
		t.Helper()
		mustAlert(t, a.Overdue(ctx, "report", last, start, 24*time.Hour, 30*time.Minute))
	}
	now = start.Add(24 * time.Hour)
	check(time.Time{}) // within the margin
	wantSubjects(t, box)
	for range 3 {
		now = now.Add(time.Hour)
		check(time.Time{})
	}
	wantSubjects(t, box, "ALERT: job report is overdue")
	// It runs: the run resolves it; the next check finds it on time.
	mustAlert(t, a.AfterRun(ctx, reconcile.RunOutcome{Job: "report"}))
	check(now)
	now = now.Add(48 * time.Hour)
	check(now.Add(-48 * time.Hour))
	wantSubjects(t, box, "ALERT: job report is overdue", "RESOLVED: job report ran again", "ALERT: job report is overdue")
}

func mustAlert(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
