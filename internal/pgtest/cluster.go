package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// binGlob is where Debian's postgresql package puts the server's programs,
// one folder per major version.
var binGlob = "/usr/lib/postgresql/*/bin"

// FindBin returns the folder that holds initdb and postgres: initdb's on
// the PATH, else the newest version under /usr/lib/postgresql/*/bin.
func FindBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir, err := filepath.Abs(filepath.Dir(p)); err == nil && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(binGlob)
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errNoPostgres
}

// version is the major version in a path like /usr/lib/postgresql/15/bin,
// or 0.
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// Cluster is a throwaway PostgreSQL server: its data, socket and log live
// in Dir, it listens on 127.0.0.1 only, and trusts every local login.
type Cluster struct {
	// DSN is the superuser's (postgres) DSN of the database postgres.
	DSN string
	// Dir is the cluster's folder; Stop removes it.
	Dir string
	// Port is the TCP port on 127.0.0.1.
	Port int

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the server process has ended
	waitErr error         // how it ended, once exited is closed
}

// StartCluster makes a cluster in dir (an empty folder) with bin's initdb
// and starts its server, waiting until it takes connections. As root the
// programs run as the user postgres, or nobody, which then owns dir.
func StartCluster(bin, dir string) (*Cluster, error) {
	cred, err := credential(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir, initdb.Env = dir, childEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb in %s: %v: %s", dir, err, lastLines(string(out), 10))
	}
	var lastErr error
	for try := 0; try < 3; try++ { // a free port may be taken before the server binds it
		c, err := startServer(bin, dir, data, cred)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// credential is the user the server's programs run as: nil (the current
// user) unless we are root, which initdb and postgres refuse; then postgres
// or nobody, made owner of dir.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root, and neither the user postgres nor nobody exists to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("giving %s to the user %s: %w", dir, u.Username, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// childEnv is the environment of initdb and postgres: ours, in the C locale.
func childEnv() []string {
	return append(os.Environ(), "LC_ALL=C", "LANG=C")
}

// startServer runs postgres on a free port and waits for it.
func startServer(bin, dir, data string, cred *syscall.Credential) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the server has its own copy
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300")
	cmd.Dir, cmd.Env = dir, childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGQUIT (immediate shutdown) when this process ends without Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	c := &Cluster{Dir: dir, Port: port, cmd: cmd, exited: make(chan struct{}),
		DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	if err := c.run(); err != nil {
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	if err := c.waitReady(30 * time.Second); err != nil {
		c.kill()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("postgres on 127.0.0.1:%d: %v; its log ends:\n%s", port, err, lastLines(string(log), 15))
	}
	return c, nil
}

// run starts the server from a goroutine locked to its own thread, which
// then waits for it: Pdeathsig fires when the thread that started the
// child ends, and this thread lives exactly as long as the server.
func (c *Cluster) run() error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return <-started
}

// waitReady pings the server until it answers, it exits, or wait passes.
func (c *Cluster) waitReady(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("the server exited: %v", c.waitErr)
		default:
		}
		err := ping(c.DSN)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %w", wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop shuts the server down (fast shutdown: SIGINT, then SIGKILL after 30
// s) and removes its folder.
func (c *Cluster) Stop() error {
	var errs []error
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("stopping postgres: %w", err))
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.kill()
		errs = append(errs, errors.New("postgres did not stop within 30 s of SIGINT: killed"))
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Exited is closed when the server process has ended.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

func (c *Cluster) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
