package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/feebridge/feebridge/transport/sftpdrop/internal/wire"
)

// session is one SSH connection with its SFTP session. It is used by one
// call at a time; the pool hands them out.
type session struct {
	wire        *wireConn
	ssh         *ssh.Client
	client      *sftp.Client
	reused      bool // taken from the idle list rather than freshly dialed
	posixRename bool // the server has posix-rename@openssh.com
	fsync       bool // the server has fsync@openssh.com

	gone      atomic.Bool // the connection ended
	done      chan struct{}
	closeOnce sync.Once
}

// errAborted is the error of I/O on a connection whose call was canceled.
var errAborted = errors.New("connection aborted: the operation was canceled")

// wireConn is the TCP connection under SSH. While a call is under way
// (begin ... end) the server must send something within timeout, else
// the read fails and the SSH connection with it; every write must make
// progress within timeout. An idle connection may stay silent.
type wireConn struct {
	net.Conn // a *wire.Conn: buffered reads, batched writes
	timeout  time.Duration
	aborted  atomic.Bool

	mu   sync.Mutex
	busy int
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.busy > 0 && !c.aborted.Load() {
			_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		}
		c.mu.Unlock()
	}
	if err != nil && c.aborted.Load() {
		err = errAborted
	}
	return n, err
}

func (c *wireConn) Write(p []byte) (int, error) {
	if c.aborted.Load() {
		return 0, errAborted
	}
	return c.Conn.Write(p)
}

func (c *wireConn) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy++
	if !c.aborted.Load() {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
}

func (c *wireConn) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy--
	if c.busy == 0 && !c.aborted.Load() {
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
}

// abort makes every pending and future read or write fail at once.
func (c *wireConn) abort() {
	c.aborted.Store(true)
	_ = c.Conn.SetDeadline(time.Unix(1, 0))
}

func (s *session) begin() { s.wire.begin() }
func (s *session) end()   { s.wire.end() }

// abort breaks the connection of a canceled call; it is then thrown away.
func (s *session) abort() {
	s.gone.Store(true)
	s.wire.abort()
}

// dead reports whether the connection has ended or was aborted.
func (s *session) dead() bool { return s.gone.Load() }

func (s *session) close() {
	s.closeOnce.Do(func() {
		s.gone.Store(true)
		close(s.done)
		// The connection first: closing the SFTP session first would
		// wait for a server that may have stopped answering.
		_ = s.wire.Close()
		if s.ssh != nil {
			_ = s.ssh.Close()
		}
		if s.client != nil {
			_ = s.client.Close()
		}
	})
}

// keepAlive sends keepalive@openssh.com every interval and closes the
// connection when the server does not answer within timeout. Any answer,
// even a refusal, shows the connection alive.
func (s *session) keepAlive(interval, timeout time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := s.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				s.gone.Store(true)
				return
			}
		case <-time.After(timeout):
			log.Debug("sftpdrop: no answer to a keep-alive; closing the connection", "timeout", timeout)
			s.gone.Store(true)
			_ = s.wire.Close()
			return
		case <-s.done:
			return
		}
	}
}

// dial connects, checks the host key, logs in and starts SFTP.
func (d *Driver) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	raw, err := dialer.DialContext(ctx, "tcp", d.cfg.Address)
	if err != nil {
		return nil, err
	}
	wc := wire.New(raw)
	wc.WriteTimeout = d.cfg.Timeout
	s := &session{wire: &wireConn{Conn: wc, timeout: d.cfg.Timeout}, done: make(chan struct{})}
	s.begin()
	defer s.end()
	stop := context.AfterFunc(ctx, s.wire.abort)
	defer stop()

	conf, keyErr, closeAgent, err := d.auth.clientConfig(d.cfg)
	if err != nil {
		raw.Close()
		return nil, err
	}
	defer closeAgent()
	c, chans, reqs, err := ssh.NewClientConn(s.wire, d.cfg.Address, conf)
	if err != nil {
		raw.Close()
		if *keyErr != nil {
			return nil, *keyErr
		}
		return nil, d.loginCause(err)
	}
	s.ssh = ssh.NewClient(c, chans, reqs)
	go func() {
		_ = s.ssh.Wait()
		s.gone.Store(true)
	}()
	s.client, err = sftp.NewClient(s.ssh,
		sftp.MaxConcurrentRequestsPerFile(d.cfg.Concurrency),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.UseFstat(true))
	if err != nil {
		s.close()
		return nil, fmt.Errorf("starting the SFTP subsystem: %w", err)
	}
	_, s.posixRename = s.client.HasExtension("posix-rename@openssh.com")
	_, s.fsync = s.client.HasExtension("fsync@openssh.com")
	if err := d.resolveRoot(s.client); err != nil {
		s.close()
		return nil, err
	}
	if d.cfg.KeepAlive > 0 {
		go s.keepAlive(d.cfg.KeepAlive, d.cfg.Timeout, d.log)
	}
	d.log.Debug("sftpdrop: connected", "addr", d.cfg.Address, "user", d.cfg.User,
		"posix_rename", s.posixRename, "fsync", s.fsync)
	return s, nil
}

// authSetup holds what is read once: the host key check and the signers
// of the key file or bytes.
type authSetup struct {
	hostKey  func(host string, remote net.Addr, key ssh.PublicKey) error
	algos    []string // host key algorithms the known_hosts file lists for the host
	signers  []ssh.Signer
	password string
	agent    bool
}

// newAuth reads the host key check and the key. It fails on a missing
// check, an unreadable file or a key that cannot be parsed.
func newAuth(cfg Config) (*authSetup, error) {
	a := &authSetup{password: cfg.Password, agent: cfg.UseAgent}
	if cfg.Address == "" {
		return nil, errors.New("sftpdrop: no server address")
	}
	hk, algos, err := hostKeyCheck(cfg)
	if err != nil {
		return nil, err
	}
	a.hostKey, a.algos = hk, algos
	key := cfg.Key
	if cfg.KeyFile != "" {
		if len(key) > 0 {
			return nil, errors.New("sftpdrop: both a key file and key bytes are set: keep one")
		}
		if key, err = os.ReadFile(cfg.KeyFile); err != nil {
			return nil, fmt.Errorf("sftpdrop: reading the private key: %w", err)
		}
	}
	if len(key) > 0 {
		signer, err := parseKey(key, cfg.KeyPassphrase)
		if err != nil {
			what := "the private key"
			if cfg.KeyFile != "" {
				what = fmt.Sprintf("the private key %s", cfg.KeyFile)
			}
			return nil, fmt.Errorf("sftpdrop: %s: %w", what, err)
		}
		a.signers = append(a.signers, signer)
	}
	if len(a.signers) == 0 && !a.agent && a.password == "" {
		return nil, errors.New("sftpdrop: no way to log in: set a key, the agent or a password")
	}
	return a, nil
}

func parseKey(key, passphrase []byte) (ssh.Signer, error) {
	if len(passphrase) > 0 {
		s, err := ssh.ParsePrivateKeyWithPassphrase(key, passphrase)
		if err != nil {
			return nil, errors.New("cannot be read with the passphrase given (wrong passphrase or not a private key)")
		}
		return s, nil
	}
	s, err := ssh.ParsePrivateKey(key)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, errors.New("is encrypted: give its passphrase")
	case err != nil:
		// The parser's words only: never the key's bytes.
		return nil, fmt.Errorf("is not a private key in PEM or OpenSSH format (%v)", err)
	}
	return s, nil
}

// clientConfig returns the SSH settings for one connection. keyErr points
// at the host key error, if the check refused the key; closeAgent closes
// the agent's socket after the handshake.
func (a *authSetup) clientConfig(cfg Config) (conf *ssh.ClientConfig, keyErr *error, closeAgent func(), err error) {
	keyErr = new(error)
	closeAgent = func() {}
	var methods []ssh.AuthMethod
	signers := a.signers
	if a.agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, nil, nil, errors.New("sftpdrop: use_agent is set but SSH_AUTH_SOCK is not")
		}
		ac, err := net.DialTimeout("unix", sock, cfg.Timeout)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sftpdrop: reaching the SSH agent: %w", err)
		}
		closeAgent = func() { ac.Close() }
		agentSigners, err := agent.NewClient(ac).Signers()
		if err != nil {
			ac.Close()
			return nil, nil, nil, fmt.Errorf("sftpdrop: asking the SSH agent for keys: %w", err)
		}
		signers = append(signers[:len(signers):len(signers)], agentSigners...)
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if a.password != "" {
		pw := a.password
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
	}
	conf = &ssh.ClientConfig{
		User: cfg.User,
		Auth: methods,
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			err := a.hostKey(host, remote, key)
			*keyErr = err
			return err
		},
		HostKeyAlgorithms: a.algos,
		Timeout:           cfg.Timeout,
	}
	return conf, keyErr, closeAgent, nil
}
