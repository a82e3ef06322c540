package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// ErrLeaseLost is wrapped by the error of a run whose job lease was taken
// over by another owner while it ran (its renewal failed, or a fenced
// write was refused): the run stopped and decided nothing more.
var ErrLeaseLost = journal.ErrLeaseLost

// heldLease is a lease a run holds: renewed every ttl/3 by a heartbeat
// while the run lasts, and fencing the run's journal writes.
type heldLease struct {
	store  Store
	log    *slog.Logger
	ttl    time.Duration
	cancel context.CancelCauseFunc
	done   chan struct{}
	lease  journal.Lease
}

// holdLease takes the lease called name for ttl and returns a context,
// derived from ctx, whose journal writes are fenced by it and which is
// cancelled, with a cause wrapping [ErrLeaseLost], when a renewal finds
// the lease taken over; stop ends the heartbeat and releases the lease.
func holdLease(ctx context.Context, store Store, log *slog.Logger, name string, ttl time.Duration) (context.Context, func(), error) {
	l, err := store.TakeLease(ctx, name, ttl)
	if err != nil {
		return ctx, nil, err
	}
	h := &heldLease{store: store, log: log, ttl: ttl, done: make(chan struct{}), lease: l}
	run, cancel := context.WithCancelCause(ctx)
	h.cancel = cancel
	stopped := make(chan struct{})
	go h.heartbeat(run, stopped)
	stop := func() {
		close(h.done)
		<-stopped
		cancel(nil)
		store.ReleaseLease(context.WithoutCancel(ctx), h.lease)
	}
	return journal.WithFence(run, l), stop, nil
}

// heartbeat renews the lease every ttl/3 until done is closed or the
// lease is lost; it closes stopped when it returns.
func (h *heldLease) heartbeat(ctx context.Context, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(max(h.ttl/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l, err := h.store.RenewLease(ctx, h.lease, h.ttl)
		switch {
		case errors.Is(err, journal.ErrLeaseLost):
			h.log.LogAttrs(ctx, slog.LevelError, "reconcile: lease lost: the run stops", slog.String("lease", h.lease.Name), slog.String("error", err.Error()))
			h.cancel(fmt.Errorf("reconcile: %w", err))
			return
		case err != nil:
			// The database did not answer: try again at the next beat;
			// the fence still guards every write meanwhile.
			h.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: lease renewal failed", slog.String("lease", h.lease.Name), slog.String("error", err.Error()))
		default:
			h.lease = l
		}
	}
}

// leaseErr is err, or, when the run's context was cancelled because its
// lease was lost, an error saying so (wrapping [ErrLeaseLost]).
func leaseErr(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, journal.ErrLeaseLost) {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, journal.ErrLeaseLost) {
		return fmt.Errorf("%w (the run stopped: %v)", cause, err)
	}
	return err
}
