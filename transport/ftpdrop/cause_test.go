package ftpdrop_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

// openErr opens a drop with cfg and returns its error, which must be one.
func openErr(t *testing.T, cfg ftpdrop.Config) error {
	t.Helper()
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded, want an error")
	}
	t.Logf("error: %v", err)
	return err
}

func wantCause(t *testing.T, err, sentinel error, code transport.Code, words ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("error does not wrap %v: %v", sentinel, err)
	}
	if c := transport.ErrorCode(err); c != code {
		t.Errorf("code %v, want %v", c, code)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

// A refused password is permanent and says so, naming the server.
func TestLoginRefusedEmbedded(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	cfg := srv.Config()
	cfg.Password = "wrong-password"
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrLoginRefused, transport.Permission, "user or password refused", srv.Addr)
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error shows the password: %v", err)
	}
}

// Explicit TLS against a plain server: named, with the setting to change.
func TestExplicitTLSAgainstPlainEmbedded(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	cfg := srv.Config()
	cfg.TLS = ftpdrop.TLSExplicit
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrTLSMismatch, transport.Unknown, "does not speak TLS", `tls = "none"`)
}

// Implicit TLS against a plain port.
func TestImplicitTLSAgainstPlainEmbedded(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	cfg := srv.Config()
	cfg.TLS = ftpdrop.TLSImplicit
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrTLSMismatch, transport.Unknown, "does not speak TLS")
}

// A root that does not exist names the folder.
func TestMissingRootEmbedded(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	cfg := srv.Config()
	cfg.Root = "/no/such/folder"
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrNoRoot, transport.NotFound, `"/no/such/folder"`, "root")
}

// Plain FTP against a vsftpd that requires TLS ("530 Non-anonymous
// sessions must use encryption" or the like): named as a TLS mismatch.
func TestPlainAgainstTLSVsftpd(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSExplicit)
	cfg.TLS = ftpdrop.TLSNone
	cfg.TLSConfig = nil
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrTLSMismatch, transport.Permission, "requires TLS", `tls = "explicit"`)
}

// Explicit TLS against a plain vsftpd (no AUTH TLS).
func TestExplicitTLSAgainstPlainVsftpd(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSNone)
	cfg.TLS = ftpdrop.TLSExplicit
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrTLSMismatch, transport.Unknown, "does not speak TLS", `tls = "none"`)
}

// A user vsftpd refuses is permanent, not transient.
func TestLoginRefusedVsftpd(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSNone)
	cfg.User = "nobody-here"
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrLoginRefused, transport.Permission, "user or password refused", cfg.Addr)
}

// A root vsftpd cannot change to ("550 Failed to change directory.")
// names the folder.
func TestMissingRootVsftpd(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSNone)
	cfg.Root = "/pub/no-such-folder"
	err := openErr(t, cfg)
	wantCause(t, err, ftpdrop.ErrNoRoot, transport.NotFound, `"/pub/no-such-folder"`, "does not exist")
}
