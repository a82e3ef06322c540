package instance_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/instance"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestTakeNeverSleepsPastExpiry: a standby that waits as Take says gets
// a dead holder's lease at the moment it expires, whatever the phase of
// the kill, never before, and never waits more than a third of the lease
// at a time.
func TestTakeNeverSleepsPastExpiry(t *testing.T) {
	const ttl = time.Minute
	for _, killedAfter := range []time.Duration{0, time.Second, 19 * time.Second, 20 * time.Second, 59 * time.Second} {
		now := time.Date(2026, 9, 14, 18, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		j, err := journal.OpenMemory(t.Context(), &journal.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		a := &instance.Instance{Store: j, TTL: ttl, Now: clock}
		b := &instance.Instance{Store: j, TTL: ttl, Now: clock}
		held, _, err := a.Take(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(killedAfter)
		for {
			l, wait, err := b.Take(t.Context())
			if err == nil {
				if !now.Equal(held.Expires) || l.Token != held.Token+1 {
					t.Errorf("killed after %s: taken over at %s with token %d, want at the expiry %s with token %d",
						killedAfter, now.Format(time.TimeOnly), l.Token, held.Expires.Format(time.TimeOnly), held.Token+1)
				}
				break
			}
			if !errors.Is(err, journal.ErrLocked) {
				t.Fatal(err)
			}
			if !now.Before(held.Expires) {
				t.Fatalf("killed after %s: the lease expired at %s and is still refused at %s", killedAfter, held.Expires, now)
			}
			if wait <= 0 || wait > ttl/3 || now.Add(wait).After(held.Expires) {
				t.Fatalf("killed after %s: at %s told to wait %s, past the expiry %s or over a third of the lease",
					killedAfter, now.Format(time.TimeOnly), wait, held.Expires.Format(time.TimeOnly))
			}
			now = now.Add(wait)
		}
		j.Close()
	}
}

// TestServeHandsOver: of two instances serving over one journal, one is
// active, its work's journal writes fenced by the lease; when it stops,
// it releases the lease and the other becomes active; when its lease is
// broken under it, its work is cancelled with a cause wrapping
// journal.ErrLeaseLost.
func TestServeHandsOver(t *testing.T) {
	j, err := journal.OpenMemory(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	const ttl = 300 * time.Millisecond
	type term struct {
		who   string
		fence journal.Lease
		ended chan error // the cause of the end of the work
	}
	terms := make(chan term, 4)
	work := func(who string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			l, _ := journal.FenceOf(ctx)
			tm := term{who, l, make(chan error, 1)}
			terms <- tm
			<-ctx.Done()
			tm.ended <- context.Cause(ctx)
			return nil
		}
	}
	serve := func(who string) (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		in := &instance.Instance{Store: j, TTL: ttl}
		go func() { done <- in.Serve(ctx, work(who)) }()
		return cancel, done
	}
	next := func() term {
		select {
		case tm := <-terms:
			return tm
		case <-time.After(10 * time.Second):
			t.Fatal("no instance became active")
			return term{}
		}
	}
	stopA, doneA := serve("a")
	first := next()
	if first.who != "a" || first.fence.Name != instance.DefaultLease {
		t.Fatalf("first active: %s fenced by %+v, want a fenced by the active lease", first.who, first.fence)
	}
	stopB, doneB := serve("b")
	defer func() { stopB(); <-doneB }()
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	second := next()
	if second.who != "b" || second.fence.Token <= first.fence.Token {
		t.Fatalf("after a stopped: %s active with token %d, want b with a token above %d", second.who, second.fence.Token, first.fence.Token)
	}
	if err := j.BreakLease(t.Context(), second.fence); err != nil {
		t.Fatal(err)
	}
	// Another owner takes the broken lease before b's next renewal.
	if _, err := j.TakeLease(t.Context(), instance.DefaultLease, time.Hour); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-second.ended:
		if !errors.Is(cause, journal.ErrLeaseLost) {
			t.Errorf("b's work ended with %v, want the lease lost", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b's work went on after its lease was taken over")
	}
}
