package journaltest

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// testEventQueue: a webhook event is added once, pending and due at once;
// an attempt that fails sets it due later, which survives in the store;
// one that fails for good leaves the queue until it is retried.
func testEventQueue(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	ctx := t.Context()
	ev := journal.Record{Key: "E1", UserID: "S1", Barcode: "B1", Ref: "L1"}
	for i, want := range []bool{true, false} {
		if added, err := s.AddEvent(ctx, ev); err != nil || added != want {
			t.Fatalf("AddEvent #%d = %v, %v; want %v", i+1, added, err, want)
		}
	}
	due, err := s.DueEvents(ctx, day, 10)
	if err != nil || len(due) != 1 || due[0].Key != "E1" || due[0].Kind != journal.KindEvent ||
		due[0].Outcome != journal.OutcomePending || due[0].UserID != "S1" || due[0].Ref != "L1" || !due[0].Next.Equal(day) {
		t.Fatalf("DueEvents = %+v, %v", due, err)
	}
	e := due[0]
	e.Attempts, e.Next, e.Reason = 1, day.Add(time.Minute), "Alma down"
	must(t, s.PutEvent(ctx, e))
	if due, err := s.DueEvents(ctx, day, 10); err != nil || len(due) != 0 {
		t.Errorf("DueEvents before the next attempt = %+v, %v", due, err)
	}
	if next, ok, err := s.NextEvent(ctx); err != nil || !ok || !next.Equal(day.Add(time.Minute)) {
		t.Errorf("NextEvent = %v, %v, %v", next, ok, err)
	}
	got, ok, err := s.GetEvent(ctx, "E1")
	if err != nil || !ok || got.Attempts != 1 || got.Reason != "Alma down" || !got.Created.Equal(day) {
		t.Errorf("GetEvent = %+v, %v, %v", got, ok, err)
	}
	e.Outcome, e.Code, e.Next = journal.OutcomeFailed, "permanent", time.Time{}
	must(t, s.PutEvent(ctx, e))
	if _, ok, err := s.NextEvent(ctx); err != nil || ok {
		t.Errorf("NextEvent with nothing pending = %v, %v", ok, err)
	}
	if n, err := s.RetryEvents(ctx, "E2", day); err != nil || n != 0 {
		t.Errorf("RetryEvents(E2) = %d, %v", n, err)
	}
	if n, err := s.RetryEvents(ctx, "", day.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("RetryEvents(all) = %d, %v", n, err)
	}
	if due, err := s.DueEvents(ctx, day.Add(time.Hour), 10); err != nil || len(due) != 1 || due[0].Attempts != 0 {
		t.Errorf("DueEvents after the retry = %+v, %v", due, err)
	}
}
