package sftpdrop_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// snapshot describes every file under dir: name, size, content and
// modification time, to show that nothing was written or replaced.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		var data []byte
		if !e.IsDir() {
			if data, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		out[p] = fi.Mode().String() + " " + fi.ModTime().Format(time.RFC3339Nano) + " " + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// serverWithFiles starts a server whose folder holds an export and an
// outbound folder, as the library's drop would.
func serverWithFiles(t *testing.T, opts ...sftptest.Option) *sftptest.Server {
	t.Helper()
	srv := newServer(t, opts...)
	if err := os.MkdirAll(filepath.Join(srv.Dir(), "alma", "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir(), "alma", "export", "fines.xml"), []byte("<fines/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv
}

// checkRefused checks that Open failed for want, permanently, showing the
// fingerprint the server offered, and that the server's folder is as it
// was and the server started no SFTP session.
func checkRefused(t *testing.T, srv *sftptest.Server, before map[string]string, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatal("Open succeeded against a server whose host key is not the known one")
	}
	t.Logf("refused: %v", err)
	if !errors.Is(err, want) {
		t.Errorf("error %v: not %v", err, want)
	}
	if code := transport.ErrorCode(err); code != transport.Permission {
		t.Errorf("code %v, want %v (permanent)", code, transport.Permission)
	}
	if !strings.Contains(err.Error(), srv.HostKeySHA256()) {
		t.Errorf("error %q does not show the fingerprint the server offered, %s", err, srv.HostKeySHA256())
	}
	if strings.Contains(err.Error(), srv.Password()) {
		t.Errorf("error %q shows the password", err)
	}
	if n := srv.Logins(); n != 0 {
		t.Errorf("the client logged in %d times to a server it did not trust", n)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("the client opened %d SFTP sessions on a server it did not trust", n)
	}
	after := snapshot(t, srv.Dir())
	if len(after) != len(before) {
		t.Errorf("the server's folder changed: %d entries before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed: %q -> %q", p, b, after[p])
		}
	}
}

// The server's key is not the pinned one (the server was replaced, or
// someone is in the middle): the drop stops before logging in.
func TestHostKeyChangedPinned(t *testing.T) {
	known := newServer(t) // the key the configuration pins
	srv := serverWithFiles(t)
	before := snapshot(t, srv.Dir())
	cfg := srv.Config()
	cfg.HostKeySHA256 = known.HostKeySHA256()
	cfg.Root = "alma"
	cfg.Drop = &transport.DropOptions{Retry: quickRetry}
	_, err := sftpdrop.Open(t.Context(), cfg)
	checkRefused(t, srv, before, err, sftpdrop.ErrHostKeyChanged)
	if !strings.Contains(err.Error(), known.HostKeySHA256()) {
		t.Errorf("error %q does not show the pinned fingerprint", err)
	}
}

func TestHostKeyChangedKnownHosts(t *testing.T) {
	srv := serverWithFiles(t)
	other, err := sftptest.NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// The file knows another ed25519 key for this address.
	old := newServerOn(t, other)
	line := strings.Replace(old.KnownHostsLine(), "["+hostOf(old.Addr())+"]:"+portOf(old.Addr()), "["+hostOf(srv.Addr())+"]:"+portOf(srv.Addr()), 1)
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, srv.Dir())
	cfg := srv.Config()
	cfg.HostKeySHA256 = ""
	cfg.KnownHosts = kh
	_, err = sftpdrop.Open(t.Context(), cfg)
	checkRefused(t, srv, before, err, sftpdrop.ErrHostKeyChanged)
	if !strings.Contains(err.Error(), ssh.FingerprintSHA256(other.PublicKey())) {
		t.Errorf("error %q does not show the known key's fingerprint", err)
	}
}

func TestHostKeyUnknown(t *testing.T) {
	srv := serverWithFiles(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	other := newServer(t) // the file knows only another server
	if err := os.WriteFile(kh, []byte(other.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, srv.Dir())
	cfg := srv.Config()
	cfg.HostKeySHA256 = ""
	cfg.KnownHosts = kh
	_, err := sftpdrop.Open(t.Context(), cfg)
	checkRefused(t, srv, before, err, sftpdrop.ErrHostKeyUnknown)
}

func TestHostKeyKnown(t *testing.T) {
	srv := serverWithFiles(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("# the campus server\n"+srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config()
	cfg.HostKeySHA256 = ""
	cfg.KnownHosts = kh
	cfg.Root = "/alma/export"
	d, err := sftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := d.ReadFile(t.Context(), "fines.xml"); err != nil || string(got) != "<fines/>" {
		t.Errorf("ReadFile = %q, %v", got, err)
	}
}

// The server's key changes between two connections of one drop (the
// server was replaced while feesync ran): the next connection stops.
func TestHostKeyChangedOnReconnect(t *testing.T) {
	srv := serverWithFiles(t)
	cfg := srv.Config()
	cfg.Drop = &transport.DropOptions{Retry: quickRetry}
	d, err := sftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	addr := srv.Addr()
	srv.Close()
	key, err := sftptest.NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := sftptest.StartOn(addr, t.TempDir(), sftptest.WithHostKey(key), sftptest.WithUser(srv.User(), srv.Password()))
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	defer impostor.Close()
	err = d.WriteFile(t.Context(), "payments.xml", []byte("<payments/>"))
	if !errors.Is(err, sftpdrop.ErrHostKeyChanged) || !strings.Contains(err.Error(), impostor.HostKeySHA256()) {
		t.Errorf("write to a server whose key changed: %v", err)
	}
	if impostor.Logins() != 0 || impostor.Sessions() != 0 {
		t.Errorf("the client logged in to the impostor: %d logins, %d sessions", impostor.Logins(), impostor.Sessions())
	}
}

func TestNoHostKeyCheck(t *testing.T) {
	srv := newServer(t)
	cfg := srv.Config()
	cfg.HostKeySHA256 = ""
	_, err := sftpdrop.Open(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "host key") {
		t.Errorf("Open without a host key check: %v", err)
	}
	for _, bad := range []string{"abc", "SHA256:short", "MD5:aa:bb"} {
		cfg.HostKeySHA256 = bad
		if _, err := sftpdrop.Open(t.Context(), cfg); err == nil {
			t.Errorf("Open with fingerprint %q succeeded", bad)
		}
	}
}

func newServerOn(t *testing.T, key ssh.Signer) *sftptest.Server {
	t.Helper()
	return newServer(t, sftptest.WithHostKey(key))
}

func hostOf(addr string) string { h, _, _ := strings.Cut(addr, ":"); return h }
func portOf(addr string) string { _, p, _ := strings.Cut(addr, ":"); return p }
