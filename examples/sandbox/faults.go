package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

// errKilled is the failure injected at a step of a job: the run stops
// there, as a killed process would.
var errKilled = errors.New("feesync killed")

// faults injects failures at a rate: jobs killed at a random step (then
// restarted with the journal reopened), Alma answering 429, 5xx, slowly
// (past the client's timeout) or not at all, and, once the FTP fault proxy
// is in place, FTP connections cut and stalled.
type faults struct {
	rate        float64
	almaTimeout time.Duration

	mu    sync.Mutex
	rng   *rand.Rand
	kills int

	srv                                       *ftptest.Server
	ftpCuts, ftpMidCuts, ftpSlow, ftpRestarts int
	restartErr                                error
}

func newFaults(rate float64, seed int64) *faults {
	return &faults{rate: rate, almaTimeout: 100 * time.Millisecond, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa17))}
}

func (f *faults) chance() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

// alma returns Alma's faults: the rate is shared between the kinds.
func (f *faults) alma() almatest.Faults {
	return almatest.Faults{
		RateLimit429: f.rate / 4,
		Error5xx:     f.rate / 4,
		DropConn:     f.rate / 5,
		LostAnswer:   f.rate / 5,
		Slow:         f.rate / 10, // each costs the client its timeout in real time
		SlowDelay:    f.almaTimeout * 5 / 2,
		PerSecond:    -1,
	}
}

// kill is the jobs' fault hook: at each step, a job is killed at the rate.
func (f *faults) kill(step string) error {
	if f.chance() {
		f.mu.Lock()
		f.kills++
		f.mu.Unlock()
		return fmt.Errorf("%w before step %s", errKilled, step)
	}
	return nil
}

// library opens feesync's drop on the library's FTP server with FTP
// faults between the drop and the FTP driver: at the rate, an operation
// finds every session cut just before it starts, a transfer has its
// sessions cut in the middle, or a transfer runs slowly.
func (f *faults) library(ctx context.Context, srv *ftptest.Server, cfg ftpdrop.Config) (*transport.Drop, error) {
	f.srv = srv
	drv, err := ftpdrop.NewDriver(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return transport.NewDrop(&faultyFTP{inner: drv, f: f}, cfg.Drop), nil
}

// beforeJob restarts the FTP server before a job run at a quarter of the
// rate, as after a crash or an upgrade of the real server.
func (f *faults) beforeJob() {
	if f.srv != nil && f.chance() && f.chance() {
		f.count(&f.ftpRestarts)
		if err := f.srv.Restart(); err != nil {
			f.restartErr = err
		}
	}
}

func (f *faults) close() error { return f.restartErr }

func (f *faults) count(n *int) {
	f.mu.Lock()
	*n++
	f.mu.Unlock()
}

func (f *faults) intN(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.IntN(n)
}

// faultyFTP is the FTP driver with faults injected before and during its
// operations.
type faultyFTP struct {
	inner *ftpdrop.Driver
	f     *faults
}

var (
	_ transport.Driver = (*faultyFTP)(nil)
	_ transport.Stater = (*faultyFTP)(nil)
)

// cut drops every FTP session at the rate, so that the next command meets
// a dead connection.
func (d *faultyFTP) cut() {
	if d.f.chance() {
		d.f.count(&d.f.ftpCuts)
		d.f.srv.DropSessions()
	}
}

// transfer wraps the data of a transfer: at the rate, the sessions are cut
// after a few hundred bytes; at the rate again, the transfer is slowed.
func (d *faultyFTP) transfer(r io.Reader) io.Reader {
	switch {
	case d.f.chance():
		d.f.count(&d.f.ftpMidCuts)
		return &faultyReader{r: r, cutAt: int64(1 + d.f.intN(600)), cut: d.f.srv.DropSessions}
	case d.f.chance():
		d.f.count(&d.f.ftpSlow)
		return &faultyReader{r: r, cutAt: -1, delay: time.Duration(5+d.f.intN(20)) * time.Millisecond}
	}
	return r
}

func (d *faultyFTP) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	d.cut()
	return d.inner.List(ctx, dir)
}

func (d *faultyFTP) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	d.cut()
	return d.inner.Stat(ctx, name)
}

func (d *faultyFTP) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	d.cut()
	rc, err := d.inner.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{d.transfer(rc), rc}, nil
}

func (d *faultyFTP) Create(ctx context.Context, name string, r io.Reader) error {
	d.cut()
	return d.inner.Create(ctx, name, d.transfer(r))
}

func (d *faultyFTP) Rename(ctx context.Context, from, to string) error {
	d.cut()
	return d.inner.Rename(ctx, from, to)
}

func (d *faultyFTP) Remove(ctx context.Context, name string) error {
	d.cut()
	return d.inner.Remove(ctx, name)
}

func (d *faultyFTP) Mkdir(ctx context.Context, dir string) error {
	d.cut()
	return d.inner.Mkdir(ctx, dir)
}

func (d *faultyFTP) Close() error { return d.inner.Close() }

// faultyReader cuts the FTP sessions once cutAt bytes have passed (never
// when cutAt is negative), and waits delay before each read.
type faultyReader struct {
	r     io.Reader
	n     int64
	cutAt int64
	cut   func()
	delay time.Duration
}

func (r *faultyReader) Read(p []byte) (int, error) {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if r.cutAt >= 0 && r.n+int64(len(p)) > r.cutAt {
		if r.n < r.cutAt {
			p = p[:r.cutAt-r.n]
		} else {
			r.cut()
			r.cutAt = -1
		}
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

func (f *faults) summary(a *almatest.Server) string {
	calls := a.APICalls()[""]
	return fmt.Sprintf("of %d Alma API calls, about %g%% met a 429, a 5xx, a dropped, lost or slow answer; FTP sessions cut %d times before an operation and %d times in a transfer, %d slow transfers, the FTP server restarted %d times",
		calls, 100*f.rate, f.ftpCuts, f.ftpMidCuts, f.ftpSlow, f.ftpRestarts)
}
