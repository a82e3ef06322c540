package journal_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestEventCounts (issue 16, the status page): webhook events are counted
// by outcome, with the time the newest arrived; other records do not count.
func TestEventCounts(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		j, err := open(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if c, err := j.EventCounts(ctx); err != nil || c != (journal.EventCounts{}) {
			t.Fatalf("empty journal: %+v, %v", c, err)
		}
		t0 := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		for i, key := range []string{"E1", "E2", "E3", "E4"} {
			if _, err := j.AddEvent(ctx, journal.Record{Key: key, UserID: "u", Updated: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		for key, outcome := range map[string]string{"E1": journal.OutcomeDone, "E2": journal.OutcomeFailed} {
			ev, _, err := j.GetEvent(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			ev.Outcome = outcome
			if err := j.PutEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Put(ctx, journal.Record{Kind: journal.KindCharge, Key: "C1", Outcome: journal.OutcomeCharged}); err != nil {
			t.Fatal(err)
		}
		c, err := j.EventCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := journal.EventCounts{Received: 4, Pending: 2, Done: 1, Failed: 1, Last: t0.Add(3 * time.Minute)}
		if c != want {
			t.Errorf("EventCounts = %+v, want %+v", c, want)
		}
	})
}
