package main

import (
	"fmt"
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
// has one. TestTwoInstancesChargeOnceUnderKills kills the active instance
// in the middle of its jobs.
func TestTwoInstancesTakeOver(t *testing.T) { onBothJournals(t, twoInstances) }

// onBothJournals builds the binary and runs fn with it on a SQLite journal
// (dsn empty), then on PostgreSQL when internal/pgtest has one.
func onBothJournals(t *testing.T, fn func(t *testing.T, bin, dsn string)) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildFeesync(t)
	t.Run("sqlite", func(t *testing.T) { fn(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, bin, pgtest.DSN(t)) })
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
	site := newCrashSite(t, bin, filepath.Join(dir, "site"), a, dsn)
	p := newHAPair(t, bin, site, "")
	active := p.active
	logs := p.logs
	first, ok := active("", 30*time.Second)
	if !ok {
		t.Fatalf("no instance became active\na: %s\nb: %s", logs["a"], logs["b"])
	}
	holder, token := first.Instance, first.Token
	var worst time.Duration
	for i := range kills {
		killed := time.Now()
		p.kill(holder)
		// Within the lease and a poll (a third of it), with room for a
		// loaded machine: the test fails only past twice that.
		l, ok := active(holder, 2*(haLease+haLease/3))
		took := time.Since(killed)
		if !ok {
			t.Fatalf("kill %d of %s: not taken over within %s\nlogs:\n%s", i+1, holder, 2*(haLease+haLease/3), logs[other(holder)])
		}
		if l.Token <= token {
			t.Errorf("kill %d: the new holder's token %d is not greater than %d", i+1, l.Token, token)
		}
		worst = max(worst, took)
		t.Logf("kill %d: %s killed, %s active (token %d) after %s", i+1, holder, l.Instance, l.Token, took.Round(time.Millisecond))
		p.start(holder) // back as a standby
		holder, token = l.Instance, l.Token
	}
	t.Logf("%d kills, each taken over; worst takeover %s (wall time, lease %s)", kills, worst.Round(time.Millisecond), haLease)
	// The restarted instance is a standby; /readyz and /metrics of both
	// say which holds the active lease.
	time.Sleep(haLease / 3 * 2)
	if l, ok := active("", time.Second); !ok || l.Instance != holder {
		t.Errorf("after the last kill the active lease is %+v, want %s's", l, holder)
	}
	for name, role := range map[string]string{holder: "active", other(holder): "standby"} {
		addr := listenAddr(t, logs[name].String())
		code, body := getAuth(t, "http://"+addr+"/readyz", "")
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("instance %s: %s", name, role)) ||
			!strings.Contains(body, fmt.Sprintf("lease active: instance %q", holder)) {
			t.Errorf("/readyz of %s: %d\n%s\nwant it ready, %s, with the active lease held by %s", name, code, body, role, holder)
		}
		_, metrics := getAuth(t, "http://"+addr+"/metrics", "")
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

// haLease is the lease of the instances of the two-instance tests, and
// haWebhookSecret their webhook secret.
const (
	haLease         = 3 * time.Second
	haWebhookSecret = "ha-test-secret"
)

// haPair is two `feesync serve` processes, instances "a" and "b", over one
// site's journal, with a lease of haLease.
type haPair struct {
	t       *testing.T
	bin     string
	site    *crashSite
	configs map[string]string
	procs   map[string]*exec.Cmd
	logs    map[string]*syncBuffer
	watch   *journal.Journal // the test's own handle, to watch the leases
}

// newHAPair writes the config of each instance (the site's, its [serve]
// lease and instance, and extra, more TOML) and starts both.
func newHAPair(t *testing.T, bin string, site *crashSite, extra string) *haPair {
	base, err := os.ReadFile(site.config)
	if err != nil {
		t.Fatal(err)
	}
	p := &haPair{t: t, bin: bin, site: site, configs: map[string]string{}, procs: map[string]*exec.Cmd{}, logs: map[string]*syncBuffer{}}
	for _, name := range []string{"a", "b"} {
		p.configs[name] = filepath.Join(site.dir, "feesync-"+name+".toml")
		cfg := string(base) + extra + fmt.Sprintf("[serve]\nlease = %q\ninstance = %q\n", haLease.String(), name)
		if err := os.WriteFile(p.configs[name], []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if p.watch, err = journal.Open(t.Context(), site.journal, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range p.procs {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		p.watch.Close()
	})
	p.start("a")
	p.start("b")
	return p
}

// start starts instance name's serve process.
func (p *haPair) start(name string) {
	cmd := exec.Command(p.bin, "serve", "-config", p.configs[name])
	cmd.Env = []string{"TMPDIR=" + p.site.tmp, "FEEBRIDGE_ALMA_API_KEY=" + p.site.alma.APIKey(), "FEEBRIDGE_WEBHOOK_SECRET=" + haWebhookSecret, "TZ=UTC"}
	p.logs[name] = &syncBuffer{}
	cmd.Stderr = p.logs[name]
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.procs[name] = cmd
}

// kill SIGKILLs instance name's process (no release, no cleanup) and
// waits for it to end.
func (p *haPair) kill(name string) {
	if err := p.procs[name].Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	_ = p.procs[name].Wait()
}

// active waits until an instance other than not holds the lease "active",
// and returns it.
func (p *haPair) active(not string, deadline time.Duration) (journal.Lease, bool) {
	until := time.Now().Add(deadline)
	for time.Now().Before(until) {
		leases, err := p.watch.Leases(p.t.Context())
		if err != nil {
			p.t.Fatal(err)
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

// other is the name of the other instance.
func other(name string) string {
	if name == "a" {
		return "b"
	}
	return "a"
}
