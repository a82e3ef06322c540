package ftpdrop

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jlaffaye/ftp"
)

// conn is one logged-in FTP session with its own state. The FTP library
// is not safe for concurrent use, so a conn is used by one goroutine at a
// time; the pool hands them out.
type conn struct {
	sc     *ftp.ServerConn
	st     *connState
	reused bool // taken from the idle list rather than freshly dialed
}

// errAborted is the error of I/O on a connection whose context ended.
var errAborted = errors.New("connection aborted: the operation was canceled")

// connState is shared by the control connection and the data connections
// of one session: it aborts them all when a context ends, and captures the
// raw bytes of a directory listing.
type connState struct {
	aborted atomic.Bool

	mu      sync.Mutex
	raw     map[net.Conn]bool // open TCP connections of this session
	capture *bytes.Buffer     // raw data-connection bytes, while listing
}

func newConnState() *connState {
	return &connState{raw: make(map[net.Conn]bool)}
}

// abort makes every pending and future read or write of the session fail
// at once. The session is then thrown away.
func (s *connState) abort() {
	s.aborted.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.raw {
		_ = c.SetDeadline(time.Unix(1, 0))
	}
}

func (s *connState) add(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw[c] = true
}

func (s *connState) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.raw, c)
}

// closeAll closes every TCP connection of the session, without waiting
// for the server.
func (s *connState) closeAll() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.raw))
	for c := range s.raw {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (s *connState) startCapture() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.capture = new(bytes.Buffer)
}

func (s *connState) stopCapture() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.capture.Bytes()
	s.capture = nil
	return b
}

func (s *connState) captured(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.capture != nil && s.capture.Len() < maxListing {
		s.capture.Write(p)
	}
}

// maxListing bounds the bytes of one listing kept for checking.
const maxListing = 64 << 20

// ioConn is a TCP connection whose every read and write must make progress
// within timeout. The FTP library sets no deadline on data connections,
// so without this an upload to a stalled server would hang for ever.
type ioConn struct {
	net.Conn
	timeout time.Duration
	st      *connState
}

func (c *ioConn) arm(set func(time.Time) error) error {
	if c.st.aborted.Load() {
		return errAborted
	}
	if c.timeout > 0 {
		_ = set(time.Now().Add(c.timeout))
	}
	// abort may have run between the check and the new deadline.
	if c.st.aborted.Load() {
		_ = c.Conn.SetDeadline(time.Unix(1, 0))
		return errAborted
	}
	return nil
}

func (c *ioConn) Read(p []byte) (int, error) {
	if err := c.arm(c.Conn.SetReadDeadline); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *ioConn) Write(p []byte) (int, error) {
	if err := c.arm(c.Conn.SetWriteDeadline); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *ioConn) Close() error {
	c.st.remove(c.Conn)
	return c.Conn.Close()
}

// teeConn is the top of a data connection (above TLS): it copies what it
// reads into the session's listing capture.
type teeConn struct {
	net.Conn
	raw *ioConn // the TCP connection under TLS
	st  *connState
}

// drainWait bounds the reading after close_notify: what must be read (the
// session tickets) arrived long before, and some servers (goftp) only
// close their side after the next command.
const drainWait = 20 * time.Millisecond

// Close ends a TLS data connection politely: close_notify, then reading
// what the server still sends (TLS 1.3 session tickets) until it closes.
// Closing with unread bytes would make the kernel reset the connection,
// and servers such as vsftpd then report the upload as failed ("426
// Failure reading network stream").
func (c *teeConn) Close() error {
	tc, ok := c.Conn.(*tls.Conn)
	if !ok || c.st.aborted.Load() {
		return c.Conn.Close()
	}
	if err := tc.CloseWrite(); err == nil {
		if c.raw != nil {
			c.raw.timeout = min(c.raw.timeout, drainWait)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(tc, 1<<20))
	}
	return tc.Close()
}

// Handshake lets the FTP library start TLS on a data connection that
// carries no byte (an empty upload).
func (c *teeConn) Handshake() error {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.Handshake()
	}
	return nil
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.st.captured(p[:n])
	}
	return n, err
}

// clientTLS returns the TLS settings for one driver: a copy of the
// caller's, with the server name taken from the address when unset and a
// session cache so that data connections can resume the control
// connection's TLS session (servers such as vsftpd may ask for it).
func clientTLS(cfg *tls.Config, addr string) *tls.Config {
	var c *tls.Config
	if cfg == nil {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		c = cfg.Clone()
	}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	if c.ClientSessionCache == nil {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(16)
	}
	return c
}
