// Package ftpdrop is a file drop on an FTP or FTPS server, such as the
// library's FTP server where Alma drops its bursar exports and picks up
// the payment files.
//
// [Open] logs in and returns a [transport.Drop] rooted at a folder of the
// server. It works over plain FTP (warned about in the log), explicit
// FTPS (AUTH TLS on the usual port) and implicit FTPS (TLS from the first
// byte, usually port 990), in passive mode, trying EPSV first and falling
// back to PASV.
//
// # Connections
//
// An FTP session can do one thing at a time, so the driver keeps a small
// pool of sessions ([Config.PoolSize]); each call takes one for its
// duration, and a reader from [transport.Drop.Open] holds one until it is
// closed. Every read and write on the control and data connections must
// make progress within [Config.IOTimeout], uploads included. A session
// the server dropped (idle timeout, restart) is replaced by a new one; the
// Drop retries the operation as a transient failure.
//
// # Listings
//
// Modification times come from MLSD where the server offers it (exact, in
// UTC) and otherwise from LIST, whose times are in the server's time zone
// ([Config.Location]) and precise to the minute at best. A listing whose
// lines cannot all be read is an error with code [transport.Protocol]
// rather than a short or empty listing.
//
// # Transfers
//
// A data connection cut after the server has sent its final reply ends
// like a whole transfer, with no error on either connection. The driver
// therefore asks the file's size (SIZE, or MLST where SIZE is refused)
// before a download and compares it with the bytes read: a short or long
// read fails with [transport.Transient] instead of ending cleanly, so
// [transport.Drop.ReadFile] reads the whole file again. After an upload it
// asks the size of the stored file: if it is not the number of bytes
// sent, it removes the file and fails with [transport.Transient], so
// [transport.Drop.Put] uploads again and never renames a short file into
// place. A server that gives neither SIZE nor MLST sizes leaves such a cut
// unnoticed (logged at debug level for uploads). A file replaced between
// the size and the transfer fails the same way and is read again.
//
// # Errors and secrets
//
// Server replies and network errors are mapped to [transport.Code]s:
// network failures and 4xx replies are [transport.Transient], 550 is
// [transport.NotFound] (or [transport.Permission] when the server says
// so), a refused login is [transport.Permission]. The password never
// appears in an error, a log line or the formatted [Config].
package ftpdrop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// TLSMode says whether and how an FTP session is encrypted.
type TLSMode int

const (
	// TLSNone is plain FTP: the password crosses the network in clear.
	TLSNone TLSMode = iota
	// TLSExplicit starts in clear and switches to TLS with AUTH TLS
	// before logging in (RFC 4217), usually on port 21.
	TLSExplicit
	// TLSImplicit speaks TLS from the first byte, usually on port 990.
	TLSImplicit
)

func (m TLSMode) String() string {
	switch m {
	case TLSNone:
		return "none"
	case TLSExplicit:
		return "explicit"
	case TLSImplicit:
		return "implicit"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// Config says how to reach and log in to an FTP server.
type Config struct {
	Addr     string // host:port
	User     string
	Password string // never logged nor put in an error

	TLS       TLSMode
	TLSConfig *tls.Config // nil means the system's roots and TLS 1.2 at least

	// Root is the server folder that is the drop's root. A relative Root
	// is taken from the login folder; "" is the login folder itself.
	Root string

	DialTimeout time.Duration  // connecting and logging in; 0 means 15 s
	IOTimeout   time.Duration  // longest wait for any read or write; 0 means 60 s
	Location    *time.Location // the server's time zone, for LIST times; nil means UTC
	PoolSize    int            // most sessions at once; 0 means 4
	DisableEPSV bool           // use PASV only, for servers or firewalls that mishandle EPSV

	// Logger receives connection events and warnings; nil discards them.
	Logger *slog.Logger
	// Drop are the options of the portable type (retry policy, logger).
	Drop *transport.DropOptions
}

// String formats the configuration without its password.
func (c Config) String() string {
	return fmt.Sprintf("ftpdrop.Config{Addr:%q User:%q Password:%s TLS:%v Root:%q}",
		c.Addr, c.User, redactedMark(c.Password), c.TLS, c.Root)
}

// GoString is String, so that %#v does not show the password either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without its password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr), slog.String("user", c.User),
		slog.String("password", redactedMark(c.Password)),
		slog.String("tls", c.TLS.String()), slog.String("root", c.Root))
}

func redactedMark(pw string) string {
	if pw == "" {
		return `""`
	}
	return "[redacted]"
}

// Open connects to the server, logs in, checks that the root folder exists
// and returns the drop. The session stays in the pool for later calls.
func Open(ctx context.Context, cfg Config) (*transport.Drop, error) {
	d, err := NewDriver(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return transport.NewDrop(d, cfg.Drop), nil
}

// Driver is the FTP driver. It is safe for concurrent use.
type Driver struct {
	cfg   Config
	tls   *tls.Config // nil for plain FTP
	log   *slog.Logger
	slots chan struct{} // one per session in use or idle

	mu     sync.Mutex
	idle   []*conn
	root   remote.Root
	closed bool
}

var (
	_ transport.Driver = (*Driver)(nil)
	_ transport.Stater = (*Driver)(nil)
)

// NewDriver is [Open] without the portable type, for wrapping.
func NewDriver(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Addr == "" {
		return nil, &transport.Error{Code: transport.Unknown, Op: "open", Err: errors.New("ftpdrop: no server address")}
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 15 * time.Second
	}
	if cfg.IOTimeout <= 0 {
		cfg.IOTimeout = 60 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	d := &Driver{cfg: cfg, log: cfg.Logger, slots: make(chan struct{}, cfg.PoolSize)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	switch cfg.TLS {
	case TLSNone:
		d.log.Warn("ftpdrop: plain FTP: the password and the files cross the network unencrypted", "addr", cfg.Addr)
	case TLSExplicit, TLSImplicit:
		d.tls = clientTLS(cfg.TLSConfig, cfg.Addr)
	default:
		return nil, &transport.Error{Code: transport.Unknown, Op: "open", Err: fmt.Errorf("ftpdrop: unknown TLS mode %v", cfg.TLS)}
	}
	// Log in once now: a wrong password or root should fail here.
	err := d.with(ctx, "open", "", func(c *conn) error {
		_, err := d.list(c, "")
		return err
	}, nil)
	if err != nil {
		d.Close()
		return nil, d.rootCause(err)
	}
	return d, nil
}

// abs is the server path of a drop name.
func (d *Driver) abs(name string) string { return d.root.Abs(name) }

// dial opens and logs in a new session.
func (d *Driver) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.DialTimeout)
	defer cancel()
	st := newConnState()
	stop := context.AfterFunc(ctx, st.abort)
	defer stop()

	dialer := &net.Dialer{Timeout: d.cfg.DialTimeout}
	dialRaw := func(ctx context.Context, addr string) (net.Conn, error) {
		raw, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		st.add(raw)
		return &ioConn{Conn: raw, timeout: d.cfg.IOTimeout, st: st}, nil
	}
	ctrl, err := dialRaw(ctx, d.cfg.Addr)
	if err != nil {
		return nil, err
	}
	var first net.Conn = ctrl
	if d.cfg.TLS == TLSImplicit {
		tc := tls.Client(ctrl, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			ctrl.Close()
			return nil, d.dialCause(err)
		}
		first = tc
	}
	opts := []ftp.DialOption{
		ftp.DialWithDisabledEPSV(d.cfg.DisableEPSV),
		// The first call returns the control connection made above; the
		// next ones are data connections.
		ftp.DialWithDialFunc(func(network, addr string) (net.Conn, error) {
			if first != nil {
				c := first
				first = nil
				return c, nil
			}
			dctx, cancel := context.WithTimeout(context.Background(), d.cfg.DialTimeout)
			defer cancel()
			raw, err := dialRaw(dctx, addr)
			if err != nil {
				return nil, err
			}
			tc := &teeConn{Conn: raw, raw: raw.(*ioConn), st: st}
			if d.tls != nil {
				tc.Conn = tls.Client(raw, d.tls)
			}
			return tc, nil
		}),
	}
	switch d.cfg.TLS {
	case TLSExplicit:
		opts = append(opts, ftp.DialWithExplicitTLS(d.tls))
	case TLSImplicit:
		opts = append(opts, ftp.DialWithTLS(d.tls)) // protects data connections (PBSZ, PROT P)
	}
	sc, err := ftp.Dial(d.cfg.Addr, opts...)
	if err != nil {
		st.closeAll()
		return nil, d.dialCause(err)
	}
	if err := sc.Login(d.cfg.User, d.cfg.Password); err != nil {
		st.closeAll()
		return nil, d.loginCause(err)
	}
	if err := d.resolveRoot(sc); err != nil {
		st.closeAll()
		return nil, err
	}
	d.log.Debug("ftpdrop: connected", "addr", d.cfg.Addr, "tls", d.cfg.TLS.String())
	return &conn{sc: sc, st: st}, nil
}

// resolveRoot finds the absolute root folder on the first login.
func (d *Driver) resolveRoot(sc *ftp.ServerConn) error {
	return d.root.Resolve(d.cfg.Root, sc.CurrentDir)
}

var errClosed = errors.New("ftpdrop: the drop is closed")

// acquire takes a session from the pool, dialing one if none is idle.
func (d *Driver) acquire(ctx context.Context) (*conn, error) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.slots
		return nil, errClosed
	}
	if n := len(d.idle); n > 0 {
		c := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		c.reused = true
		return c, nil
	}
	d.mu.Unlock()
	c, err := d.dial(ctx)
	if err != nil {
		<-d.slots
		return nil, err
	}
	return c, nil
}

// release returns a session to the pool, or closes it if it is broken.
func (d *Driver) release(c *conn, broken bool) {
	defer func() { <-d.slots }()
	d.mu.Lock()
	if broken || d.closed || c.st.aborted.Load() {
		d.mu.Unlock()
		c.st.closeAll()
		return
	}
	d.idle = append(d.idle, c)
	d.mu.Unlock()
}

// with runs fn on a session. If fn fails because a session from the idle
// list turns out to be dead (the server dropped it meanwhile), fn runs
// once more on a new session, provided again() allows it (nil: always).
func (d *Driver) with(ctx context.Context, op, p string, fn func(*conn) error, again func() bool) error {
	if err := ctx.Err(); err != nil {
		return d.mapErr(ctx, op, p, err)
	}
	for try := 0; ; try++ {
		c, err := d.acquire(ctx)
		if err != nil {
			return d.mapErr(ctx, op, p, err)
		}
		stop := context.AfterFunc(ctx, c.st.abort)
		err = fn(c)
		stop()
		broken := err != nil && isBroken(err)
		d.release(c, broken)
		if broken && c.reused && try == 0 && ctx.Err() == nil && (again == nil || again()) {
			d.log.Debug("ftpdrop: idle session was dropped by the server; reconnecting", "op", op, "error", d.redact(err).Error())
			continue
		}
		return d.mapErr(ctx, op, p, err)
	}
}

// isBroken reports whether err leaves the session unusable: anything but
// a plain server reply (which leaves the session in step).
func isBroken(err error) bool {
	if err == nil {
		return false
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if isBroken(e) {
				return true
			}
		}
		return false
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code == ftp.StatusNotAvailable // 421: closing
	}
	var ne *listingError
	var se *sizeError
	return !errors.As(err, &ne) && !errors.As(err, &se)
}

// List implements [transport.Driver].
func (d *Driver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	var list []transport.FileInfo
	err := d.with(ctx, "list", dir, func(c *conn) error {
		var err error
		list, err = d.list(c, dir)
		return err
	}, nil)
	return list, err
}

func (d *Driver) list(c *conn, dir string) ([]transport.FileInfo, error) {
	p := d.abs(dir)
	c.st.startCapture()
	entries, err := c.sc.List(p)
	raw := c.st.stopCapture()
	if err != nil {
		if !isBroken(err) && classify(err) == transport.NotFound && c.sc.ChangeDir(p) == nil {
			// The folder is there: the server failed to list it, as goftp
			// does when a file vanishes while it lists. Try again.
			return nil, &transport.Error{Code: transport.Transient, Op: "list", Path: dir,
				Err: fmt.Errorf("the server could not list an existing folder: %w", d.redact(err))}
		}
		return nil, err
	}
	if err := checkListing(raw, entries); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		// Some servers (vsftpd) list a missing folder as empty.
		if err := c.sc.ChangeDir(p); err != nil {
			return nil, err
		}
	}
	precise := c.sc.IsTimePreciseInList()
	list := make([]transport.FileInfo, 0, len(entries))
	for _, e := range entries {
		if e.Name == "." || e.Name == ".." || e.Type == ftp.EntryTypeLink {
			continue
		}
		name, ok := entryName(e.Name, p)
		if !ok {
			d.log.Warn("ftpdrop: skipped a listing entry that is not a usable name in the folder listed",
				"dir", dir, "name", strconv.Quote(e.Name))
			continue
		}
		list = append(list, d.info(e, name, precise))
	}
	return list, nil
}

// entryName returns the name in folder p of a listing entry: the entry
// itself, or the last element of a path in p, as some servers list them.
// A path elsewhere ("../evil", "/etc/passwd") or a name the drop refuses
// (a control character, a backslash) is not a name in p: false.
func entryName(raw, p string) (string, bool) {
	name := raw
	if strings.Contains(raw, "/") {
		dir, base := path.Split(raw)
		in := path.Clean(dir) == path.Clean(p) || path.Clean(dir) == strings.TrimPrefix(path.Clean(p), "/")
		if path.Clean(raw) != raw || !in {
			return "", false
		}
		name = base
	}
	if name == "." || name == ".." {
		return "", false
	}
	if transport.IsTempName(name) {
		return name, true // an upload in progress; the drop leaves it out
	}
	return name, transport.ValidName(name) == nil
}

func (d *Driver) info(e *ftp.Entry, name string, precise bool) transport.FileInfo {
	fi := transport.FileInfo{Name: name, ModTime: e.Time, IsDir: e.Type == ftp.EntryTypeFolder}
	if !fi.IsDir {
		fi.Size = int64(e.Size)
	}
	if !precise && !e.Time.IsZero() {
		// LIST shows the server's wall clock; the library read it as UTC.
		t := e.Time
		fi.ModTime = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, d.cfg.Location)
	}
	return fi
}

// listingError is a listing the library could not fully read.
type listingError struct {
	unread, total int
	example       string
}

func (e *listingError) Error() string {
	return fmt.Sprintf("the server's directory listing is in a format this client cannot read (%d of %d lines), for example %q",
		e.unread, e.total, e.example)
}

// checkListing compares the raw lines of a listing with what the library
// made of them: the library skips lines it cannot parse, which would turn
// an unknown format into an empty folder.
func checkListing(raw []byte, entries []*ftp.Entry) error {
	var lines []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		low := strings.ToLower(line)
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(low, "total "):
		case strings.Contains(low, "type=cdir;"), strings.Contains(low, "type=pdir;"):
		default:
			lines = append(lines, line)
		}
	}
	if len(entries) >= len(lines) {
		return nil
	}
	known := make(map[string]bool, len(entries))
	for _, e := range entries {
		known[e.Name] = true
	}
	example := lines[0]
	for _, line := range lines {
		matched := false
		for name := range known {
			if strings.HasSuffix(line, name) {
				matched = true
				break
			}
		}
		if !matched {
			example = line
			break
		}
	}
	if len(example) > 120 {
		example = example[:120] + "..."
	}
	return &listingError{unread: len(lines) - len(entries), total: len(lines), example: example}
}

// Stat implements [transport.Stater] with a listing of the folder, on one
// session (MLST is not offered by every server, vsftpd among them).
func (d *Driver) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	var fi transport.FileInfo
	err := d.with(ctx, "stat", name, func(c *conn) error {
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		list, err := d.list(c, dir)
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.Name == base {
				fi = e
				return nil
			}
		}
		return &transport.Error{Code: transport.NotFound, Op: "stat", Path: name, Err: errors.New("no such file")}
	}, nil)
	return fi, err
}

// Open implements [transport.Driver].
func (d *Driver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, d.mapErr(ctx, "open", name, err)
	}
	for try := 0; ; try++ {
		c, err := d.acquire(ctx)
		if err != nil {
			return nil, d.mapErr(ctx, "open", name, err)
		}
		stop := context.AfterFunc(ctx, c.st.abort)
		size, err := d.size(c, d.abs(name))
		var resp *ftp.Response
		if err == nil {
			resp, err = c.sc.Retr(d.abs(name))
		}
		if err != nil {
			stop()
			broken := isBroken(err)
			d.release(c, broken)
			if broken && c.reused && try == 0 && ctx.Err() == nil {
				continue
			}
			return nil, d.mapErr(ctx, "open", name, err)
		}
		return &download{d: d, c: c, resp: resp, stop: stop, ctx: ctx, name: name, size: size}, nil
	}
}

// size returns the size of file p on the server from SIZE, or else from
// MLST where the server offers it, or -1 when the server gives neither.
// Only a failure of the connection itself is an error.
func (d *Driver) size(c *conn, p string) (int64, error) {
	n, err := c.sc.FileSize(p)
	switch {
	case err == nil && n >= 0:
		return n, nil
	case err != nil && onWire(err):
		return 0, err
	}
	e, err := c.sc.GetEntry(p) // no command sent when MLST is not offered
	switch {
	case err == nil && e.Type == ftp.EntryTypeFile && e.Size > 0:
		return int64(e.Size), nil
	case err != nil && onWire(err):
		return 0, err
	}
	// An empty file by MLST may also be a missing size fact: unknown.
	return -1, nil
}

// onWire reports whether err is a failure of the connection (a reset, a
// timeout, a close) rather than a reply the session could read.
func onWire(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// sizeError is a transfer that the server confirmed with its final reply
// although the bytes that passed are not the whole file: a data connection
// cut after the server had sent everything. It leaves the session in step.
type sizeError struct {
	upload    bool
	got, want int64
}

func (e *sizeError) Error() string {
	if e.upload {
		return fmt.Sprintf("the server stored %d bytes of the %d sent: the data connection was cut", e.got, e.want)
	}
	return fmt.Sprintf("the transfer ended after %d bytes but the server says the file has %d: the data connection was cut",
		e.got, e.want)
}

// download reads a file and gives its session back at the end. At the end
// of the data it reads the server's final reply and compares the bytes
// read with the size the server gave before the transfer, so a transfer
// cut short is an error, not a clean end of file.
type download struct {
	d    *Driver
	c    *conn
	resp *ftp.Response
	stop func() bool
	ctx  context.Context
	name string
	size int64 // -1 when the server did not say
	n    int64 // bytes read so far

	done bool
	err  error
}

func (r *download) Read(p []byte) (int, error) {
	if r.done {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n, err := r.resp.Read(p)
	r.n += int64(n)
	switch {
	case err == io.EOF:
		err = r.resp.Close()
		if err == nil && r.size >= 0 && r.n != r.size {
			err = &sizeError{got: r.n, want: r.size}
		}
		r.finish(err, false)
		if r.err != nil {
			return n, r.err
		}
		return n, io.EOF
	case err != nil:
		r.resp.Close()
		r.finish(err, true)
		return n, r.err
	}
	return n, nil
}

func (r *download) finish(err error, broken bool) {
	r.done = true
	r.stop()
	r.d.release(r.c, broken || isBroken(err))
	r.err = r.d.mapErr(r.ctx, "read", r.name, err)
}

// Close ends the download. Closing before the end abandons the session.
func (r *download) Close() error {
	if !r.done {
		r.c.st.abort() // the rest of the transfer is not wanted
		r.finish(nil, true)
		return nil
	}
	return r.err
}

// Create implements [transport.Driver].
func (d *Driver) Create(ctx context.Context, name string, r io.Reader) error {
	src := &remote.Source{Ctx: ctx, R: r}
	err := d.with(ctx, "create", name, func(c *conn) error {
		p := d.abs(name)
		if err := c.sc.Stor(p, src); err != nil {
			return err
		}
		return d.checkStored(c, p, src.N)
	}, func() bool { return src.N == 0 })
	if err != nil && ctx.Err() == nil && hasReply(err) {
		// Servers refuse a write into a missing folder with a reply that
		// may also mean "no permission" or even "try later": look.
		if dir := path.Dir(name); dir != "." && d.missingDir(ctx, dir) {
			return &transport.Error{Code: transport.NotFound, Op: "create", Path: name, Err: errors.Unwrap(err)}
		}
	}
	return err
}

// checkStored compares the size of the file the server stored at p with
// the sent bytes it should hold, and removes a short or long file.
func (d *Driver) checkStored(c *conn, p string, sent int64) error {
	size, err := d.size(c, p)
	if err != nil {
		return err
	}
	if size < 0 {
		d.log.Debug("ftpdrop: the server gives no file sizes; an upload cut after its final reply goes unnoticed", "path", p)
		return nil
	}
	if size == sent {
		return nil
	}
	if err := c.sc.Delete(p); err != nil && isBroken(err) {
		return errors.Join(&sizeError{upload: true, got: size, want: sent}, err)
	}
	return &sizeError{upload: true, got: size, want: sent}
}

// hasReply reports whether err holds a server reply.
func hasReply(err error) bool {
	var tp *textproto.Error
	return errors.As(err, &tp)
}

// missingDir reports whether the server says folder dir does not exist.
func (d *Driver) missingDir(ctx context.Context, dir string) bool {
	err := d.with(ctx, "stat", dir, func(c *conn) error {
		return c.sc.ChangeDir(d.abs(dir))
	}, nil)
	return transport.ErrorCode(err) == transport.NotFound
}

// Rename implements [transport.Driver].
func (d *Driver) Rename(ctx context.Context, from, to string) error {
	err := d.with(ctx, "rename", from+" -> "+to, func(c *conn) error {
		return c.sc.Rename(d.abs(from), d.abs(to))
	}, nil)
	if err != nil && ctx.Err() == nil && hasReply(err) && transport.ErrorCode(err) != transport.NotFound {
		// A refused RNTO into a missing folder is NotFound too.
		if dir := path.Dir(to); dir != "." && d.missingDir(ctx, dir) {
			return &transport.Error{Code: transport.NotFound, Op: "rename", Path: to, Err: errors.Unwrap(err)}
		}
	}
	return err
}

// Remove implements [transport.Driver].
func (d *Driver) Remove(ctx context.Context, name string) error {
	return d.with(ctx, "remove", name, func(c *conn) error {
		return c.sc.Delete(d.abs(name))
	}, nil)
}

// Mkdir implements [transport.Driver].
func (d *Driver) Mkdir(ctx context.Context, dir string) error {
	return d.with(ctx, "mkdir", dir, func(c *conn) error {
		err := c.sc.MakeDir(d.abs(dir))
		var tp *textproto.Error
		if err == nil || !errors.As(err, &tp) || tp.Code < 500 {
			return err
		}
		// The same reply says "exists", "no parent" and "refused".
		if c.sc.ChangeDir(d.abs(dir)) == nil {
			return &transport.Error{Code: transport.Exists, Op: "mkdir", Path: dir, Err: d.redact(err)}
		}
		parent := path.Dir(dir)
		if parent == "." {
			parent = ""
		}
		if c.sc.ChangeDir(d.abs(parent)) != nil {
			return &transport.Error{Code: transport.NotFound, Op: "mkdir", Path: dir, Err: d.redact(err)}
		}
		return &transport.Error{Code: transport.Permission, Op: "mkdir", Path: dir, Err: d.redact(err)}
	}, nil)
}

// Close implements [transport.Driver]: it logs out of idle sessions and
// closes sessions in use as they are given back.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	idle := d.idle
	d.idle = nil
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range idle {
		wg.Go(func() {
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = c.sc.Quit()
			}()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
			c.st.closeAll()
		})
	}
	wg.Wait()
	return nil
}
