package district

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// ErrKilled is the failure the fault hook [Faults.Kill] injects at a step
// of a job: the run stops there, as a killed process would.
var ErrKilled = errors.New("feesync killed")

// Faults injects failures at a rate: jobs killed at a random step (then
// restarted with the journal reopened), Alma answering 429, 5xx or not at
// all (a dropped connection, or an answer lost after the call took
// effect), FTP connections cut before an operation, transfers that end
// early, and the FTP server restarting.
//
// The same seed injects the same faults, whatever the goroutines and the
// machine's speed do. Each fault site draws from its own source, derived
// from the seed, the site's key (the fault, the operation and the file's
// name, or the job's step) and how many times that key was drawn before;
// so a draw never depends on the order in which concurrent callers reach
// a shared stream. No fault depends on a real-time race either: Alma's
// slow answers, which cost the client its timeout, are injected as what
// the client then sees, a connection closed without an answer, and a
// stalled FTP transfer as one that ends early; the timeouts of feesync's
// clients are long enough that no other call reaches them.
type Faults struct {
	rate float64
	seed int64

	mu    sync.Mutex
	drawn map[string]uint64 // per key, the draws made so far

	srv                            *ftptest.Server
	proxy                          *ftptest.Proxy
	ftpCuts, ftpEarly, ftpRestarts int
	restartErr                     error

	// With an SFTP server (sftp.go): its kind for the summary, its
	// restart, its proxy and the stalls injected.
	kind    string // "" is FTP
	restart func() error
	sproxy  *sftptest.Proxy
	stalls  int
}

// The timeouts of feesync's clients under faults: far above what a call to
// the fakes takes on a loaded machine, so that only an injected fault
// fails a call.
const (
	almaTimeout = 10 * time.Second
	ftpTimeout  = 10 * time.Second
)

func newFaults(rate float64, seed int64) *Faults {
	return &Faults{rate: rate, seed: seed, drawn: map[string]uint64{}}
}

// source returns the source of the next draw at the site key: its own,
// derived from the seed, the key and the number of earlier draws there.
func (f *Faults) source(key string) *rand.Rand {
	f.mu.Lock()
	n := f.drawn[key]
	f.drawn[key] = n + 1
	f.mu.Unlock()
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(f.seed)^0xfa17fa17fa17fa17, h.Sum64()+n*0x9e3779b97f4a7c15))
}

// chance draws at the site key whether a fault happens, at the rate.
func (f *Faults) chance(key string) bool { return f.source(key).Float64() < f.rate }

// alma returns Alma's faults: the rate is shared between the kinds. Alma
// draws them from its own seeded source, one draw per call; the calls come
// one at a time (see the sandbox's AlmaWorkers), so in the same order.
// Slow answers are left out: see [Faults].
func (f *Faults) alma() almatest.Faults {
	return almatest.Faults{
		RateLimit429: f.rate / 4,
		Error5xx:     f.rate / 4,
		DropConn:     f.rate/5 + f.rate/10, // the slow answers: no answer within the timeout
		LostAnswer:   f.rate / 5,
		PerSecond:    -1,
	}
}

// Kill is the jobs' fault hook (reconcile.WithFaultHook): at each step, a
// job is killed at the rate, with an error that wraps [ErrKilled].
func (f *Faults) Kill(step string) error {
	if f.chance("kill " + step) {
		return fmt.Errorf("%w before step %s", ErrKilled, step)
	}
	return nil
}

// library opens feesync's drop on the library's FTP server through a
// cutting proxy (ftptest.Proxy), with faults between the drop and the FTP
// driver: at the rate, an operation finds every connection cut just before
// it starts, and a transfer ends early (a download read short, an upload
// stored short), which the drop then sees as the transient failure it is.
func (f *Faults) library(ctx context.Context, srv *ftptest.Server, cfg ftpdrop.Config) (*transport.Drop, error) {
	f.srv, f.restart = srv, srv.Restart
	proxy, err := ftptest.NewProxy(srv.Addr)
	if err != nil {
		return nil, err
	}
	f.proxy = proxy
	cfg.Addr = proxy.Addr
	cfg.IOTimeout = ftpTimeout
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
	r := f.source("ftp restart")
	if f.restart != nil && r.Float64() < f.rate && r.Float64() < f.rate {
		f.count(&f.ftpRestarts)
		if err := f.restart(); err != nil {
			f.restartErr = err
		}
	}
}

// AlmaTimeout is the timeout feesync's Alma client should use: long enough
// that only an injected fault fails a call (see [Faults]).
func (f *Faults) AlmaTimeout() time.Duration { return almaTimeout }

func (f *Faults) close() error {
	var err error
	if f.proxy != nil {
		err = f.proxy.Close()
	}
	if f.sproxy != nil {
		err = f.sproxy.Close()
	}
	return errors.Join(f.restartErr, err)
}

func (f *Faults) count(n *int) {
	f.mu.Lock()
	*n++
	f.mu.Unlock()
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

// siteName is the name a fault site is keyed by: a temporary upload name,
// random by design, counts as the name it is for.
func siteName(name string) string {
	dir, base := path.Split(name)
	if transport.IsTempName(base) {
		if i := strings.LastIndex(base, ".tmp-"); i > 1 {
			base = base[1:i] + " (temporary)"
		}
	}
	return dir + base
}

// cut cuts every connection through the proxy at the rate, so that the
// next command meets a dead session.
func (d *faultyFTP) cut(op, name string) {
	if d.f.chance("ftp cut " + op + " " + siteName(name)) {
		d.f.count(&d.f.ftpCuts)
		d.f.proxy.CutAll()
	}
}

// arm draws whether the transfer of size bytes about to start ends early,
// at the rate, and after how many bytes (1 to size-1), and arms the proxy
// so. The returned func, called once the transfer is over, disarms an end
// the transfer did not reach (it failed before), so that it never falls
// on another transfer.
func (d *faultyFTP) arm(op, name string, size int64) (disarm func()) {
	r := d.f.source("ftp early " + op + " " + siteName(name))
	if r.Float64() >= d.f.rate || size < 2 {
		return func() {}
	}
	d.f.count(&d.f.ftpEarly)
	p := d.f.proxy
	before := p.Truncations()
	p.TruncateAfter(1 + r.Int64N(size-1))
	return func() {
		if p.Truncations() == before {
			p.TruncateAfter(math.MaxInt64 / 4) // never reached
		}
	}
}

func (d *faultyFTP) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	d.cut("list", dir)
	return d.inner.List(ctx, dir)
}

func (d *faultyFTP) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	d.cut("stat", name)
	return d.inner.Stat(ctx, name)
}

func (d *faultyFTP) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	d.cut("get", name)
	// A data connection cut after the server has sent its whole file
	// ends in a clean end of file and a "226 Transfer complete" that
	// the proxy had already relayed: the download looks whole but is
	// short. Checking the length against the server's size turns it into
	// the transient failure it is (see the sandbox's report).
	fi, err := d.inner.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	disarm := d.arm("get", name, fi.Size)
	rc, err := d.inner.Open(ctx, name)
	if err != nil {
		disarm()
		return nil, err
	}
	return &sizedReader{rc: rc, name: name, want: fi.Size, done: disarm}, nil
}

func (d *faultyFTP) Create(ctx context.Context, name string, r io.Reader) error {
	d.cut("put", name)
	// The files are small: read whole, the upload's size is known, and
	// where it ends early can be drawn within it.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	// The same holds for an upload: a data connection cut in the proxy
	// ends, at the server, in a clean end of file and a short file. The
	// size on the server is checked against the bytes sent.
	disarm := d.arm("put", name, int64(len(data)))
	err = d.inner.Create(ctx, name, bytes.NewReader(data))
	disarm()
	if err != nil {
		return err
	}
	fi, err := d.inner.Stat(ctx, name)
	if err != nil {
		return err
	}
	if fi.Size != int64(len(data)) {
		return transport.Errorf(transport.Transient, "write", name, "the server holds %d of the %d bytes sent", fi.Size, len(data))
	}
	return nil
}

func (d *faultyFTP) Rename(ctx context.Context, from, to string) error {
	d.cut("rename", from)
	return d.inner.Rename(ctx, from, to)
}

func (d *faultyFTP) Remove(ctx context.Context, name string) error {
	d.cut("remove", name)
	return d.inner.Remove(ctx, name)
}

func (d *faultyFTP) Mkdir(ctx context.Context, dir string) error {
	d.cut("mkdir", dir)
	return d.inner.Mkdir(ctx, dir)
}

func (d *faultyFTP) Close() error { return d.inner.Close() }

// sizedReader reports a download that ends before the file's size as a
// transient failure rather than a clean end of file.
type sizedReader struct {
	rc      io.ReadCloser
	name    string
	n, want int64
	done    func() // after the transfer
}

func (r *sizedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n += int64(n)
	if err == io.EOF && r.n != r.want {
		return n, transport.Errorf(transport.Transient, "read", r.name, "the transfer ended after %d of %d bytes", r.n, r.want)
	}
	return n, err
}

func (r *sizedReader) Close() error {
	err := r.rc.Close()
	r.done()
	return err
}

func (f *Faults) summary(a *almatest.Server) string {
	calls := a.APICalls()[""]
	if f.kind == "SFTP" {
		return fmt.Sprintf("of %d Alma API calls, about %g%% met a 429, a 5xx, a dropped or lost answer; SFTP connections cut %d times before an operation, %d transfers cut midway, the SFTP server stalled %d times and restarted %d times",
			calls, 100*f.rate, f.ftpCuts, f.ftpEarly, f.stalls, f.ftpRestarts)
	}
	return fmt.Sprintf("of %d Alma API calls, about %g%% met a 429, a 5xx, a dropped or lost answer; FTP connections cut %d times before an operation, %d transfers ended early, the FTP server restarted %d times",
		calls, 100*f.rate, f.ftpCuts, f.ftpEarly, f.ftpRestarts)
}
