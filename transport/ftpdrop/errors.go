package ftpdrop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/textproto"
	"strings"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/internal/remote"
)

// mapErr gives an error of the FTP library or the network its transport
// code, at the edge of the driver, with the password taken out.
func (d *Driver) mapErr(ctx context.Context, op, p string, err error) error {
	return remote.MapErr(ctx, op, p, err, classify, d.redact)
}

func classify(err error) transport.Code {
	if c, ok := remote.KnownCode(err); ok {
		return c
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

// redact returns err without the password (see remote.Redact).
func (d *Driver) redact(err error) error { return remote.Redact(err, d.cfg.Password) }
