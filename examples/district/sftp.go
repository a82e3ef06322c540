package district

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// The library's file server, as Options.Transport names it.
const (
	TransportFTP  = "ftp"  // an FTP server (ftptest), the default
	TransportSFTP = "sftp" // an SFTP server (sftptest), with its host key pinned
)

// sftpTimeout is the timeout of feesync's SFTP client under faults: a
// stalled server costs the client this long before it gives up, so it is
// short, yet far above what a call to the embedded server takes.
const sftpTimeout = 2 * time.Second

// openSFTP starts the library's SFTP server on dir and opens feesync's
// drop on it, through the faults when there are any. The client pins the
// server's host key and logs in with the district's password.
func (d *District) openSFTP(ctx context.Context, dir string) error {
	var err error
	d.sftp, err = sftptest.Start(dir, sftptest.WithUser("alma-bursar", d.secrets.FTPPassword))
	if err != nil {
		return err
	}
	d.onClose(d.sftp.Close)
	cfg := d.sftp.Config()
	cfg.Logger = d.log.With("drop", "library")
	cfg.KeepAlive = -1 // no keep-alives on a real timer: the week's clock is simulated
	cfg.Drop = &transport.DropOptions{Logger: d.log.With("drop", "library"),
		Retry: &transport.Retry{Attempts: 8, Backoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Jitter: 0.5}}
	if d.faults != nil {
		d.library, err = d.faults.sftpLibrary(ctx, d.sftp, cfg)
		d.onClose(d.faults.close)
	} else {
		d.library, err = sftpdrop.Open(ctx, cfg)
	}
	if err != nil {
		return err
	}
	d.onClose(d.library.Close)
	return nil
}

// SFTP is the library's SFTP server, nil when the library uses FTP.
func (d *District) SFTP() *sftptest.Server { return d.sftp }

// LibraryURL is where the library's file server listens:
// ftp://127.0.0.1:port/ or sftp://127.0.0.1:port/.
func (d *District) LibraryURL() string {
	if d.sftp != nil {
		return "sftp://" + d.sftp.Addr() + "/"
	}
	return "ftp://" + d.ftp.Addr + "/"
}

// sftpLibrary opens feesync's drop on the library's SFTP server through a
// proxy (sftptest.Proxy) that breaks connections on demand, with faults
// between the drop and the SFTP driver: at the rate, an operation finds
// every connection cut just before it starts, and a transfer's connection
// is cut midway; at a fortieth of the rate the server stalls until the client
// gives up on it (after sftpTimeout) and closes the connection. The drop
// sees each as the transient failure it is.
func (f *Faults) sftpLibrary(ctx context.Context, srv *sftptest.Server, cfg sftpdrop.Config) (*transport.Drop, error) {
	f.kind = "SFTP"
	f.restart = srv.Restart
	proxy, err := sftptest.NewProxy(srv.Addr())
	if err != nil {
		return nil, err
	}
	f.sproxy = proxy
	cfg.Address = proxy.Addr
	cfg.Timeout = sftpTimeout
	drv, err := sftpdrop.NewDriver(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return transport.NewDrop(&faultySFTP{inner: drv, f: f}, cfg.Drop), nil
}

// faultySFTP is the SFTP driver with faults injected before and during
// its operations.
type faultySFTP struct {
	inner *sftpdrop.Driver
	f     *Faults
}

var (
	_ transport.Driver       = (*faultySFTP)(nil)
	_ transport.Stater       = (*faultySFTP)(nil)
	_ transport.AtomicPutter = (*faultySFTP)(nil)
)

// before draws, at the site of op on name, whether every connection is
// cut before the operation, and whether the server stalls.
func (d *faultySFTP) before(op, name string) {
	site := op + " " + siteName(name)
	if d.f.chance("sftp cut " + site) {
		d.f.count(&d.f.ftpCuts)
		d.f.sproxy.CutAll()
	}
	if r := d.f.source("sftp stall " + site); r.Float64() < d.f.rate/40 {
		d.f.count(&d.f.stalls)
		d.f.sproxy.StallUntilCut()
	}
}

// arm draws whether the transfer of size bytes about to start is cut
// midway, at the rate, and after how many of its bytes; the returned func,
// called once the transfer is over, disarms a cut it did not reach. (The
// proxy counts SSH's bytes, a little more than the file's.)
func (d *faultySFTP) arm(op, name string, size int64) (disarm func()) {
	r := d.f.source("sftp midway " + op + " " + siteName(name))
	if r.Float64() >= d.f.rate || size < 2 {
		return func() {}
	}
	d.f.count(&d.f.ftpEarly)
	p := d.f.sproxy
	before := p.Cuts()
	p.CutAfter(1 + r.Int64N(size-1))
	return func() {
		if p.Cuts() == before {
			p.CutAfter(math.MaxInt64 / 4) // never reached
		}
	}
}

func (d *faultySFTP) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	d.before("list", dir)
	return d.inner.List(ctx, dir)
}

func (d *faultySFTP) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	d.before("stat", name)
	return d.inner.Stat(ctx, name)
}

func (d *faultySFTP) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	d.before("get", name)
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
	return &afterClose{ReadCloser: rc, done: disarm}, nil
}

func (d *faultySFTP) Create(ctx context.Context, name string, r io.Reader) error {
	return d.write(ctx, name, r, d.inner.Create)
}

func (d *faultySFTP) Put(ctx context.Context, name string, r io.Reader) error {
	return d.write(ctx, name, r, d.inner.Put)
}

// write uploads through put with the faults of an upload of name.
func (d *faultySFTP) write(ctx context.Context, name string, r io.Reader, put func(context.Context, string, io.Reader) error) error {
	d.before("put", name)
	// The files are small: read whole, the upload's size is known, and
	// where it is cut can be drawn within it.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	disarm := d.arm("put", name, int64(len(data)))
	defer disarm()
	return put(ctx, name, bytes.NewReader(data))
}

func (d *faultySFTP) Rename(ctx context.Context, from, to string) error {
	d.before("rename", from)
	return d.inner.Rename(ctx, from, to)
}

func (d *faultySFTP) Remove(ctx context.Context, name string) error {
	d.before("remove", name)
	return d.inner.Remove(ctx, name)
}

func (d *faultySFTP) Mkdir(ctx context.Context, dir string) error {
	d.before("mkdir", dir)
	return d.inner.Mkdir(ctx, dir)
}

func (d *faultySFTP) Close() error { return d.inner.Close() }

// afterClose calls done once its reader is closed.
type afterClose struct {
	io.ReadCloser
	done func()
}

func (r *afterClose) Close() error {
	err := r.ReadCloser.Close()
	r.done()
	return err
}

// transportName checks a transport's name: "" is FTP.
func transportName(t string) (string, error) {
	switch t {
	case "", TransportFTP:
		return TransportFTP, nil
	case TransportSFTP:
		return TransportSFTP, nil
	}
	return "", fmt.Errorf("district: transport %q is not %q or %q", t, TransportFTP, TransportSFTP)
}
