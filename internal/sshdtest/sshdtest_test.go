package sshdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginAndSFTP starts sshd and uses OpenSSH's own sftp client, with
// the key and the known_hosts file the harness made (strict host key
// checking), to write a file into Dir and read the folder back.
func TestLoginAndSFTP(t *testing.T) {
	s := Start(t)
	client, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("no sftp client to try the server with")
	}
	src := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(src, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(s.Addr, ":")
	batch := fmt.Sprintf("cd %s\nput %s\nls -1\n", s.Dir, src)
	cmd := exec.Command(client, "-b", "-", "-P", port, "-i", s.KeyFile,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+s.KnownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
		s.User+"@"+host)
	cmd.Stdin = strings.NewReader(batch)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sftp: %v\n%s\nsshd:\n%s", err, out, s.Log())
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir, "hello.txt")); err != nil || string(b) != "hello\n" {
		t.Fatalf("the file on the server: %q, %v; sftp said:\n%s", b, err, out)
	}
	if !strings.Contains(string(out), "hello.txt") {
		t.Errorf("ls did not list the file:\n%s", out)
	}
}

// TestFingerprint: the harness's fingerprint is the one ssh-keygen -lf
// prints for the host key.
func TestFingerprint(t *testing.T) {
	s := Start(t)
	out, err := exec.Command(s.keygen, "-l", "-E", "sha256", "-f", s.KnownHosts).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v", err)
	}
	if !strings.Contains(string(out), s.HostKeySHA256) {
		t.Errorf("ssh-keygen -lf says %q, the harness %q", out, s.HostKeySHA256)
	}
}

// TestOtherKeyRefused: a key the server was not given cannot log in.
func TestOtherKeyRefused(t *testing.T) {
	s := Start(t)
	client, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("no sftp client to try the server with")
	}
	other, _ := s.OtherKey(t)
	host, port, _ := strings.Cut(s.Addr, ":")
	cmd := exec.Command(client, "-b", "-", "-P", port, "-i", other,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+s.KnownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
		s.User+"@"+host)
	cmd.Stdin = strings.NewReader("ls\n")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("login with a key the server does not know: %v\n%s", err, out)
	}
}

// stopper records how a test would have stopped.
type stopper struct{ how string }

type stopped struct{}

func (s *stopper) Helper() {}
func (s *stopper) Fatalf(format string, args ...any) {
	s.how = "fatal: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (s *stopper) Skipf(format string, args ...any) {
	s.how = "skip: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}

// TestWithoutSSHD: no sshd skips the test, unless FEEBRIDGE_REQUIRE_SSHD=1
// (CI), which fails it.
func TestWithoutSSHD(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := sshdPaths
	sshdPaths = []string{filepath.Join(t.TempDir(), "sshd")}
	t.Cleanup(func() { sshdPaths = saved })
	for _, require := range []string{"", "1"} {
		t.Setenv(RequireEnv, require)
		s := &stopper{}
		func() {
			defer func() {
				if r := recover(); r != nil && r != (stopped{}) {
					panic(r)
				}
			}()
			SkipUnlessInstalled(s)
		}()
		want := "skip: "
		if require == "1" {
			want = "fatal: "
		}
		if !strings.HasPrefix(s.how, want) || !strings.Contains(s.how, "sshd is not installed") {
			t.Errorf("%s=%q: %q, want %s", RequireEnv, require, s.how, want)
		}
	}
}
