package main

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// openDrop opens the drop that d describes; key names it in errors and
// in the secret's message. The drop is closed by m.Close.
func (m *Main) openDrop(ctx context.Context, key string, d DropConfig) (*transport.Drop, error) {
	opts := &transport.DropOptions{Logger: m.logger.With("drop", key)}
	var (
		drop *transport.Drop
		err  error
	)
	switch d.Type {
	case "dir":
		drop, err = localdrop.Open(d.Path, &localdrop.Options{Drop: opts})
	case "ftp":
		pw, perr := m.loadSecret(secretRef{key: key + ".password", env: d.PasswordEnv, file: d.PasswordFile})
		if perr != nil {
			return nil, perr
		}
		mode := map[string]ftpdrop.TLSMode{"none": ftpdrop.TLSNone, "explicit": ftpdrop.TLSExplicit, "implicit": ftpdrop.TLSImplicit}[d.TLS]
		if mode == ftpdrop.TLSNone {
			m.logger.Warn("plain FTP: the password and the files cross the network in clear; set tls = \"explicit\" if the server can", "drop", key, "address", d.Address)
		}
		drop, err = ftpdrop.Open(ctx, ftpdrop.Config{
			Addr:      d.Address,
			User:      d.User,
			Password:  pw.Reveal(),
			TLS:       mode,
			Root:      d.Root,
			IOTimeout: d.Timeout.d(),
			Location:  m.config.Location(),
			Logger:    m.logger.With("drop", key),
			Drop:      opts,
		})
	default:
		return nil, fmt.Errorf("%s: no drop configured", key)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	m.onClose(drop.Close)
	return drop, nil
}
