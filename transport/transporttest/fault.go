package transporttest

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/feebridge/feebridge/transport"
)

// ErrCrashed is the error of every call a [FaultDriver] refuses.
var ErrCrashed = errors.New("transporttest: simulated crash")

// FaultDriver wraps a driver and refuses every call after a chosen number
// of calls, as if the process had stopped there. Crash-recovery tests run
// a job over a FaultDriver for n = 0, 1, 2, ... calls, then run it again
// over the bare driver and check that the end state is the same as without
// a crash.
//
// The wrapper hides the wrapped driver's optional abilities, so the
// [transport.Drop] uses its generic steps, each of which is one call.
type FaultDriver struct {
	transport.Driver

	mu    sync.Mutex
	calls int
	limit int // calls allowed; -1 for no limit
}

var _ transport.Driver = (*FaultDriver)(nil)

// NewFaultDriver returns a wrapper over d that lets every call through
// until [FaultDriver.CrashAfter] is called.
func NewFaultDriver(d transport.Driver) *FaultDriver {
	return &FaultDriver{Driver: d, limit: -1}
}

// CrashAfter lets n more calls through and refuses all calls after them
// with [ErrCrashed] (code [transport.Unknown], so the Drop does not retry).
func (f *FaultDriver) CrashAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = f.calls + n
}

// Crashed reports whether a call has been refused.
func (f *FaultDriver) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit >= 0 && f.calls > f.limit
}

func (f *FaultDriver) enter(op, p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.limit >= 0 && f.calls > f.limit {
		return &transport.Error{Code: transport.Unknown, Op: op, Path: p, Err: ErrCrashed}
	}
	return nil
}

// List implements [transport.Driver].
func (f *FaultDriver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	if err := f.enter("list", dir); err != nil {
		return nil, err
	}
	return f.Driver.List(ctx, dir)
}

// Open implements [transport.Driver].
func (f *FaultDriver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := f.enter("open", name); err != nil {
		return nil, err
	}
	return f.Driver.Open(ctx, name)
}

// Create implements [transport.Driver].
func (f *FaultDriver) Create(ctx context.Context, name string, r io.Reader) error {
	if err := f.enter("create", name); err != nil {
		return err
	}
	return f.Driver.Create(ctx, name, r)
}

// Rename implements [transport.Driver].
func (f *FaultDriver) Rename(ctx context.Context, from, to string) error {
	if err := f.enter("rename", from); err != nil {
		return err
	}
	return f.Driver.Rename(ctx, from, to)
}

// Remove implements [transport.Driver].
func (f *FaultDriver) Remove(ctx context.Context, name string) error {
	if err := f.enter("remove", name); err != nil {
		return err
	}
	return f.Driver.Remove(ctx, name)
}

// Mkdir implements [transport.Driver].
func (f *FaultDriver) Mkdir(ctx context.Context, dir string) error {
	if err := f.enter("mkdir", dir); err != nil {
		return err
	}
	return f.Driver.Mkdir(ctx, dir)
}
