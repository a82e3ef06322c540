// Package instance runs one of several instances of a service over one
// journal, only one of them active: the holder of a lease in the journal
// (by default "active") does the work, the others are standbys that take
// the lease over when its holder is gone.
//
// The rules are the journal's leases ([journal.Journal.TakeLease]): the
// active instance renews its lease every third of it, and writes under
// its fence ([journal.WithFence]); a standby takes the lease when it is
// released or has expired on the journal's clock. A standby does not poll
// blindly: it sleeps until the holder's lease expires ([Instance.Take]
// says how long), so that an active instance killed without releasing
// its lease is taken over when the lease of its last renewal expires: at
// most the configured lease after the kill (plus the time of one take).
// It still tries every third of the lease, so that a lease released on
// a clean shutdown is taken within a third.
//
// feesync serve runs [Instance.Serve]; the sandbox's -instances, whose
// clock is simulated, takes the lease step by step with [Instance.Take].
package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// DefaultLease is the name of the lease the active instance holds.
const DefaultLease = "active"

// minWait is the shortest a standby waits before it tries again: a lease
// found expired but not yet taken (a race with another standby) is tried
// again soon, without spinning.
const minWait = 10 * time.Millisecond

// Store is what an instance needs of the journal: its leases.
type Store interface {
	TakeLease(ctx context.Context, name string, ttl time.Duration) (journal.Lease, error)
	RenewLease(ctx context.Context, l journal.Lease, ttl time.Duration) (journal.Lease, error)
	ReleaseLease(ctx context.Context, l journal.Lease)
	Leases(ctx context.Context) ([]journal.Lease, error)
}

// Instance is one instance over Store.
type Instance struct {
	// Store is the journal the instances share.
	Store Store
	// TTL is the lease (feesync's serve.lease, 1 minute by default):
	// the active instance renews it every TTL/3.
	TTL time.Duration
	// Name is the lease's name; DefaultLease when empty.
	Name string
	// Now is the journal's clock, which the leases' expiries are on;
	// time.Now when nil.
	Now func() time.Time
	// Logger receives the changes of role; slog.Default when nil.
	Logger *slog.Logger
	// OnRole, when set, is told each change of role: active with the
	// lease held, or standby (active false, a zero lease).
	OnRole func(active bool, l journal.Lease)
}

func (in *Instance) name() string {
	if in.Name == "" {
		return DefaultLease
	}
	return in.Name
}

func (in *Instance) now() time.Time {
	if in.Now == nil {
		return time.Now()
	}
	return in.Now()
}

func (in *Instance) logger() *slog.Logger {
	if in.Logger == nil {
		return slog.Default()
	}
	return in.Logger
}

// Take tries to take the lease. It returns it when this instance now
// holds it. When another holds it, the error wraps [journal.ErrLocked]
// and wait is when to try again: when the holder's lease expires on the
// journal's clock, or in TTL/3 if that is sooner (a lease its holder
// releases is then seen within a third of it), and not before a few
// milliseconds. A standby that waits so never sleeps past the expiry of
// a dead holder's lease. Other errors are the journal's.
func (in *Instance) Take(ctx context.Context) (l journal.Lease, wait time.Duration, err error) {
	l, err = in.Store.TakeLease(ctx, in.name(), in.TTL)
	if err == nil || !errors.Is(err, journal.ErrLocked) {
		return l, 0, err
	}
	leases, lerr := in.Store.Leases(ctx)
	if lerr != nil {
		return l, in.TTL / 3, err
	}
	wait = minWait
	for _, h := range leases {
		if h.Name == in.name() {
			wait = max(wait, h.Expires.Sub(in.now()))
		}
	}
	return l, min(wait, max(in.TTL/3, minWait)), err
}

// Serve runs active whenever this instance holds the lease, until ctx
// ends. Without it the instance is a standby: it tries the lease when
// the holder's expires ([Instance.Take]). The active instance renews the
// lease every TTL/3; when a renewal finds it taken over (the instance was
// paused or cut off past the lease), active's context is cancelled at
// once, its journal writes are fenced by the lease meanwhile
// ([journal.WithFence]), and the instance becomes a standby again. On
// ctx's end a held lease is released, so that a standby takes over at
// once. Serve returns active's error, or nil when ctx ends.
func (in *Instance) Serve(ctx context.Context, active func(ctx context.Context) error) error {
	for {
		l, wait, err := in.Take(ctx)
		switch {
		case err == nil:
			in.role(true, l)
			err = in.activeTerm(ctx, l, active)
			in.role(false, journal.Lease{})
			if err != nil {
				return err
			}
			wait = minWait
		case errors.Is(err, journal.ErrLocked):
		case ctx.Err() != nil:
		default:
			in.logger().Warn("standby: cannot take the active lease", "err", err.Error())
			wait = in.TTL / 3
		}
		t := time.NewTimer(max(wait, minWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (in *Instance) role(active bool, l journal.Lease) {
	if in.OnRole != nil {
		in.OnRole(active, l)
	}
}

// activeTerm runs active under the lease l until ctx ends or the lease is
// lost, renewing it every TTL/3.
func (in *Instance) activeTerm(ctx context.Context, l journal.Lease, active func(ctx context.Context) error) error {
	in.logger().Info("active: this instance holds the active lease", "instance", l.Instance, "token", l.Token)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- active(journal.WithFence(actx, l)) }()
	t := time.NewTicker(max(in.TTL/3, minWait))
	defer t.Stop()
	for {
		select {
		case err := <-done:
			in.Store.ReleaseLease(context.WithoutCancel(ctx), l)
			return err
		case <-t.C:
		}
		renewed, err := in.Store.RenewLease(ctx, l, in.TTL)
		switch {
		case errors.Is(err, journal.ErrLeaseLost):
			in.logger().Error("active lease lost: stopping the jobs, now a standby", "err", err.Error())
			cancel(fmt.Errorf("instance: %w", err))
			<-done
			return nil
		case err != nil && ctx.Err() == nil:
			in.logger().Warn("active lease: renewal failed, trying again", "err", err.Error())
		case err == nil:
			l = renewed
		}
	}
}
