package ftpdrop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/textproto"
	"strings"

	"github.com/feebridge/feebridge/transport"
)

// mapErr gives an error of the FTP library or the network its transport
// code, at the edge of the driver, with the password taken out.
func (d *Driver) mapErr(ctx context.Context, op, p string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return &transport.Error{Code: transport.Canceled, Op: op, Path: p, Err: ctx.Err()}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return err
	}
	return &transport.Error{Code: classify(err), Op: op, Path: p, Err: d.redact(err)}
}

func classify(err error) transport.Code {
	var ce *causeError
	if errors.As(err, &ce) {
		return ce.code
	}
	var src *sourceError
	if errors.As(err, &src) {
		if c := transport.ErrorCode(src.err); c != transport.Unknown {
			return c
		}
		return transport.Unknown
	}
	if errors.Is(err, errClosed) {
		return transport.Unknown
	}
	var ne *listingError
	if errors.As(err, &ne) {
		return transport.Protocol
	}
	var se *sizeError
	if errors.As(err, &se) {
		return transport.Transient
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		msg := strings.ToLower(tp.Msg)
		switch {
		case tp.Code >= 400 && tp.Code < 500:
			return transport.Transient
		case tp.Code == 530 || tp.Code == 532 || tp.Code == 553:
			return transport.Permission
		case tp.Code == 550 && (strings.Contains(msg, "denied") || strings.Contains(msg, "permission")):
			return transport.Permission
		case tp.Code == 550 || tp.Code == 551: // some servers say 551 for a missing file
			return transport.NotFound
		}
		return transport.Unknown
	}
	// A server that cannot prove who it is will not prove it on a retry.
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		header    tls.RecordHeaderError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header) {
		return transport.Unknown
	}
	// Everything else happened on the wire: resets, timeouts, a cut
	// connection, a garbled reply.
	return transport.Transient
}

// redactedError is an error whose message had the password in it.
type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

// redact returns err, or a copy of its message without the password if
// it contains it. The copy drops the chain: the original would show the
// password through errors.Unwrap.
func (d *Driver) redact(err error) error {
	pw := d.cfg.Password
	if err == nil || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), pw, "[redacted]")}
}
