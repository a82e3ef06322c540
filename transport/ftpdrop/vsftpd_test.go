package ftpdrop_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/transporttest"
)

// vsftpdBinary finds vsftpd on the PATH or in the sbin folders, which are
// not on every user's PATH. Without it the test is skipped, unless
// FEEBRIDGE_REQUIRE_VSFTPD=1 (set by CI) makes that a failure.
func vsftpdBinary(t *testing.T) string {
	t.Helper()
	skip := func(why string) {
		t.Helper()
		if os.Getenv("FEEBRIDGE_REQUIRE_VSFTPD") == "1" {
			t.Fatalf("FEEBRIDGE_REQUIRE_VSFTPD=1 but %s", why)
		}
		t.Skipf("skipping the real FTP server test: %s (install vsftpd to run it)", why)
	}
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/vsftpd", "/usr/local/sbin/vsftpd", "/sbin/vsftpd"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		skip("vsftpd is not installed")
	}
	if os.Geteuid() != 0 {
		skip("vsftpd must be started as root")
	}
	if _, err := user.Lookup("ftp"); err != nil {
		skip("there is no ftp user for anonymous sessions")
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startVsftpd runs vsftpd in the foreground on a free port of 127.0.0.1,
// with anonymous read and write in <tmp>/root/pub, and stops it at the end
// of the test. It returns the client configuration for /pub.
func startVsftpd(t *testing.T, mode ftpdrop.TLSMode) ftpdrop.Config {
	t.Helper()
	bin := vsftpdBinary(t)
	ftpUser, _ := user.Lookup("ftp")
	uid, _ := strconv.Atoi(ftpUser.Uid)
	gid, _ := strconv.Atoi(ftpUser.Gid)

	tmp := t.TempDir()
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tmp, "root")
	pub := filepath.Join(root, "pub")
	if err := os.MkdirAll(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(pub, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o555); err != nil { // vsftpd refuses a writable anonymous root
		t.Fatal(err)
	}

	port := freePort(t)
	conf := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
anon_root=%s
no_anon_password=YES
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_umask=022
local_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
seccomp_sandbox=NO
xferlog_enable=NO
`, port, root)
	cfg := ftpdrop.Config{
		Addr:        fmt.Sprintf("127.0.0.1:%d", port),
		User:        "anonymous",
		Root:        "/pub",
		DialTimeout: 5 * time.Second,
		IOTimeout:   10 * time.Second,
		TLS:         mode,
	}
	if mode != ftpdrop.TLSNone {
		certPEM, keyPEM, client, err := ftptest.Certificate()
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile := filepath.Join(tmp, "cert.pem"), filepath.Join(tmp, "key.pem")
		if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		conf += fmt.Sprintf(`ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
rsa_cert_file=%s
rsa_private_key_file=%s
require_ssl_reuse=NO
ssl_ciphers=HIGH
implicit_ssl=%s
`, certFile, keyFile, map[bool]string{true: "YES", false: "NO"}[mode == ftpdrop.TLSImplicit])
		cfg.TLSConfig = client
	}
	confFile := filepath.Join(tmp, "vsftpd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	var stderr strings.Builder
	cmd := exec.Command(bin, confFile)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vsftpd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", cfg.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("vsftpd stopped: %v: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd does not listen on %s: %s", cfg.Addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cfg
}

// vsftpdHarness gives each test its own folder under /pub of one server.
func vsftpdHarness(t *testing.T, mode ftpdrop.TLSMode) transporttest.Harness {
	cfg := startVsftpd(t, mode)
	var n atomic.Int32
	return transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			pub, err := ftpdrop.Open(t.Context(), cfg)
			if err != nil {
				t.Fatalf("ftpdrop.Open: %v", err)
			}
			defer pub.Close()
			dir := fmt.Sprintf("t%02d", n.Add(1))
			if err := pub.MkdirAll(t.Context(), dir); err != nil {
				t.Fatal(err)
			}
			sub := cfg
			sub.Root = "/pub/" + dir
			d, err := ftpdrop.Open(t.Context(), sub)
			if err != nil {
				t.Fatalf("ftpdrop.Open: %v", err)
			}
			return d
		},
	}
}

func TestConformanceVsftpd(t *testing.T) {
	transporttest.RunConformanceTests(t, vsftpdHarness(t, ftpdrop.TLSNone))
}

func TestConformanceVsftpdExplicitTLS(t *testing.T) {
	transporttest.RunConformanceTests(t, vsftpdHarness(t, ftpdrop.TLSExplicit))
}

func TestConformanceVsftpdImplicitTLS(t *testing.T) {
	transporttest.RunConformanceTests(t, vsftpdHarness(t, ftpdrop.TLSImplicit))
}

// A client that does not trust the server's certificate stops at once.
func TestVsftpdUntrustedCertificate(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSExplicit)
	cfg.TLSConfig = &tls.Config{ServerName: "127.0.0.1"}
	_, err := ftpdrop.Open(t.Context(), cfg)
	if err == nil {
		t.Fatal("Open trusted a self-signed certificate")
	}
	if code := transport.ErrorCode(err); code == transport.Transient {
		t.Errorf("untrusted certificate: code %v, want a permanent one (%v)", code, err)
	}
}
