// Package sftpdrop is a file drop on an SFTP server (SSH File Transfer
// Protocol), such as the campus server where Alma's bursar integration
// profile drops its exports when the campus allows only SFTP.
//
// [Open] connects, checks the server's host key, logs in and returns a
// [transport.Drop] rooted at a folder of the server.
//
// # Host keys
//
// The server's host key is always checked, against a known_hosts file
// ([Config.KnownHosts]) or a pinned fingerprint ([Config.HostKeySHA256],
// "SHA256:..." as ssh-keygen -lf prints it). There is no way to accept any
// key. A key the file does not know fails with [ErrHostKeyUnknown], a key
// other than the one known or pinned with [ErrHostKeyChanged]; both are
// permanent ([transport.Permission]) and their message shows the
// fingerprint the server offered, so that an administrator can compare it
// with the server's own. Nothing is read or written before the key is
// accepted.
//
// # Logging in
//
// By key (a file, [Config.KeyFile]; bytes, [Config.Key], as read from an
// environment variable; an agent, [Config.UseAgent]) and by password. A
// refused login is [ErrLoginRefused], permanent. Secrets never appear in an
// error, a log line or the formatted [Config].
//
// # Connections
//
// The driver keeps a small pool of SSH connections ([Config.PoolSize]),
// each with its SFTP session; each call takes one for its duration, and a
// reader from [transport.Drop.Open] holds one until it is closed. While a
// call waits for the server, the server must send something within
// [Config.Timeout], else the connection is closed and the call fails with
// [transport.Transient]. Idle connections send SSH keep-alives
// (keepalive@openssh.com) every [Config.KeepAlive]; one the server no
// longer answers is closed. A dropped connection is replaced by a new one
// at the next call; a call that finds its pooled connection dead before it
// sent anything runs once more on a new one, and the Drop retries the
// other transient failures.
//
// # Transfers
//
// The driver writes atomically by itself ([transport.AtomicPutter]): the
// content goes to a temporary name ([transport.TempName]) with several
// write requests in flight at once, is checked for its size, flushed
// (fsync@openssh.com where the server has it) and renamed into place with
// posix-rename@openssh.com, which replaces the old file in one step. A
// server without that extension gets a plain SFTP rename, which refuses to
// replace a file: the old file is removed first. Downloads keep several
// read requests in flight and end with an error, never a clean short
// read, if the file's size at the end is not the size it had when opened.
//
// # Errors
//
// SFTP status codes map to [transport.Code]s: no such file is
// [transport.NotFound], permission denied [transport.Permission], an
// unsupported operation [transport.Unsupported]; network failures,
// timeouts and lost connections are [transport.Transient].
package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// Config says how to reach an SFTP server, check its host key and log in.
type Config struct {
	Address string // host:port; a host alone means port 22
	User    string
	// Root is the server folder that is the drop's root. A relative Root
	// is taken from the login folder; "" is the login folder itself.
	Root string

	// KnownHosts is the path of a known_hosts file that lists the
	// server's key; or
	KnownHosts string
	// HostKeySHA256 is the server key's pinned fingerprint, "SHA256:..."
	// as ssh-keygen -lf prints it. One of the two is required.
	HostKeySHA256 string

	KeyFile       string // private key file (PEM or OpenSSH); or
	Key           []byte // private key bytes (from key_env); never logged
	KeyPassphrase []byte // of KeyFile or Key, if it is encrypted; never logged
	UseAgent      bool   // offer the keys of the agent at SSH_AUTH_SOCK
	Password      string // never logged nor put in an error

	// Timeout bounds connecting and logging in, and the wait for the
	// server's next message while a call is under way; 0 means 30 s.
	Timeout time.Duration
	// KeepAlive is the interval of keep-alive requests on idle
	// connections; 0 means 30 s, a negative value sends none.
	KeepAlive time.Duration
	// PoolSize is the most connections at once; 0 means 4.
	PoolSize int
	// Concurrency is the number of read or write requests one transfer
	// keeps in flight; 0 means 32 (1 MiB of 32 KiB packets: plenty on a
	// campus network; a server far away may want more).
	Concurrency int

	// Logger receives connection events and warnings; nil discards them.
	Logger *slog.Logger
	// Drop are the options of the portable type (retry policy, logger).
	Drop *transport.DropOptions
}

// String formats the configuration without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("sftpdrop.Config{Address:%q User:%q Root:%q KnownHosts:%q HostKeySHA256:%q KeyFile:%q Key:%s KeyPassphrase:%s UseAgent:%t Password:%s}",
		c.Address, c.User, c.Root, c.KnownHosts, c.HostKeySHA256, c.KeyFile,
		redactedMark(len(c.Key)), redactedMark(len(c.KeyPassphrase)), c.UseAgent, redactedMark(len(c.Password)))
}

// GoString is String, so that %#v does not show the secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("address", c.Address), slog.String("user", c.User), slog.String("root", c.Root),
		slog.String("known_hosts", c.KnownHosts), slog.String("host_key_sha256", c.HostKeySHA256),
		slog.String("key_file", c.KeyFile), slog.String("key", redactedMark(len(c.Key))),
		slog.String("key_passphrase", redactedMark(len(c.KeyPassphrase))),
		slog.Bool("use_agent", c.UseAgent), slog.String("password", redactedMark(len(c.Password))))
}

func redactedMark(n int) string {
	if n == 0 {
		return `""`
	}
	return "[redacted]"
}

// Check reports the mistakes of the configuration that show without
// connecting: no address; no host key check, or both kinds; a malformed
// fingerprint; a known_hosts or key file that cannot be read; a key that
// cannot be parsed, or is encrypted without its passphrase, or with
// another; nothing to log in with. [Open] makes the same checks first.
// Errors never show the key, the passphrase or the password.
func (c Config) Check() error {
	_, err := newAuth(c)
	return err
}

// Open connects to the server, checks its host key, logs in, checks that
// the root folder exists and returns the drop. The connection stays in the
// pool for later calls.
func Open(ctx context.Context, cfg Config) (*transport.Drop, error) {
	d, err := NewDriver(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return transport.NewDrop(d, cfg.Drop), nil
}

// Driver is the SFTP driver. It is safe for concurrent use.
type Driver struct {
	cfg   Config
	log   *slog.Logger
	auth  *authSetup
	slots chan struct{} // one per connection in use or idle

	mu     sync.Mutex
	idle   []*session
	root   remote.Root
	closed bool
}

var (
	_ transport.Driver       = (*Driver)(nil)
	_ transport.Stater       = (*Driver)(nil)
	_ transport.AtomicPutter = (*Driver)(nil)
)

// NewDriver is [Open] without the portable type, for wrapping.
func NewDriver(ctx context.Context, cfg Config) (*Driver, error) {
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil && cfg.Address != "" && !strings.Contains(cfg.Address, "]") {
		cfg.Address = net.JoinHostPort(cfg.Address, "22") // SSH's port
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 30 * time.Second
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	d := &Driver{cfg: cfg, log: cfg.Logger, slots: make(chan struct{}, cfg.PoolSize)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	auth, err := newAuth(cfg)
	if err != nil {
		return nil, &transport.Error{Code: transport.Unknown, Op: "open", Err: err}
	}
	d.auth = auth
	// Log in once now: a wrong key, password or root should fail here.
	err = d.with(ctx, "open", "", func(s *session) error {
		fi, err := s.client.Stat(d.abs(""))
		if err == nil && !fi.IsDir() {
			err = &transport.Error{Code: transport.NotFound, Op: "open", Err: fmt.Errorf("%q is a file, not a folder", d.abs(""))}
		}
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

// resolveRoot finds the absolute root folder on the first login.
func (d *Driver) resolveRoot(c *sftp.Client) error {
	return d.root.Resolve(d.cfg.Root, c.Getwd)
}

var errClosed = errors.New("sftpdrop: the drop is closed")

// acquire takes a connection from the pool, dialing one if none is idle
// and alive, or if fresh is set: after a pooled connection turned out
// dead, the others, as old, are likely dead too.
func (d *Driver) acquire(ctx context.Context, fresh bool) (*session, error) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			<-d.slots
			return nil, errClosed
		}
		n := len(d.idle)
		if n == 0 || fresh {
			d.mu.Unlock()
			break
		}
		s := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		if s.dead() {
			s.close()
			continue
		}
		s.reused = true
		return s, nil
	}
	s, err := d.dial(ctx)
	if err != nil {
		<-d.slots
		return nil, err
	}
	return s, nil
}

// release returns a connection to the pool, or closes it if it is broken.
func (d *Driver) release(s *session, broken bool) {
	defer func() { <-d.slots }()
	d.mu.Lock()
	if broken || d.closed || s.dead() {
		d.mu.Unlock()
		s.close()
		return
	}
	d.idle = append(d.idle, s)
	d.mu.Unlock()
}

// with runs fn on a connection, which must make progress while fn runs.
// If fn fails because a connection from the idle list turns out to be dead
// (the server dropped it meanwhile), fn runs once more on a new one,
// provided again() allows it (nil: always).
func (d *Driver) with(ctx context.Context, op, p string, fn func(*session) error, again func() bool) error {
	if err := ctx.Err(); err != nil {
		return d.mapErr(ctx, op, p, err)
	}
	for try := 0; ; try++ {
		s, err := d.acquire(ctx, try > 0)
		if err != nil {
			return d.mapErr(ctx, op, p, err)
		}
		s.begin()
		stop := context.AfterFunc(ctx, s.abort)
		err = fn(s)
		stop()
		s.end()
		broken := err != nil && (s.dead() || onWire(err))
		d.release(s, broken)
		if broken && s.reused && try == 0 && ctx.Err() == nil && (again == nil || again()) {
			d.log.Debug("sftpdrop: idle connection was dropped; reconnecting", "op", op, "error", d.redact(err).Error())
			continue
		}
		return d.mapErr(ctx, op, p, err)
	}
}

// List implements [transport.Driver].
func (d *Driver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	var list []transport.FileInfo
	err := d.with(ctx, "list", dir, func(s *session) error {
		entries, err := s.client.ReadDirContext(ctx, d.abs(dir))
		if err != nil {
			return err
		}
		list = make([]transport.FileInfo, 0, len(entries))
		for _, e := range entries {
			name := e.Name()
			if name == "." || name == ".." || e.Mode()&os.ModeSymlink != 0 {
				continue
			}
			if !transport.IsTempName(name) && transport.ValidName(name) != nil {
				d.log.Warn("sftpdrop: skipped a listing entry that is not a usable name", "dir", dir, "name", fmt.Sprintf("%q", name))
				continue
			}
			list = append(list, fileInfo(name, e))
		}
		return nil
	}, nil)
	return list, err
}

func fileInfo(name string, fi os.FileInfo) transport.FileInfo {
	out := transport.FileInfo{Name: name, ModTime: fi.ModTime().UTC(), IsDir: fi.IsDir()}
	if !out.IsDir {
		out.Size = fi.Size()
	}
	return out
}

// Stat implements [transport.Stater].
func (d *Driver) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	var out transport.FileInfo
	err := d.with(ctx, "stat", name, func(s *session) error {
		fi, err := s.client.Stat(d.abs(name))
		if err != nil {
			return err
		}
		out = fileInfo(path.Base(name), fi)
		return nil
	}, nil)
	return out, err
}

// Rename implements [transport.Driver]: with posix-rename@openssh.com it
// replaces a file at to; without, it returns Exists when to is there.
func (d *Driver) Rename(ctx context.Context, from, to string) error {
	return d.with(ctx, "rename", from+" -> "+to, func(s *session) error {
		return d.rename(s, from, to)
	}, nil)
}

func (d *Driver) rename(s *session, from, to string) error {
	src, dst := d.abs(from), d.abs(to)
	if s.posixRename {
		err := s.client.PosixRename(src, dst)
		if !isUnsupported(err) {
			return d.renameCause(s, from, to, err)
		}
		s.posixRename = false
		d.log.Debug("sftpdrop: the server refuses posix-rename; using plain rename", "addr", d.cfg.Address)
	}
	// A plain SFTP rename does not replace a file; OpenSSH's answer to
	// one that would is a bare failure. Look first.
	if fi, err := s.client.Lstat(dst); err == nil && !fi.IsDir() {
		return &transport.Error{Code: transport.Exists, Op: "rename", Path: to, Err: errors.New("the target exists and the server cannot replace it in one step")}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return d.renameCause(s, from, to, s.client.Rename(src, dst))
}

// renameCause turns a bare failure of a rename into NotFound when the
// source or the target's folder is missing.
func (d *Driver) renameCause(s *session, from, to string, err error) error {
	if err == nil || !isFailure(err) {
		return err
	}
	if _, serr := s.client.Lstat(d.abs(from)); errors.Is(serr, os.ErrNotExist) {
		return &transport.Error{Code: transport.NotFound, Op: "rename", Path: from, Err: err}
	}
	if _, serr := s.client.Stat(path.Dir(d.abs(to))); errors.Is(serr, os.ErrNotExist) {
		return &transport.Error{Code: transport.NotFound, Op: "rename", Path: to, Err: err}
	}
	if _, serr := s.client.Lstat(d.abs(to)); serr == nil {
		return &transport.Error{Code: transport.Exists, Op: "rename", Path: to, Err: err}
	}
	return err
}

// Remove implements [transport.Driver].
func (d *Driver) Remove(ctx context.Context, name string) error {
	return d.with(ctx, "remove", name, func(s *session) error {
		return s.client.Remove(d.abs(name))
	}, nil)
}

// Mkdir implements [transport.Driver].
func (d *Driver) Mkdir(ctx context.Context, dir string) error {
	return d.with(ctx, "mkdir", dir, func(s *session) error {
		err := s.client.Mkdir(d.abs(dir))
		if err == nil || onWire(err) {
			return err
		}
		// OpenSSH says "failure" for "exists" and for "no parent".
		if _, serr := s.client.Lstat(d.abs(dir)); serr == nil {
			return &transport.Error{Code: transport.Exists, Op: "mkdir", Path: dir, Err: err}
		}
		parent := path.Dir(dir)
		if parent == "." {
			parent = ""
		}
		if _, serr := s.client.Stat(d.abs(parent)); errors.Is(serr, os.ErrNotExist) {
			return &transport.Error{Code: transport.NotFound, Op: "mkdir", Path: dir, Err: err}
		}
		return err
	}, nil)
}

// Close implements [transport.Driver]: it closes idle connections now and
// connections in use as they are given back.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	idle := d.idle
	d.idle = nil
	d.mu.Unlock()
	for _, s := range idle {
		s.close()
	}
	return nil
}
