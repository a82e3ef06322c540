// Package sftptest runs an SFTP server inside the process, on 127.0.0.1,
// serving a local folder: for the tests of feebridge and for the sandbox,
// which play the campus SFTP server with it.
//
// [Start] serves a folder until [Server.Close]; the client sees it as "/"
// and cannot reach outside it. The server speaks SSH with a new ed25519
// host key ([Server.HostKeySHA256], [Server.KnownHostsLine]) and accepts
// one user, by password and, with [WithAuthorizedKey], by key.
// [Server.Config] returns the [sftpdrop.Config] that reaches it.
//
// For fault tests, [Server.Restart] drops every connection and listens
// again on the same address, and [Proxy] sits between a client and the
// server and cuts or stalls connections on demand.
//
// The server is github.com/pkg/sftp's request server over
// golang.org/x/crypto/ssh.
package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/internal/wire"
)

// Option changes a server's settings.
type Option func(*options)

type options struct {
	user, password string
	authorized     []ssh.PublicKey
	hostKey        ssh.Signer
	noPosixRename  bool
}

// WithUser sets the one account's user and password (defaults: "feebridge"
// and a random password). An empty password refuses password logins.
func WithUser(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithAuthorizedKey lets the user log in with the private key of key.
func WithAuthorizedKey(key ssh.PublicKey) Option {
	return func(o *options) { o.authorized = append(o.authorized, key) }
}

// WithHostKey makes the server prove itself with key rather than a new
// ed25519 key: a test starts a second server with another key to play a
// server whose key changed.
func WithHostKey(key ssh.Signer) Option {
	return func(o *options) { o.hostKey = key }
}

// WithoutPosixRename makes the server refuse posix-rename@openssh.com
// with "operation unsupported", as servers without the extension would,
// so that clients use the plain SFTP rename, which does not replace.
func WithoutPosixRename() Option {
	return func(o *options) { o.noPosixRename = true }
}

// Server is a running SFTP server.
type Server struct {
	opts options
	dir  string
	conf *ssh.ServerConfig
	addr string

	logins   atomic.Int64
	sessions atomic.Int64

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	closed bool
}

// Start serves root (a folder, which must exist) on a free port of
// 127.0.0.1 until Close.
func Start(root string, opts ...Option) (*Server, error) {
	return StartOn("127.0.0.1:0", root, opts...)
}

// StartOn is [Start] on a given address, such as that of a server just
// closed, to play a server replaced by another.
func StartOn(addr, root string, opts ...Option) (*Server, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("sftptest: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("sftptest: %s is not a folder", root)
	}
	s := &Server{dir: root, conns: make(map[net.Conn]bool)}
	s.opts.user = "feebridge"
	s.opts.password = randomPassword()
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.hostKey == nil {
		if s.opts.hostKey, err = NewHostKey(); err != nil {
			return nil, err
		}
	}
	s.conf = s.serverConfig()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sftptest: %w", err)
	}
	s.addr = ln.Addr().String()
	s.ln = ln
	s.wg.Go(func() { s.accept(ln) })
	return s, nil
}

// NewHostKey returns a new ed25519 key, for [WithHostKey].
func NewHostKey() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sftptest: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) serverConfig() *ssh.ServerConfig {
	conf := &ssh.ServerConfig{}
	if s.opts.password != "" {
		conf.PasswordCallback = func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if meta.User() == s.opts.user && string(pw) == s.opts.password {
				s.logins.Add(1)
				return nil, nil
			}
			return nil, errors.New("password refused")
		}
	}
	if len(s.opts.authorized) > 0 {
		conf.PublicKeyCallback = func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if meta.User() != s.opts.user {
				return nil, errors.New("unknown user")
			}
			for _, k := range s.opts.authorized {
				if string(k.Marshal()) == string(key.Marshal()) {
					s.logins.Add(1)
					return nil, nil
				}
			}
			return nil, errors.New("key refused")
		}
	}
	conf.AddHostKey(s.opts.hostKey)
	return conf
}

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return s.addr }

// Dir is the folder served as "/".
func (s *Server) Dir() string { return s.dir }

// User is the account's user name.
func (s *Server) User() string { return s.opts.user }

// Password is the account's password.
func (s *Server) Password() string { return s.opts.password }

// HostKeySHA256 is the fingerprint of the server's host key as ssh-keygen
// -lf prints it: "SHA256:...".
func (s *Server) HostKeySHA256() string { return ssh.FingerprintSHA256(s.opts.hostKey.PublicKey()) }

// KnownHostsLine is the known_hosts line for the server's address and key.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.opts.hostKey.PublicKey())
}

// Config returns a configuration that reaches the server by password,
// with its host key pinned.
func (s *Server) Config() sftpdrop.Config {
	return sftpdrop.Config{
		Address:       s.addr,
		User:          s.opts.user,
		Password:      s.opts.password,
		HostKeySHA256: s.HostKeySHA256(),
	}
}

func (s *Server) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serveConn(c)
		})
	}
}

// serveConn runs one SSH connection: sessions whose only use is the sftp
// subsystem.
func (s *Server) serveConn(c net.Conn) {
	sc, chans, reqs, err := ssh.NewServerConn(wire.New(c), s.conf)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs) // keepalive@openssh.com gets a refusal: an answer
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() { s.serveSession(ch, requests) })
	}
}

func (s *Server) serveSession(ch ssh.Channel, requests <-chan *ssh.Request) {
	defer ch.Close()
	for req := range requests {
		if req.Type != "subsystem" || len(req.Payload) < 4 || string(req.Payload[4:]) != "sftp" {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		s.sessions.Add(1)
		go ssh.DiscardRequests(requests)
		root, err := os.OpenRoot(s.dir)
		if err != nil {
			return
		}
		defer root.Close()
		h := &rootFS{root: root, noPosixRename: s.opts.noPosixRename}
		rs := sftp.NewRequestServer(ch, h.handlers(), sftp.WithStartDirectory("/"), sftp.WithRSAllocator())
		_ = rs.Serve()
		_ = rs.Close()
		return
	}
}

// Logins returns how many logins the server accepted. (A client may
// offer a public key before signing with it: the count is of the
// accepted ones, each at most once per key or password tried.)
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Sessions returns how many SFTP sessions the server started: a client
// that never got one read and wrote nothing.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// DropSessions closes every open connection, as a server restarting or
// dropping idle clients would. New connections are served.
func (s *Server) DropSessions() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Restart drops every connection and listens again on the same address.
func (s *Server) Restart() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("sftptest: the server is closed")
	}
	ln := s.ln
	s.mu.Unlock()
	ln.Close()
	s.DropSessions()
	nl, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("sftptest: listening again on %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.ln = nl
	s.mu.Unlock()
	s.wg.Go(func() { s.accept(nl) })
	return nil
}

// Close stops the server and drops every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	s.mu.Unlock()
	err := ln.Close()
	s.DropSessions()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
