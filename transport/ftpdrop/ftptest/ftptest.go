// Package ftptest runs an FTP server inside the process, on 127.0.0.1,
// serving a local folder: for the tests of feebridge and for the sandbox,
// which play the library's FTP server with it.
//
// [Start] serves a folder until [Server.Close]; [NewServer] does the same
// for a test, with a temporary folder and cleanup. [Options.TLS] turns on
// explicit FTPS with a self-signed certificate made on the spot, trusted
// by the [tls.Config] in [Server.ClientTLS]. [Server.Config] returns the
// [ftpdrop.Config] that reaches the server.
//
// For fault tests, [Server.Restart] drops every session and listens again
// on the same address, and [Proxy] sits between a client and a server and
// cuts connections on demand, data connections included.
//
// The server is goftp.io/server/v2. Its passive data ports listen on all
// interfaces for the moment between PASV and the client's connection; the
// control port listens on 127.0.0.1 only.
package ftptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"goftp.io/server/v2"
	"goftp.io/server/v2/driver/file"

	"github.com/feebridge/feebridge/transport/ftpdrop"
)

// Options are the settings of a test server. Nil means plain FTP with a
// user "feebridge" and a random password.
type Options struct {
	// TLS turns on explicit FTPS (AUTH TLS) with a new self-signed
	// certificate for 127.0.0.1.
	TLS bool
	// User and Password of the one account; defaults "feebridge" and a
	// random password.
	User, Password string
	// NoEPSV makes the server refuse EPSV, so clients fall back to PASV.
	NoEPSV bool
	// NoMLSD makes the server refuse MLSD and MLST, so clients list with
	// LIST (Unix "ls -l" lines, times in the server's local time).
	NoMLSD bool
}

// Server is a running FTP server.
type Server struct {
	Addr     string // 127.0.0.1:port
	User     string
	Password string
	Dir      string // the folder served as "/"
	// ClientTLS trusts the server's certificate; nil without TLS.
	ClientTLS *tls.Config

	opts    Options
	tlsConf *tls.Config

	mu     sync.Mutex
	ln     *listener
	served chan struct{} // closed when Serve returns
}

// Start serves dir (which must exist) on a free port of 127.0.0.1.
func Start(dir string, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("ftptest: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("ftptest: %s is not a folder", dir)
	}
	s := &Server{Dir: dir, User: opts.User, Password: opts.Password, opts: *opts}
	if s.User == "" {
		s.User = "feebridge"
	}
	if s.Password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		s.Password = hex.EncodeToString(b[:])
	}
	if opts.TLS {
		s.tlsConf, s.ClientTLS, err = selfSigned()
		if err != nil {
			return nil, fmt.Errorf("ftptest: making a certificate: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ftptest: %w", err)
	}
	s.Addr = ln.Addr().String()
	if err := s.serve(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return s, nil
}

// NewServer starts a server on a new temporary folder for the test and
// stops it at the end of the test.
func NewServer(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := Start(tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Config returns a client configuration for this server, with short
// timeouts fit for tests on loopback.
func (s *Server) Config() ftpdrop.Config {
	cfg := ftpdrop.Config{
		Addr:        s.Addr,
		User:        s.User,
		Password:    s.Password,
		DialTimeout: 5 * time.Second,
		IOTimeout:   5 * time.Second,
	}
	if s.opts.TLS {
		cfg.TLS = ftpdrop.TLSExplicit
		cfg.TLSConfig = s.ClientTLS.Clone()
	}
	return cfg
}

func (s *Server) serve(raw net.Listener) error {
	drv, err := file.NewDriver(s.Dir)
	if err != nil {
		return fmt.Errorf("ftptest: %w", err)
	}
	cmds := maps.Clone(server.DefaultCommands())
	if s.opts.NoEPSV {
		delete(cmds, "EPSV")
	}
	if s.opts.NoMLSD {
		delete(cmds, "MLSD")
		delete(cmds, "MLST")
	}
	opts := &server.Options{
		Driver:   drv,
		Auth:     &server.SimpleAuth{Name: s.User, Password: s.Password},
		Perm:     server.NewSimplePerm("feebridge", "feebridge"),
		Hostname: "127.0.0.1",
		Port:     -1, // see below
		Logger:   new(server.DiscardLogger),
		Commands: cmds,
	}
	if s.tlsConf != nil {
		opts.TLS = true
		opts.ExplicitFTPS = true
		opts.TLSConfig = s.tlsConf
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("ftptest: %w", err)
	}
	if s.tlsConf != nil {
		// The server takes its TLS settings only in ListenAndServe, which
		// listens where it likes. On the invalid port -1 it takes them and
		// then fails to listen; Serve then uses our listener.
		if err := srv.ListenAndServe(); err == nil {
			return errors.New("ftptest: the FTP server listened on port -1")
		}
	}
	ln := &listener{Listener: raw, conns: make(map[net.Conn]bool)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	s.mu.Lock()
	s.ln, s.served = ln, served
	s.mu.Unlock()
	return nil
}

// stop closes the listener and every session and waits for the server.
func (s *Server) stop() {
	s.mu.Lock()
	ln, served := s.ln, s.served
	s.ln = nil
	s.mu.Unlock()
	if ln == nil {
		return
	}
	ln.Close()
	<-served
	ln.closeConns()
}

// Close stops the server and drops every session. The folder stays.
func (s *Server) Close() error {
	s.stop()
	return nil
}

// DropSessions cuts every open control connection, as a server does on an
// idle timeout, and keeps serving.
func (s *Server) DropSessions() {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		ln.closeConns()
	}
}

// Restart stops the server, dropping every session, and starts it again
// on the same address, as after a crash or an upgrade of the real server.
func (s *Server) Restart() error {
	s.stop()
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("ftptest: listening again on %s: %w", s.Addr, err)
	}
	return s.serve(ln)
}

// listener keeps the accepted connections so that they can be cut.
type listener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.conns[c] = true
	l.mu.Unlock()
	return &trackedConn{Conn: c, l: l}, nil
}

func (l *listener) closeConns() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l *listener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and the
// server and client TLS settings that use and trust it.
func selfSigned() (srv, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "feebridge test FTP server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return srv, client, nil
}

// Certificate makes a new self-signed certificate for 127.0.0.1 and
// returns it and its key in PEM, for a server run as a separate program
// (such as vsftpd), and a client TLS configuration that trusts it.
func Certificate() (certPEM, keyPEM []byte, client *tls.Config, err error) {
	srv, client, err := selfSigned()
	if err != nil {
		return nil, nil, nil, err
	}
	c := srv.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, client, nil
}
