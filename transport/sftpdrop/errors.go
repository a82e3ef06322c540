package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/pkg/sftp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// The causes that Open and the calls name, for errors.Is. Each is wrapped
// in an error that says what to change. All are permanent.
var (
	// ErrHostKeyUnknown: the known_hosts file has no key for the server.
	// The message shows the fingerprint of the key the server offered.
	ErrHostKeyUnknown = errors.New("host key unknown")
	// ErrHostKeyChanged: the server offered a key other than the one
	// known or pinned. The message shows the fingerprint offered.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrLoginRefused: the server refused the user, the key or the password.
	ErrLoginRefused = errors.New("login refused")
	// ErrNoRoot: the drop's root folder does not exist on the server.
	ErrNoRoot = errors.New("root folder not found")
)

// loginCause names a refused login, or returns err as it is.
func (d *Driver) loginCause(err error) error {
	if !strings.Contains(err.Error(), "unable to authenticate") {
		return err
	}
	var how []string
	if len(d.auth.signers) > 0 {
		how = append(how, "key")
	}
	if d.auth.agent {
		how = append(how, "agent")
	}
	if d.auth.password != "" {
		how = append(how, "password")
	}
	return remote.Cause(ErrLoginRefused, transport.Permission, fmt.Sprintf(
		"%s refused the login of user %q (tried: %s)", d.cfg.Address, d.cfg.User, strings.Join(how, ", ")), err)
}

// rootCause names a missing root folder, or returns err as it is.
func (d *Driver) rootCause(err error) error {
	if transport.ErrorCode(err) != transport.NotFound {
		return err
	}
	return &transport.Error{Code: transport.NotFound, Op: "open", Err: remote.Cause(ErrNoRoot, transport.NotFound, fmt.Sprintf(
		"the root folder %q does not exist on %s (resolved to %q)", d.cfg.Root, d.cfg.Address, d.abs("")), errors.Unwrap(err))}
}

// mapErr gives an error of the SFTP library or the network its transport
// code, at the edge of the driver, with the secrets taken out.
func (d *Driver) mapErr(ctx context.Context, op, p string, err error) error {
	return remote.MapErr(ctx, op, p, err, classify, d.redact)
}

func classify(err error) transport.Code {
	if c, ok := remote.KnownCode(err); ok {
		return c
	}
	var se *sizeError
	switch {
	case errors.Is(err, errClosed):
		return transport.Unknown
	case errors.As(err, &se):
		return transport.Transient
	case errors.Is(err, os.ErrNotExist):
		return transport.NotFound
	case errors.Is(err, os.ErrPermission):
		return transport.Permission
	case errors.Is(err, os.ErrExist):
		return transport.Exists
	}
	var st *sftp.StatusError
	if errors.As(err, &st) {
		switch st.FxCode() {
		case sftp.ErrSSHFxNoSuchFile:
			return transport.NotFound
		case sftp.ErrSSHFxPermissionDenied:
			return transport.Permission
		case sftp.ErrSSHFxBadMessage:
			return transport.Protocol
		case sftp.ErrSSHFxNoConnection, sftp.ErrSSHFxConnectionLost:
			return transport.Transient
		case sftp.ErrSSHFxOpUnsupported:
			return transport.Unsupported
		}
		return transport.Unknown
	}
	// Everything else happened on the wire: resets, timeouts, a cut
	// connection, a lost SFTP session.
	return transport.Transient
}

// onWire reports whether err is a failure of the connection (a reset, a
// timeout, a close) rather than an answer of the server.
func onWire(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, errAborted) ||
		errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection)
}

// isUnsupported reports whether the server refused an operation it does
// not know.
func isUnsupported(err error) bool {
	var st *sftp.StatusError
	return errors.Is(err, sftp.ErrSSHFxOpUnsupported) || errors.As(err, &st) && st.FxCode() == sftp.ErrSSHFxOpUnsupported
}

// isFailure reports whether err is the server's bare "failure" status.
func isFailure(err error) bool {
	var st *sftp.StatusError
	return errors.As(err, &st) && st.FxCode() == sftp.ErrSSHFxFailure
}

// redact returns err without the password or the key's passphrase (see
// remote.Redact). Secrets shorter than three characters are left: they
// would blot out ordinary words of the message.
func (d *Driver) redact(err error) error {
	var secrets []string
	for _, s := range []string{d.cfg.Password, string(d.cfg.KeyPassphrase)} {
		if len(s) >= 3 {
			secrets = append(secrets, s)
		}
	}
	return remote.Redact(err, secrets...)
}
