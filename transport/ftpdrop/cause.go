package ftpdrop

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"syscall"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// The causes that Open names, for errors.Is. Each is wrapped in an error
// that says what to change.
var (
	// ErrLoginRefused: the server refused the user or the password. It is
	// permanent: trying again will not change the answer.
	ErrLoginRefused = errors.New("user or password refused")
	// ErrTLSMismatch: the client and the server disagree on TLS (explicit
	// TLS against a server without AUTH TLS, implicit TLS against a plain
	// port, plain FTP against a server that requires TLS).
	ErrTLSMismatch = errors.New("TLS setting does not match the server")
	// ErrNoRoot: the drop's root folder does not exist on the server.
	ErrNoRoot = errors.New("root folder not found")
)

// dialCause names the cause of an error of ftp.Dial or of the implicit TLS
// handshake, or returns err as it is.
func (d *Driver) dialCause(err error) error {
	var header tls.RecordHeaderError
	if d.cfg.TLS == TLSImplicit && errors.As(err, &header) {
		return remote.Cause(ErrTLSMismatch, transport.Unknown, fmt.Sprintf(
			"the server %s does not speak TLS on this port: set tls = \"explicit\" (or \"none\"), or the implicit FTPS port (usually 990)", d.cfg.Addr), err)
	}
	var tp *textproto.Error
	if d.cfg.TLS == TLSExplicit && errors.As(err, &tp) && tp.Code >= 500 {
		return remote.Cause(ErrTLSMismatch, transport.Unknown, fmt.Sprintf(
			"the server %s does not speak TLS (it refused AUTH TLS): set tls = \"none\" only if the network is trusted, or ask for FTPS", d.cfg.Addr), err)
	}
	return err
}

// loginCause names the cause of a refused login, or returns err as it is.
func (d *Driver) loginCause(err error) error {
	msg, ok := refusal(err)
	if !ok {
		return err
	}
	msg = strings.ToLower(msg)
	if d.cfg.TLS == TLSNone && (strings.Contains(msg, "encrypt") || strings.Contains(msg, "tls") ||
		strings.Contains(msg, "ssl") || strings.Contains(msg, "user and pass")) {
		return remote.Cause(ErrTLSMismatch, transport.Permission, fmt.Sprintf(
			"the server %s requires TLS: set tls = \"explicit\" (or \"implicit\")", d.cfg.Addr), err)
	}
	return remote.Cause(ErrLoginRefused, transport.Permission, fmt.Sprintf(
		"user or password refused by %s (user %q)", d.cfg.Addr, d.cfg.User), err)
}

// rootCause names a missing root folder, or returns err as it is.
func (d *Driver) rootCause(err error) error {
	if transport.ErrorCode(err) != transport.NotFound {
		return err
	}
	return remote.Cause(ErrNoRoot, transport.NotFound, fmt.Sprintf(
		"the root folder %q does not exist on %s (resolved to %q)", d.cfg.Root, d.cfg.Addr, d.abs("")), err)
}

// refusal returns the server's words if err is its refusal of the login:
// a 530 reply to PASS, or any reply to USER but "331 password needed"
// (the FTP library gives that one as a bare message).
func refusal(err error) (string, bool) {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Msg, tp.Code == 530
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, errAborted) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		return "", false
	}
	if errors.Unwrap(err) != nil {
		return "", false
	}
	// The library gives the reply's words without its code: a busy
	// server's "421 Too many users, try again later" stays transient.
	if m := strings.ToLower(err.Error()); strings.Contains(m, "too many") || strings.Contains(m, "later") {
		return "", false
	}
	return err.Error(), true
}
