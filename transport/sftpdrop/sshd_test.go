package sftpdrop_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/sshdtest"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/transporttest"
)

// sshdConfig is the client configuration for a real OpenSSH sshd started
// by internal/sshdtest: its user, key and known_hosts file, rooted at an
// absolute folder of the test (no chroot).
func sshdConfig(s *sshdtest.Server, root string) sftpdrop.Config {
	return sftpdrop.Config{
		Address:    s.Addr,
		User:       s.User,
		Root:       root,
		KnownHosts: s.KnownHosts,
		KeyFile:    s.KeyFile,
		Timeout:    10 * time.Second,
		Drop:       &transport.DropOptions{Retry: quickRetry},
	}
}

// sshdHarness gives each test of the suite a folder of its own under the
// server's folder, reached through OpenSSH's internal-sftp.
func sshdHarness(t *testing.T) transporttest.Harness {
	s := sshdtest.Start(t)
	var n atomic.Int32
	return transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			dir := filepath.Join(s.Dir, fmt.Sprintf("t%02d", n.Add(1)))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			d, err := sftpdrop.Open(t.Context(), sshdConfig(s, dir))
			if err != nil {
				t.Fatalf("sftpdrop.Open against sshd: %v\nsshd:\n%s", err, s.Log())
			}
			return d
		},
		TimeSlack: 5 * time.Second,
	}
}

// TestConformanceSSHD runs the conformance suite against OpenSSH's sshd,
// the server most campuses run (internal-sftp, posix-rename and fsync
// extensions as OpenSSH has them).
func TestConformanceSSHD(t *testing.T) {
	transporttest.RunConformanceTests(t, sshdHarness(t))
}

// TestSSHDPinnedFingerprint: the pinned fingerprint that ssh-keygen -lf
// prints for the host key is accepted, as a known_hosts file is.
func TestSSHDPinnedFingerprint(t *testing.T) {
	s := sshdtest.Start(t)
	cfg := sshdConfig(s, s.Dir)
	cfg.KnownHosts, cfg.HostKeySHA256 = "", s.HostKeySHA256
	d, err := sftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open with the pinned fingerprint: %v", err)
	}
	defer d.Close()
	if err := d.Put(t.Context(), "hello.txt", strings.NewReader("hello\n")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir, "hello.txt")); err != nil || string(b) != "hello\n" {
		t.Errorf("the file on the server: %q, %v", b, err)
	}
}

// TestSSHDWrongKey: sshd refuses a key it was not given; the error is the
// permanent ErrLoginRefused, and it shows no key material.
func TestSSHDWrongKey(t *testing.T) {
	s := sshdtest.Start(t)
	cfg := sshdConfig(s, s.Dir)
	other, key := s.OtherKey(t)
	cfg.KeyFile = other
	_, err := sftpdrop.Open(t.Context(), cfg)
	if !errors.Is(err, sftpdrop.ErrLoginRefused) {
		t.Fatalf("Open with a key sshd does not accept: %v, want ErrLoginRefused", err)
	}
	if code := transport.ErrorCode(err); code == transport.Transient {
		t.Errorf("refused login: code %v, want a permanent one", code)
	}
	if strings.Contains(err.Error(), strings.Split(string(key), "\n")[1]) {
		t.Errorf("the error shows the key: %v", err)
	}
	// The same key given as bytes (key_env) is refused the same way.
	cfg.KeyFile, cfg.Key = "", key
	if _, err := sftpdrop.Open(t.Context(), cfg); !errors.Is(err, sftpdrop.ErrLoginRefused) {
		t.Errorf("Open with key bytes sshd does not accept: %v, want ErrLoginRefused", err)
	}
}

// TestSSHDWrongFingerprint: a pinned fingerprint that is not sshd's key
// stops before logging in, with a permanent host key error that shows the
// fingerprint sshd presented; nothing is written.
func TestSSHDWrongFingerprint(t *testing.T) {
	s := sshdtest.Start(t)
	cfg := sshdConfig(s, s.Dir)
	cfg.KnownHosts, cfg.HostKeySHA256 = "", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
	_, err := sftpdrop.Open(t.Context(), cfg)
	if !errors.Is(err, sftpdrop.ErrHostKeyChanged) {
		t.Fatalf("Open with a wrong pinned fingerprint: %v, want ErrHostKeyChanged", err)
	}
	if code := transport.ErrorCode(err); code == transport.Transient {
		t.Errorf("wrong host key: code %v, want a permanent one", code)
	}
	if !strings.Contains(err.Error(), s.HostKeySHA256) {
		t.Errorf("the error does not show the fingerprint sshd presented (%s): %v", s.HostKeySHA256, err)
	}
	if strings.Contains(s.Log(), "Accepted publickey") {
		t.Errorf("the client logged in despite the wrong host key:\n%s", s.Log())
	}
	if entries, _ := os.ReadDir(s.Dir); len(entries) != 0 {
		t.Errorf("the server's folder holds %d entries, want none", len(entries))
	}
}

// TestSSHDUnknownHost: a known_hosts file that does not list the server
// is ErrHostKeyUnknown, with the fingerprint to check.
func TestSSHDUnknownHost(t *testing.T) {
	s := sshdtest.Start(t)
	cfg := sshdConfig(s, s.Dir)
	cfg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(cfg.KnownHosts, []byte("[sftp.example.edu]:22 "+strings.SplitN(s.KnownHostsLine, " ", 2)[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sftpdrop.Open(t.Context(), cfg)
	if !errors.Is(err, sftpdrop.ErrHostKeyUnknown) || !strings.Contains(err.Error(), s.HostKeySHA256) {
		t.Fatalf("Open with a known_hosts file that lacks the server: %v, want ErrHostKeyUnknown showing %s", err, s.HostKeySHA256)
	}
}
