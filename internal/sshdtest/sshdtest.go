// Package sshdtest runs a real OpenSSH sshd on 127.0.0.1 for one test, so
// that the SFTP driver can be tried against the server most campuses run.
//
// [Start] finds sshd (on the PATH or in the sbin folders), makes a host
// key and a user key with ssh-keygen in the test's temporary folder,
// writes an sshd_config for a free port of 127.0.0.1 (public-key login
// only, internal-sftp, no PAM, no chroot) and runs `sshd -D -e -f CONFIG`
// as the current user: unprivileged when the test is not root, and as root
// in CI, where it creates OpenSSH's privilege separation folder (/run/sshd)
// when it is missing. The login is the current user; the drop's folder is
// an absolute path in the temporary folder ([Server.Dir]).
//
// Without sshd or ssh-keygen the test is skipped, unless
// FEEBRIDGE_REQUIRE_SSHD=1, as CI sets it: then it fails.
//
// It is test support: production code never imports it.
package sshdtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a missing sshd into a failure.
const RequireEnv = "FEEBRIDGE_REQUIRE_SSHD"

// Server is an sshd running for one test; it stops at the test's end.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	// User is the login: the current user.
	User string
	// Dir is an empty folder the user may write, an absolute path: the
	// root of a drop on this server.
	Dir string
	// HostKeySHA256 is the host key's fingerprint, "SHA256:…" as
	// ssh-keygen -lf prints it.
	HostKeySHA256 string
	// KnownHosts is the path of a known_hosts file that names the server
	// with its host key; KnownHostsLine is its one line.
	KnownHosts, KnownHostsLine string
	// KeyFile is the user's private key (OpenSSH format, no passphrase),
	// the one key the server accepts; Key is its content.
	KeyFile string
	Key     []byte

	tmp    string
	keygen string
	log    *syncBuffer
}

// Binaries returns the paths of sshd and ssh-keygen, or why they cannot
// be used. sshd is found on the PATH or in the sbin folders, which are not
// on every user's PATH; it must be run by its absolute path.
func Binaries() (sshd, keygen string, err error) {
	sshd = find("sshd", sshdPaths...)
	if sshd == "" {
		return "", "", errors.New("sshd is not installed (Debian: openssh-server)")
	}
	keygen = find("ssh-keygen", keygenPaths...)
	if keygen == "" {
		return "", "", errors.New("ssh-keygen is not installed (Debian: openssh-client)")
	}
	return sshd, keygen, nil
}

// Where sshd and ssh-keygen are looked for when they are not on the PATH.
var (
	sshdPaths   = []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"}
	keygenPaths = []string{"/usr/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"}
)

func find(name string, paths ...string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Skipper is what Start needs of a test: testing.TB's skip and fatal.
type Skipper interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// SkipUnlessInstalled returns sshd's and ssh-keygen's paths, or skips the
// test when they are missing, or fails it when FEEBRIDGE_REQUIRE_SSHD=1.
func SkipUnlessInstalled(t Skipper) (sshd, keygen string) {
	t.Helper()
	sshd, keygen, err := Binaries()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s=1 but %v", RequireEnv, err)
		}
		t.Skipf("skipping the real sshd test: %v", err)
	}
	return sshd, keygen
}

// Start runs sshd for t, waits until it listens and stops it (and the
// sessions it forked) when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	sshd, keygen := SkipUnlessInstalled(t)
	me, err := user.Current()
	if err != nil {
		t.Fatalf("sshdtest: current user: %v", err)
	}
	tmp := t.TempDir()
	s := &Server{User: me.Username, tmp: tmp, keygen: keygen, log: &syncBuffer{},
		Dir: filepath.Join(tmp, "drop")}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(tmp, "ssh_host_ed25519_key")
	s.keys(t, hostKey)
	if os.Geteuid() == 0 {
		// As root, sshd wants its privilege separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshdtest: privilege separation folder: %v", err)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := filepath.Join(tmp, "sshd_config")
	if err := os.WriteFile(conf, []byte(config(port, tmp, hostKey, s.User)), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	s.KnownHostsLine = fmt.Sprintf("[127.0.0.1]:%d %s", port, strings.TrimSpace(string(pub)))
	s.KnownHosts = filepath.Join(tmp, "known_hosts")
	if err := os.WriteFile(s.KnownHosts, []byte(s.KnownHostsLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.HostKeySHA256, err = Fingerprint(pub); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sshd, "-t", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("sshdtest: sshd -t refuses the config: %v: %s", err, out)
	}
	s.run(t, sshd, conf)
	return s
}

// keys makes the host key and the user's key, and authorizes the latter.
func (s *Server) keys(t testing.TB, hostKey string) {
	t.Helper()
	if err := s.keygenRun(hostKey); err != nil {
		t.Fatal(err)
	}
	s.KeyFile = filepath.Join(s.tmp, "id_ed25519")
	var err error
	if s.Key, err = s.newKey(s.KeyFile); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(s.KeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.tmp, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) keygenRun(file string) error {
	out, err := exec.Command(s.keygen, "-q", "-t", "ed25519", "-N", "", "-C", "feebridge-sshdtest", "-f", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sshdtest: ssh-keygen: %v: %s", err, out)
	}
	return nil
}

func (s *Server) newKey(file string) ([]byte, error) {
	if err := s.keygenRun(file); err != nil {
		return nil, err
	}
	return os.ReadFile(file)
}

// OtherKey makes a new private key that the server does not accept, and
// returns its file and content.
func (s *Server) OtherKey(t testing.TB) (file string, key []byte) {
	t.Helper()
	f, err := os.CreateTemp(s.tmp, "other_key_*")
	if err != nil {
		t.Fatal(err)
	}
	file = f.Name()
	f.Close()
	os.Remove(file)
	if key, err = s.newKey(file); err != nil {
		t.Fatal(err)
	}
	return file, key
}

// config is the sshd_config: this port of 127.0.0.1, this host key,
// public keys from dir/authorized_keys for user only, internal-sftp.
func config(port int, dir, hostKey, user string) string {
	return fmt.Sprintf(`# written by feebridge's internal/sshdtest for one test
ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
AllowUsers %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
`, port, hostKey, filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), user)
}

// run starts sshd in a process group of its own and waits until it
// listens; at the end of t the group (sshd and the sessions it forked)
// is killed.
func (s *Server) run(t testing.TB, sshd, conf string) {
	t.Helper()
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshdtest: starting sshd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("sshd's log:\n%s", s.Log())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("sshdtest: sshd stopped: %v: %s", err, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshdtest: sshd does not listen on %s: %s", s.Addr, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log is what sshd has logged so far (it logs to stderr, -e).
func (s *Server) Log() string { return s.log.String() }

// Fingerprint is the SHA256 fingerprint of a public key line in
// OpenSSH's format ("ssh-ed25519 AAAA… comment"), as ssh-keygen -lf
// prints it: "SHA256:" and the unpadded base64 of the key's hash.
func Fingerprint(pubLine []byte) (string, error) {
	fields := strings.Fields(string(pubLine))
	if len(fields) < 2 {
		return "", fmt.Errorf("sshdtest: %q is not a public key line", pubLine)
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return "", fmt.Errorf("sshdtest: public key: %v", err)
	}
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is sshd's log, written by the process's pipe copier and
// read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
