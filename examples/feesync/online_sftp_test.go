package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// sftpSite is a site whose PeopleSoft drop is an embedded SFTP server
// serving the site's PeopleSoft folder, reached with the lines given
// (the host key and login settings) after type, address and user.
func sftpSite(t *testing.T, opts []sftptest.Option, lines ...string) (*site, *sftptest.Server) {
	t.Helper()
	s := newSite(t)
	s.must(os.MkdirAll(filepath.Join(s.libDir, "reports"), 0o755))
	srv, err := sftptest.Start(s.psDir, opts...)
	s.must(err)
	t.Cleanup(func() { srv.Close() })
	b, err := os.ReadFile(s.config)
	s.must(err)
	drop := "[peoplesoft]\ntype = \"sftp\"\naddress = " + quote(srv.Addr()) + "\nuser = " + quote(srv.User()) + "\n" +
		strings.Join(lines, "\n") + "\n"
	cfg := strings.Replace(string(b), "[peoplesoft]\ntype = \"dir\"\npath = "+quote(s.psDir)+"\n", drop, 1)
	if cfg == string(b) {
		t.Fatal("the site's config has no [peoplesoft] dir drop to replace")
	}
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))
	return s, srv
}

// check-config -online logs in to an SFTP drop checked against a
// known_hosts file beside the config (a relative path), writes and
// removes its test file in each folder, and says ok; then the charges job
// delivers its file over SFTP.
func TestCheckConfigOnlineSFTP(t *testing.T) {
	s, srv := sftpSite(t, nil, `known_hosts = "known_hosts"`, `password_env = "PS_SFTP_PASSWORD"`)
	s.env["PS_SFTP_PASSWORD"] = srv.Password()
	s.must(os.WriteFile(filepath.Join(filepath.Dir(s.config), "known_hosts"), []byte(srv.KnownHostsLine()+"\n"), 0o600))

	r := s.run("check-config", "-online")
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "ok: logged in") {
		t.Errorf("no ok summary:\n%s", r.stdout)
	}
	filepath.WalkDir(s.psDir, func(p string, _ os.DirEntry, _ error) error {
		if strings.Contains(filepath.Base(p), "feesync-check") {
			t.Errorf("test file left behind: %s", p)
		}
		return nil
	})

	threeFees(t, s)
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	wantRun(t, s.run("run", "charges"), ExitRejected, "records=2")
	if files := s.files(filepath.Join(s.psDir, "inbound")); len(files) != 1 || !strings.HasSuffix(files[0], ".dat") {
		t.Errorf("PeopleSoft's inbound folder over SFTP holds %q, want one charge file", files)
	}
}

// A private key from a variable logs in; the key never shows.
func TestCheckConfigOnlineSFTPKeyEnv(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "feesync-test")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(block))
	s, srv := sftpSite(t, []sftptest.Option{sftptest.WithUser("feesync", ""), sftptest.WithAuthorizedKey(signer.PublicKey())},
		`key_env = "PS_SFTP_KEY"`)
	s.setConfig("[peoplesoft]", `host_key_sha256 = `+quote(srv.HostKeySHA256()))

	r := s.run("check-config")
	wantRun(t, r, ExitFailure, "peoplesoft.key: secret not set: set PS_SFTP_KEY, or PS_SFTP_KEY_FILE to the path of a file holding it")

	s.env["PS_SFTP_KEY"] = keyPEM
	r = s.run("check-config", "-online")
	wantRun(t, r, ExitOK)
	line := strings.Split(keyPEM, "\n")[1]
	if strings.Contains(r.stdout+r.stderr, line) {
		t.Errorf("check-config shows the key:\n%s%s", r.stdout, r.stderr)
	}
}

// A wrong pinned fingerprint, a refused password and a missing root are
// each reported against the key that causes them; with the wrong host
// key, nothing was logged in to, read or written.
func TestCheckConfigOnlineSFTPProblems(t *testing.T) {
	const pinned = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
	t.Run("host key", func(t *testing.T) {
		s, srv := sftpSite(t, nil, `host_key_sha256 = "`+pinned+`"`, `password_env = "PS_SFTP_PASSWORD"`)
		s.env["PS_SFTP_PASSWORD"] = srv.Password()
		before := s.files(filepath.Join(s.psDir, "inbound"))
		r := s.run("check-config", "-online")
		wantRun(t, r, ExitFailure, "peoplesoft.host_key_sha256: ", "the server offered ED25519 key "+srv.HostKeySHA256(), pinned)
		t.Logf("check-config -online:\n%s", r.stderr)
		if srv.Logins() != 0 || srv.Sessions() != 0 {
			t.Errorf("the server saw %d logins and %d SFTP sessions, want none", srv.Logins(), srv.Sessions())
		}
		if after := s.files(filepath.Join(s.psDir, "inbound")); len(after) != len(before) {
			t.Errorf("inbound holds %q, had %q", after, before)
		}
		if strings.Contains(r.stderr, srv.Password()) {
			t.Errorf("check-config shows the password:\n%s", r.stderr)
		}
	})
	t.Run("password", func(t *testing.T) {
		s, srv := sftpSite(t, nil, `password_env = "PS_SFTP_PASSWORD"`)
		s.setConfig("[peoplesoft]", `host_key_sha256 = `+quote(srv.HostKeySHA256()))
		s.env["PS_SFTP_PASSWORD"] = "not-the-password"
		r := s.run("check-config", "-online")
		wantRun(t, r, ExitFailure, "peoplesoft.user/password: ")
		t.Logf("check-config -online:\n%s", r.stderr)
		if strings.Contains(r.stderr, "not-the-password") {
			t.Errorf("check-config shows the password:\n%s", r.stderr)
		}
	})
	t.Run("root", func(t *testing.T) {
		s, srv := sftpSite(t, nil, `root = "/no/such/folder"`, `password_env = "PS_SFTP_PASSWORD"`)
		s.setConfig("[peoplesoft]", `host_key_sha256 = `+quote(srv.HostKeySHA256()))
		s.env["PS_SFTP_PASSWORD"] = srv.Password()
		r := s.run("check-config", "-online")
		wantRun(t, r, ExitFailure, "peoplesoft.root: ")
		t.Logf("check-config -online:\n%s", r.stderr)
	})
}

// A PeopleSoft SFTP server whose host key is not the one pinned stops the
// charges job before anything is claimed, read or written: the error shows
// the fingerprint the server offered, Alma's export stays where it was,
// and the server saw no login.
func TestRunChargesSFTPHostKeyChanged(t *testing.T) {
	const pinned = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
	s, srv := sftpSite(t, nil, `host_key_sha256 = "`+pinned+`"`, `password_env = "PS_SFTP_PASSWORD"`)
	s.env["PS_SFTP_PASSWORD"] = srv.Password()
	threeFees(t, s)
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	exports := s.files(filepath.Join(s.libDir, "exports"))

	r := s.run("run", "charges")
	wantRun(t, r, ExitFailure, "peoplesoft.host_key_sha256: ", "the server offered ED25519 key "+srv.HostKeySHA256())
	if got := s.files(filepath.Join(s.libDir, "exports")); strings.Join(got, ",") != strings.Join(exports, ",") {
		t.Errorf("exports/ holds %q after the run, had %q: the export was claimed", got, exports)
	}
	if got := s.files(filepath.Join(s.psDir, "inbound")); len(got) != 0 {
		t.Errorf("PeopleSoft's inbound folder holds %q, want nothing", got)
	}
	if srv.Logins() != 0 || srv.Sessions() != 0 {
		t.Errorf("the server saw %d logins and %d SFTP sessions, want none", srv.Logins(), srv.Sessions())
	}
}
