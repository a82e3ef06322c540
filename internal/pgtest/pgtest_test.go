package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestDSN: two callers get two fresh, empty databases that see nothing of
// each other.
func TestDSN(t *testing.T) {
	a, b := DSN(t), DSN(t)
	if started != nil { // TestOwnClusterWithMain reads this
		t.Logf("pgtest cluster: port %d dir %s", started.Port, started.Dir)
	}
	if a == b {
		t.Fatalf("two callers got the same DSN %s", a)
	}
	dbA, dbB := open(t, a), open(t, b)
	for _, db := range []*sql.DB{dbA, dbB} {
		var tables int
		if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("a fresh database holds %d tables", tables)
		}
	}
	if _, err := dbA.Exec(`CREATE TABLE fees (id BIGINT PRIMARY KEY); INSERT INTO fees VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dbA.QueryRow(`SELECT count(*) FROM fees`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the table in the first database: %d rows, %v", n, err)
	}
	if err := dbB.QueryRow(`SELECT count(*) FROM fees`).Scan(&n); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("the second database sees the first one's table: %d rows, %v", n, err)
	}
}

// TestDropped: a database of a test that passed is dropped when it ends.
func TestDropped(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		u, err := url.Parse(DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(); err != nil { // a connection left open does not keep it
			t.Fatal(err)
		}
	})
	var n int
	if err := open(t, Server(t)).QueryRow(`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s is still there after its test passed", name)
	}
}

// TestStartCluster starts a cluster of its own, uses it and stops it: the
// server is gone, its port closed and its folder removed.
func TestStartCluster(t *testing.T) {
	bin, err := FindBin()
	if err != nil {
		unavailable(t, err)
		return
	}
	dir, err := os.MkdirTemp("", "feebridge-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartCluster(bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	dsn, _, err := CreateDatabase(context.Background(), c.DSN, t.Name())
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	var one int
	if err := open(t, dsn).QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		c.Stop()
		t.Fatalf("SELECT 1 on the new cluster: %d, %v", one, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	assertStopped(t, c.Port, c.Dir)
}

func assertStopped(t *testing.T, port int, dir string) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		conn.Close()
		t.Errorf("port %d still takes connections after Stop", port)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the cluster's folder %s is still there: %v", dir, err)
	}
}

// TestOwnClusterWithMain runs this test binary again without
// FEEBRIDGE_TEST_POSTGRES, so that DSN starts a cluster of the process's
// own, and checks that Main stopped it and removed its folder.
func TestOwnClusterWithMain(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		t.Skip("in the child")
	}
	if _, err := FindBin(); err != nil {
		unavailable(t, err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestDSN$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), ServerEnv+"=", RequireEnv+"=1", "PGTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`pgtest cluster: port (\d+) dir (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the child did not start a cluster of its own:\n%s", out)
	}
	var port int
	fmt.Sscan(m[1], &port)
	assertStopped(t, port, m[2])
}

// recorder is a Skipper that records what it was told.
type recorder struct{ skipped, failed string }

func (r *recorder) Helper()                      {}
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }

// TestUnavailable: without PostgreSQL a test is skipped with how to run it,
// or fails under FEEBRIDGE_REQUIRE_POSTGRES=1.
func TestUnavailable(t *testing.T) {
	t.Setenv(RequireEnv, "")
	var r recorder
	unavailable(&r, errNoPostgres)
	if r.failed != "" || !strings.Contains(r.skipped, "postgresql package") || !strings.Contains(r.skipped, ServerEnv) {
		t.Errorf("without %s: skipped %q, failed %q", RequireEnv, r.skipped, r.failed)
	}
	t.Setenv(RequireEnv, "1")
	r = recorder{}
	unavailable(&r, errNoPostgres)
	if r.skipped != "" || !strings.Contains(r.failed, RequireEnv+"=1") || !strings.Contains(r.failed, "initdb is not installed") {
		t.Errorf("with %s=1: skipped %q, failed %q", RequireEnv, r.skipped, r.failed)
	}
}

// TestFindBinNone: with initdb neither on the PATH nor in Debian's folder,
// FindBin says so.
func TestFindBinNone(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := binGlob
	binGlob = t.TempDir() + "/*/bin"
	defer func() { binGlob = saved }()
	if dir, err := FindBin(); err != errNoPostgres {
		t.Errorf("FindBin without PostgreSQL: %q, %v", dir, err)
	}
}

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	seen := map[string]bool{}
	for _, label := range []string{"TestX", "TestCopy/SQLite_to_PostgreSQL#01", "", "ÉÈ", strings.Repeat("TestLong/", 20)} {
		n := databaseName(label)
		if len(n) > 63 || !valid.MatchString(n) || seen[n] {
			t.Errorf("databaseName(%q) = %q: not a fresh unquoted name of at most 63 bytes", label, n)
		}
		seen[n] = true
	}
}

func TestRedact(t *testing.T) {
	got := Redact("postgres://feesync:s3cret@db.example:5432/journal")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "feesync") {
		t.Errorf("Redact: %s", got)
	}
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
