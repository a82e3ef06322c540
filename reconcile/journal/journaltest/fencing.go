package journaltest

import (
	"errors"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// testFencing checks leases with fencing: a token that grows at every new
// holder, a renewal that only the holder makes, and writes fenced by a
// lease that fail, writing nothing, once it was taken over.
func testFencing(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	ctx := t.Context()
	first, err := s.TakeLease(ctx, "active", time.Minute)
	must(t, err)
	if first.Token < 1 || first.Owner == "" || !first.Expires.Equal(day.Add(time.Minute)) {
		t.Fatalf("TakeLease = %+v, want a token, an owner and an expiry a minute on", first)
	}
	c.now = c.now.Add(30 * time.Second)
	first, err = s.RenewLease(ctx, first, time.Minute)
	must(t, err)
	if !first.Expires.Equal(c.now.Add(time.Minute)) {
		t.Errorf("renewed lease expires %v, want %v", first.Expires, c.now.Add(time.Minute))
	}
	fenced := journal.WithFence(ctx, first)
	must(t, s.Put(fenced, event("E1", day)))

	// The holder pauses; its lease expires and another takes it over.
	c.now = c.now.Add(2 * time.Minute)
	second, err := s.TakeLease(ctx, "active", time.Minute)
	must(t, err)
	if second.Token <= first.Token || second.Owner == first.Owner {
		t.Fatalf("takeover = %+v after %+v, want a greater token and another owner", second, first)
	}
	if _, err := s.RenewLease(ctx, first, time.Minute); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("renewal by the old holder = %v, want ErrLeaseLost", err)
	}
	// Woken up, the old holder can commit nothing.
	if err := s.Put(fenced, event("E2", c.now)); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("fenced Put after takeover = %v, want ErrLeaseLost", err)
	}
	if _, err := s.AddFile(fenced, journal.FileRecord{Job: "charges", Name: "late.xml", SHA256: "ab", Status: journal.FileDone}); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("fenced AddFile after takeover = %v, want ErrLeaseLost", err)
	}
	if v, err := s.Begin(fenced, journal.FileRecord{Job: "charges", Name: "late.xml", SHA256: "cd", Status: journal.FileDeciding}, c.now); !errors.Is(err, journal.ErrLeaseLost) {
		if err == nil {
			v.Rollback()
		}
		t.Errorf("fenced Begin after takeover = %v, want ErrLeaseLost", err)
	}
	if _, ok, err := s.Get(ctx, "event", "E2"); err != nil || ok {
		t.Errorf("the old holder's fenced write is in the journal (%v, %v)", ok, err)
	}
	if files, err := s.Files(ctx, "charges"); err != nil || len(files) != 0 {
		t.Errorf("the old holder's fenced files are in the journal: %+v, %v", files, err)
	}
	// The new holder writes; the old one's release frees nothing.
	must(t, s.Put(journal.WithFence(ctx, second), event("E3", c.now)))
	s.ReleaseLease(ctx, first)
	if _, err := s.TakeLease(ctx, "active", time.Minute); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("TakeLease after the old holder released = %v, want ErrLocked", err)
	}

	// Released, the lease is free at once and its token still grows.
	s.ReleaseLease(ctx, second)
	third, err := s.TakeLease(ctx, "active", time.Minute)
	must(t, err)
	if third.Token <= second.Token {
		t.Errorf("token after a release = %d, want more than %d", third.Token, second.Token)
	}
	if err := s.Put(journal.WithFence(ctx, second), event("E4", c.now)); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("Put fenced by a released lease = %v, want ErrLeaseLost", err)
	}
	// Broken by an operator, the lease fences its holder out too.
	op, ok := s.(Operator)
	if !ok {
		t.Fatalf("%T cannot list or break leases (journaltest.Operator)", s)
	}
	must(t, op.BreakLease(ctx, third))
	if err := s.Put(journal.WithFence(ctx, third), event("E5", c.now)); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("Put fenced by a broken lease = %v, want ErrLeaseLost", err)
	}
	if _, err := s.RenewLease(ctx, third, time.Minute); !errors.Is(err, journal.ErrLeaseLost) {
		t.Errorf("renewal of a broken lease = %v, want ErrLeaseLost", err)
	}
}

// event is a webhook event record, handled, written at at.
func event(key string, at time.Time) journal.Record {
	return journal.Record{Kind: journal.KindEvent, Key: key, Outcome: journal.OutcomeDone, Created: at, Updated: at}
}
