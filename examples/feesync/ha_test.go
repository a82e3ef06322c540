package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestTwoInstancesTakeOver starts two `feesync serve` over one SQLite
// journal with a 3-second lease, SIGKILLs the active one (no release),
// measures the wall time until the standby holds the "active" lease,
// restarts the killed one as a standby, and repeats: 3 kills, 20 with
// FEEBRIDGE_LONG=1. Every kill must be taken over by the other instance,
// with a greater fencing token; the worst takeover time is logged.
//
// It runs on a SQLite journal, and on PostgreSQL when internal/pgtest
// has one. Not yet covered (see the branch's report): jobs run during the
// kills and webhook events posted to both instances.
func TestTwoInstancesTakeOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildFeesync(t)
	t.Run("sqlite", func(t *testing.T) { twoInstances(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { twoInstances(t, bin, pgtest.DSN(t)) })
}

// twoInstances runs TestTwoInstancesTakeOver on the journal dsn, or on
// a SQLite file when dsn is empty.
func twoInstances(t *testing.T, bin, dsn string) {
	kills := 3
	if os.Getenv("FEEBRIDGE_LONG") == "1" {
		kills = 20
	}
	dir := t.TempDir()
	size := crashSize{exports: 1, feesPerExport: 5, users: 5}
	a, _ := newCrashAlma(t, size, filepath.Join(dir, "gen"))
	site := newCrashSite(t, bin, filepath.Join(dir, "site"), a, "")
	base, err := os.ReadFile(site.config)
	if err != nil {
		t.Fatal(err)
	}
	if dsn != "" {
		base = bytes.Replace(base, []byte(fmt.Sprintf("journal = %q", site.journal)), []byte(fmt.Sprintf("journal = %q", dsn)), 1)
		site.journal = dsn
		j, err := journal.Create(t.Context(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
	}
	const lease = 3 * time.Second
	configs := map[string]string{}
	for _, name := range []string{"a", "b"} {
		configs[name] = filepath.Join(site.dir, "feesync-"+name+".toml")
		cfg := string(base) + fmt.Sprintf("[serve]\nlease = %q\ninstance = %q\n", lease.String(), name)
		if err := os.WriteFile(configs[name], []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// One handle of the test's own on the journal, to watch the leases.
	watch, err := journal.Open(t.Context(), site.journal, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	procs := map[string]*exec.Cmd{}
	logs := map[string]*syncBuffer{}
	start := func(name string) {
		cmd := exec.Command(bin, "serve", "-config", configs[name])
		cmd.Env = []string{"TMPDIR=" + site.tmp, "FEEBRIDGE_ALMA_API_KEY=" + a.APIKey(), "FEEBRIDGE_WEBHOOK_SECRET=ha-test-secret", "TZ=UTC"}
		logs[name] = &syncBuffer{}
		cmd.Stderr = logs[name]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[name] = cmd
	}
	t.Cleanup(func() {
		for _, c := range procs {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	start("a")
	start("b")

	// active waits until an instance other than not holds the lease
	// "active", and returns it.
	active := func(not string, deadline time.Duration) (journal.Lease, bool) {
		until := time.Now().Add(deadline)
		for time.Now().Before(until) {
			leases, err := watch.Leases(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range leases {
				if l.Name == activeLease && l.Instance != not && l.Instance != "" {
					return l, true
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return journal.Lease{}, false
	}
	first, ok := active("", 30*time.Second)
	if !ok {
		t.Fatalf("no instance became active\na: %s\nb: %s", logs["a"], logs["b"])
	}
	holder, token := first.Instance, first.Token
	var worst time.Duration
	for i := range kills {
		p := procs[holder]
		killed := time.Now()
		if err := p.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.Wait()
		// Within the lease and a poll (a third of it), with room for a
		// loaded machine: the test fails only past twice that.
		l, ok := active(holder, 2*(lease+lease/3))
		took := time.Since(killed)
		if !ok {
			t.Fatalf("kill %d of %s: not taken over within %s\nlogs:\n%s", i+1, holder, 2*(lease+lease/3), logs[other(holder)])
		}
		if l.Token <= token {
			t.Errorf("kill %d: the new holder's token %d is not greater than %d", i+1, l.Token, token)
		}
		worst = max(worst, took)
		t.Logf("kill %d: %s killed, %s active (token %d) after %s", i+1, holder, l.Instance, l.Token, took.Round(time.Millisecond))
		start(holder) // back as a standby
		holder, token = l.Instance, l.Token
	}
	t.Logf("%d kills, each taken over; worst takeover %s (wall time, lease %s)", kills, worst.Round(time.Millisecond), lease)
	// The restarted instance is a standby; /readyz and /metrics of both
	// say which holds the active lease.
	time.Sleep(lease / 3 * 2)
	if l, ok := active("", time.Second); !ok || l.Instance != holder {
		t.Errorf("after the last kill the active lease is %+v, want %s's", l, holder)
	}
	for name, role := range map[string]string{holder: "active", other(holder): "standby"} {
		addr := listenAddr(t, logs[name].String())
		code, body := httpGet(t, "http://"+addr+"/readyz")
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("instance %s: %s", name, role)) ||
			!strings.Contains(body, fmt.Sprintf("lease active: instance %q", holder)) {
			t.Errorf("/readyz of %s: %d\n%s\nwant it ready, %s, with the active lease held by %s", name, code, body, role, holder)
		}
		_, metrics := httpGet(t, "http://"+addr+"/metrics")
		want := 0
		if role == "active" {
			want = 1
		}
		for _, line := range []string{fmt.Sprintf("feebridge_instance_active{instance=%q} %d", name, want),
			fmt.Sprintf("feebridge_lease_held{instance=%q,lease=\"active\"} 1", holder)} {
			if !strings.Contains(metrics, line) {
				t.Errorf("/metrics of %s lacks %s", name, line)
			}
		}
	}
}

// listenAddr returns the address the last "listening" line of a serve
// log names.
func listenAddr(t *testing.T, log string) string {
	t.Helper()
	i := strings.LastIndex(log, "msg=listening addr=")
	if i < 0 {
		t.Fatalf("no listening line in the log:\n%s", log)
	}
	return strings.Fields(log[i+len("msg=listening addr="):])[0]
}

// httpGet returns the status and body of a GET of url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// other is the name of the other instance.
func other(name string) string {
	if name == "a" {
		return "b"
	}
	return "a"
}
