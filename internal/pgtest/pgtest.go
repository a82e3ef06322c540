// Package pgtest gives a test a PostgreSQL database of its own, so that the
// journal and everything above it can be tried against the real server a
// district runs.
//
// [DSN] returns the postgres:// address of a fresh, empty database made for
// the caller alone (CREATE DATABASE with a unique name), dropped when the
// test ends unless the test failed (then its name is logged, to look into).
// The server is either:
//
//   - the one FEEBRIDGE_TEST_POSTGRES names (the DSN of a superuser on a
//     server the caller started), or
//   - a throwaway cluster this test process starts once: initdb in a
//     temporary folder (trust authentication, no fsync), then postgres on a
//     free port of 127.0.0.1 with its socket in that folder. initdb and
//     postgres are found on the PATH or under /usr/lib/postgresql/*/bin
//     (Debian's postgresql package). They refuse to run as root, so as root
//     (CI) they run as the user postgres (which the package creates), else
//     nobody, owning the folder.
//
// A package whose tests use DSN calls [Main] from its TestMain, which stops
// that cluster and removes its folder when the tests are done. Without it
// the cluster still stops when the test process exits (the server gets
// SIGQUIT when its parent dies), but its folder stays behind.
//
// Without PostgreSQL the test is skipped with a message that says how to
// run it, unless FEEBRIDGE_REQUIRE_POSTGRES=1, as CI sets it: then it fails.
//
// It is test support: production code never imports it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// ServerEnv names a server the caller started: the DSN of a superuser.
const ServerEnv = "FEEBRIDGE_TEST_POSTGRES"

// RequireEnv turns a missing PostgreSQL into a failure (CI sets it to 1).
const RequireEnv = "FEEBRIDGE_REQUIRE_POSTGRES"

// howToRun is the advice of a skipped test.
const howToRun = "install Debian's postgresql package (initdb is then found under /usr/lib/postgresql/*/bin), " +
	"or set " + ServerEnv + " to the postgres:// DSN of a superuser on a server you started; " +
	RequireEnv + "=1 makes this a failure"

// The server of this test process: found or started once.
var (
	serverOnce sync.Once
	serverDSN  string
	serverErr  error
	started    *Cluster // the cluster this process started, if any
	missing    bool     // no server and no PostgreSQL installed: skip
)

// Skipper is what DSN needs of a test: testing.TB's skip, fatal and log.
type Skipper interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// DSN returns the postgres:// DSN of a fresh, empty database for t alone,
// or skips t (fails it when FEEBRIDGE_REQUIRE_POSTGRES=1) when no
// PostgreSQL can be had. The database is dropped when t ends, unless t
// failed: then its name is logged and it stays, to be looked into.
func DSN(t testing.TB) string {
	t.Helper()
	base := Server(t)
	dsn, name, err := CreateDatabase(context.Background(), base, t.Name())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: database %s kept for a look: %s", name, Redact(dsn))
			return
		}
		if err := dropDatabase(context.Background(), base, name); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return dsn
}

// Server returns the DSN of the superuser of the server the tests use
// (FEEBRIDGE_TEST_POSTGRES, or the cluster this process starts once), or
// skips t as DSN does. Most tests want DSN, a database of their own.
func Server(t Skipper) string {
	t.Helper()
	serverOnce.Do(findServer)
	switch {
	case missing:
		unavailable(t, serverErr)
	case serverErr != nil:
		t.Fatalf("pgtest: %v", serverErr)
	}
	return serverDSN
}

// unavailable skips t, or fails it when FEEBRIDGE_REQUIRE_POSTGRES=1.
func unavailable(t Skipper, why error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("pgtest: %s=1 but %v", RequireEnv, why)
		return
	}
	t.Skipf("skipping the PostgreSQL test: %v (%s)", why, howToRun)
}

// findServer sets serverDSN from FEEBRIDGE_TEST_POSTGRES, or starts a
// cluster; missing is set when PostgreSQL is not installed.
func findServer() {
	if dsn := strings.TrimSpace(os.Getenv(ServerEnv)); dsn != "" {
		serverDSN, serverErr = dsn, ping(dsn)
		if serverErr != nil {
			serverErr = fmt.Errorf("%s=%s: %w", ServerEnv, Redact(dsn), serverErr)
		}
		return
	}
	bin, err := FindBin()
	if err != nil {
		missing, serverErr = true, err
		return
	}
	dir, err := os.MkdirTemp("", "feebridge-pgtest-")
	if err != nil {
		serverErr = err
		return
	}
	c, err := StartCluster(bin, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		serverErr = err
		return
	}
	started, serverDSN = c, c.DSN
}

// Main runs the tests of m and then stops the cluster this process started
// (if any) and removes its folder; use it as TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the cluster this process started, if any, and removes its
// folder: for a TestMain that does more than Main.
func Stop() error {
	if started == nil {
		return nil
	}
	c := started
	started = nil
	return c.Stop()
}

// ping opens dsn and pings it, within 10 seconds.
func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// CreateDatabase makes a new, empty database on the server of base (a
// superuser's DSN), named after label with a random suffix, and returns its
// DSN and name.
func CreateDatabase(ctx context.Context, base, label string) (dsn, name string, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", fmt.Errorf("%s is not a postgres:// DSN", Redact(base))
	}
	name = databaseName(label)
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("CREATE DATABASE %s on %s: %w", name, Redact(base), err)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

// dropDatabase drops a database CreateDatabase made, closing the
// connections a test left open to it.
func dropDatabase(ctx context.Context, base, name string) error {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("DROP DATABASE %s: %w", name, err)
	}
	return nil
}

var notName = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName is "fbt_", label in lower case letters and digits (at most
// 40 of them), and 12 random hex digits: a name PostgreSQL takes unquoted
// (at most 63 bytes) and no other caller gets.
func databaseName(label string) string {
	l := strings.Trim(notName.ReplaceAllString(strings.ToLower(label), "_"), "_")
	if len(l) > 40 {
		l = strings.TrimRight(l[:40], "_")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	if l == "" {
		return "fbt_" + hex.EncodeToString(b[:])
	}
	return "fbt_" + l + "_" + hex.EncodeToString(b[:])
}

// Redact returns dsn with its password, if any, replaced by "xxxxx", for
// messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a DSN that does not parse)"
	}
	return u.Redacted()
}

// errNoPostgres says that no PostgreSQL binaries were found.
var errNoPostgres = errors.New("no PostgreSQL server: " + ServerEnv + " is not set and initdb is not installed")
