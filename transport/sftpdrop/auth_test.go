package sftpdrop_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// newKey returns a new ed25519 key as OpenSSH private key bytes
// (encrypted with passphrase if it is not empty) and its public key.
func newKey(t *testing.T, passphrase string) ([]byte, ssh.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "feebridge test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "feebridge test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sshPub, priv
}

// loginWith opens a drop with cfg's secrets on top of the server's
// address and pinned key, without its password, and writes a file.
func loginWith(t *testing.T, srv *sftptest.Server, edit func(*sftpdrop.Config)) error {
	t.Helper()
	cfg := srv.Config()
	cfg.Password = ""
	cfg.Drop = &transport.DropOptions{Retry: quickRetry}
	edit(&cfg)
	d, err := sftpdrop.Open(t.Context(), cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.WriteFile(t.Context(), "hello.txt", []byte("hello"))
}

func TestLoginByKey(t *testing.T) {
	plain, pub, _ := newKey(t, "")
	locked, lockedPub, _ := newKey(t, "correct horse")
	srv := newServer(t, sftptest.WithAuthorizedKey(pub), sftptest.WithAuthorizedKey(lockedPub))
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	lockedFile := filepath.Join(t.TempDir(), "id_locked")
	if err := os.WriteFile(lockedFile, locked, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*sftpdrop.Config)
	}{
		{"file", func(c *sftpdrop.Config) { c.KeyFile = keyFile }},
		{"bytes", func(c *sftpdrop.Config) { c.Key = plain }},
		{"encrypted file", func(c *sftpdrop.Config) { c.KeyFile = lockedFile; c.KeyPassphrase = []byte("correct horse") }},
		{"encrypted bytes", func(c *sftpdrop.Config) { c.Key = locked; c.KeyPassphrase = []byte("correct horse") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := loginWith(t, srv, tc.edit); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoginByAgent(t *testing.T) {
	_, pub, priv := newKey(t, "")
	srv := newServer(t, sftptest.WithAuthorizedKey(pub))
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix socket: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	if err := loginWith(t, srv, func(c *sftpdrop.Config) { c.UseAgent = true }); err != nil {
		t.Fatal(err)
	}
}

func TestLoginRefused(t *testing.T) {
	_, pub, _ := newKey(t, "")
	other, _, _ := newKey(t, "")
	srv := newServer(t, sftptest.WithAuthorizedKey(pub))
	cases := []struct {
		name   string
		edit   func(*sftpdrop.Config)
		secret string
	}{
		{"wrong password", func(c *sftpdrop.Config) { c.Password = "hunter2-wrong" }, "hunter2-wrong"},
		{"wrong user", func(c *sftpdrop.Config) { c.User = "nobody"; c.Password = srv.Password() }, srv.Password()},
		{"key not authorized", func(c *sftpdrop.Config) { c.Key = other }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loginWith(t, srv, tc.edit)
			if !errors.Is(err, sftpdrop.ErrLoginRefused) {
				t.Fatalf("error %v, want ErrLoginRefused", err)
			}
			if code := transport.ErrorCode(err); code != transport.Permission {
				t.Errorf("code %v, want Permission", code)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q shows the password", err)
			}
			t.Log(err)
		})
	}
}

func TestBadKey(t *testing.T) {
	srv := newServer(t)
	locked, _, _ := newKey(t, "correct horse")
	cases := []struct {
		name, want string
		edit       func(*sftpdrop.Config)
	}{
		{"not a key", "not a private key", func(c *sftpdrop.Config) { c.Key = []byte("-----BEGIN NOTHING-----\nsecret-bytes\n") }},
		{"encrypted, no passphrase", "passphrase", func(c *sftpdrop.Config) { c.Key = locked }},
		{"wrong passphrase", "passphrase", func(c *sftpdrop.Config) { c.Key = locked; c.KeyPassphrase = []byte("wrong horse") }},
		{"missing file", "no such file", func(c *sftpdrop.Config) { c.KeyFile = filepath.Join(t.TempDir(), "none") }},
		{"nothing to log in with", "no way to log in", func(c *sftpdrop.Config) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loginWith(t, srv, tc.edit)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one that says %q", err, tc.want)
			}
			for _, secret := range []string{"secret-bytes", "wrong horse", "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows %q", err, secret)
				}
			}
		})
	}
}

// Secrets never show in the formatted or logged configuration.
func TestConfigRedacted(t *testing.T) {
	cfg := sftpdrop.Config{
		Address: "sftp.example.edu:22", User: "alma", HostKeySHA256: "SHA256:abc",
		Key: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretkey\n"), KeyPassphrase: []byte("pass-phrase-1"),
		Password: "pass-word-2",
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("drop", "cfg", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("drop", "cfg", cfg)
	out := fmt.Sprint(cfg) + fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg) + buf.String()
	for _, secret := range []string{"AAAAsecretkey", "pass-phrase-1", "pass-word-2"} {
		if strings.Contains(out, secret) {
			t.Errorf("formatted config shows %q:\n%s", secret, out)
		}
	}
	for _, shown := range []string{"sftp.example.edu:22", "alma", "SHA256:abc", "[redacted]"} {
		if !strings.Contains(out, shown) {
			t.Errorf("formatted config does not show %q:\n%s", shown, out)
		}
	}
}

// Config.Check finds the offline mistakes without a server.
func TestConfigCheck(t *testing.T) {
	key, _, _ := newKey(t, "")
	good := sftpdrop.Config{Address: "sftp.example.edu:22", User: "alma", Key: key,
		HostKeySHA256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	if err := good.Check(); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	cases := []struct {
		name, want string
		edit       func(*sftpdrop.Config)
	}{
		{"no address", "no server address", func(c *sftpdrop.Config) { c.Address = "" }},
		{"no host key check", "host key", func(c *sftpdrop.Config) { c.HostKeySHA256 = "" }},
		{"both host key checks", "keep one", func(c *sftpdrop.Config) { c.KnownHosts = "/etc/ssh/ssh_known_hosts" }},
		{"bad fingerprint", "SHA256", func(c *sftpdrop.Config) { c.HostKeySHA256 = "MD5:00:11" }},
		{"missing known_hosts", "known_hosts", func(c *sftpdrop.Config) {
			c.HostKeySHA256, c.KnownHosts = "", filepath.Join(t.TempDir(), "none")
		}},
		{"not a key", "not a private key", func(c *sftpdrop.Config) { c.Key = []byte("secret-bytes") }},
		{"nothing to log in with", "no way to log in", func(c *sftpdrop.Config) { c.Key = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			err := cfg.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: %v, want an error that says %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-bytes") {
				t.Errorf("Check's error shows the key: %v", err)
			}
		})
	}
}
