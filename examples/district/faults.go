package district

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

// ErrKilled is the failure the fault hook [Faults.Kill] injects at a step
// of a job: the run stops there, as a killed process would.
var ErrKilled = errors.New("feesync killed")

// Faults injects failures at a rate: jobs killed at a random step (then
// restarted with the journal reopened), Alma answering 429, 5xx, slowly
// (past the client's timeout) or not at all, FTP connections cut or
// stalled by a proxy, and the FTP server restarting. The draws come from
// the seed; timeouts depend on the machine's speed.
type Faults struct {
	rate        float64
	almaTimeout time.Duration

	mu  sync.Mutex
	rng *rand.Rand

	srv                                       *ftptest.Server
	proxy                                     *ftptest.Proxy
	ftpTimeout                                time.Duration
	ftpCuts, ftpMidCuts, ftpSlow, ftpRestarts int
	restartErr                                error
}

func newFaults(rate float64, seed int64) *Faults {
	return &Faults{rate: rate, almaTimeout: 100 * time.Millisecond, ftpTimeout: 150 * time.Millisecond, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa17))}
}

func (f *Faults) chance() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

// alma returns Alma's faults: the rate is shared between the kinds.
func (f *Faults) alma() almatest.Faults {
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

// Kill is the jobs' fault hook (reconcile.WithFaultHook): at each step, a
// job is killed at the rate, with an error that wraps [ErrKilled].
func (f *Faults) Kill(step string) error {
	if f.chance() {
		return fmt.Errorf("%w before step %s", ErrKilled, step)
	}
	return nil
}

// library opens feesync's drop on the library's FTP server through a
// cutting proxy (ftptest.Proxy), with faults between the drop and the FTP
// driver: at the rate, an operation finds every connection cut just before
// it starts, a transfer has its connections cut part way through, or the
// data connections stall for a while (a slow transfer, or one that runs
// past the client's I/O timeout and is tried again).
func (f *Faults) library(ctx context.Context, srv *ftptest.Server, cfg ftpdrop.Config) (*transport.Drop, error) {
	f.srv = srv
	proxy, err := ftptest.NewProxy(srv.Addr)
	if err != nil {
		return nil, err
	}
	f.proxy = proxy
	cfg.Addr = proxy.Addr
	cfg.IOTimeout = f.ftpTimeout
	drv, err := ftpdrop.NewDriver(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return transport.NewDrop(&faultyFTP{inner: drv, f: f}, cfg.Drop), nil
}

// BeforeJob restarts the FTP server before a job run at a quarter of the
// rate, as after a crash or an upgrade of the real server. Call it before
// each run of one of feesync's jobs.
func (f *Faults) BeforeJob() {
	if f.srv != nil && f.chance() && f.chance() {
		f.count(&f.ftpRestarts)
		if err := f.srv.Restart(); err != nil {
			f.restartErr = err
		}
	}
}

// AlmaTimeout is the timeout feesync's Alma client should use: Alma's
// slow answers run past it.
func (f *Faults) AlmaTimeout() time.Duration { return f.almaTimeout }

func (f *Faults) close() error {
	var err error
	if f.proxy != nil {
		err = f.proxy.Close()
	}
	return errors.Join(f.restartErr, err)
}

func (f *Faults) count(n *int) {
	f.mu.Lock()
	*n++
	f.mu.Unlock()
}

func (f *Faults) intN(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.IntN(n)
}

// faultyFTP is the FTP driver with faults injected before and during its
// operations.
type faultyFTP struct {
	inner *ftpdrop.Driver
	f     *Faults
}

var (
	_ transport.Driver = (*faultyFTP)(nil)
	_ transport.Stater = (*faultyFTP)(nil)
)

// cut cuts every connection through the proxy at the rate, so that the
// next command meets a dead session.
func (d *faultyFTP) cut() {
	if d.f.chance() {
		d.f.count(&d.f.ftpCuts)
		d.f.proxy.CutAll()
	}
}

// transfer arms the faults of one transfer: at the rate, the connections
// are cut once the data connections have carried a few hundred more bytes;
// at the rate again, the data connections stall for up to twice the
// client's I/O timeout.
func (d *faultyFTP) transfer() {
	if d.f.chance() {
		d.f.count(&d.f.ftpMidCuts)
		d.f.proxy.CutAfter(int64(1 + d.f.intN(600)))
	}
	if d.f.chance() {
		d.f.count(&d.f.ftpSlow)
		d.f.proxy.Stall(true)
		stall := time.Duration(1+d.f.intN(20)) * d.f.ftpTimeout / 10
		time.AfterFunc(stall, func() { d.f.proxy.Stall(false) })
	}
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
	// A data connection cut after the server has sent its whole file
	// ends in a clean end of file and a "226 Transfer complete" that
	// the proxy had already relayed: the download looks whole but is
	// short. Checking the length against the server's size turns it into
	// the transient failure it is (see the sandbox's report).
	fi, err := d.inner.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	d.transfer()
	rc, err := d.inner.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &sizedReader{rc: rc, name: name, want: fi.Size}, nil
}

func (d *faultyFTP) Create(ctx context.Context, name string, r io.Reader) error {
	d.cut()
	d.transfer()
	// The same holds for an upload: a data connection cut in the proxy
	// ends, at the server, in a clean end of file and a short file. The
	// size on the server is checked against the bytes sent.
	cr := &countingReader{r: r}
	if err := d.inner.Create(ctx, name, cr); err != nil {
		return err
	}
	fi, err := d.inner.Stat(ctx, name)
	if err != nil {
		return err
	}
	if fi.Size != cr.n {
		return transport.Errorf(transport.Transient, "write", name, "the server holds %d of the %d bytes sent", fi.Size, cr.n)
	}
	return nil
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

// sizedReader reports a download that ends before the file's size as a
// transient failure rather than a clean end of file.
type sizedReader struct {
	rc      io.ReadCloser
	name    string
	n, want int64
}

func (r *sizedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n += int64(n)
	if err == io.EOF && r.n != r.want {
		return n, transport.Errorf(transport.Transient, "read", r.name, "the transfer ended after %d of %d bytes", r.n, r.want)
	}
	return n, err
}

func (r *sizedReader) Close() error { return r.rc.Close() }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

func (f *Faults) summary(a *almatest.Server) string {
	calls := a.APICalls()[""]
	return fmt.Sprintf("of %d Alma API calls, about %g%% met a 429, a 5xx, a dropped, lost or slow answer; FTP connections cut %d times before an operation and %d times in a transfer, %d stalls of the data connections, the FTP server restarted %d times",
		calls, 100*f.rate, f.ftpCuts, f.ftpMidCuts, f.ftpSlow, f.ftpRestarts)
}
