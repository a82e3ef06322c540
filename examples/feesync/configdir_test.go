package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
)

// consortium is a folder of institutions' configs, each over a site of
// its own (its fake Alma, folders and journal), with each one's secrets
// in variables its config names.
type consortium struct {
	t     *testing.T
	dir   string
	sites map[string]*site
	env   map[string]string
}

func newConsortium(t *testing.T, names ...string) *consortium {
	c := &consortium{t: t, dir: t.TempDir(), sites: map[string]*site{}, env: map[string]string{}}
	for _, n := range names {
		c.add(n)
	}
	return c
}

// add makes the site of college name and writes its file in the folder.
func (c *consortium) add(name string) {
	c.t.Helper()
	s := newSite(c.t)
	c.sites[name] = s
	// Each file passes check-config, which a deployment asks of each.
	if err := os.MkdirAll(filepath.Join(s.libDir, "reports"), 0o755); err != nil {
		c.t.Fatal(err)
	}
	b, err := os.ReadFile(s.config)
	if err != nil {
		c.t.Fatal(err)
	}
	up := strings.ToUpper(name)
	cfg := strings.Replace(string(b), "[alma]\n", "[alma]\napi_key_env = \"ALMA_KEY_"+up+"\"\n", 1)
	cfg = strings.Replace(cfg, "[webhook]\n", "[webhook]\nsecret_env = \"WEBHOOK_SECRET_"+up+"\"\n", 1)
	c.env["ALMA_KEY_"+up] = s.alma.APIKey()
	c.env["WEBHOOK_SECRET_"+up] = "secret-of-" + name
	c.write(name+".toml", cfg)
}

func (c *consortium) write(file, text string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, file), []byte(text), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// serve starts feesync serve -config-dir on the folder; reload asks it to
// read the folder again, as SIGHUP does.
func (c *consortium) serve() (r *serveRun, reload chan struct{}) {
	c.t.Helper()
	reload = make(chan struct{})
	return c.start(reload), reload
}

// serveWithSignals starts feesync serve -config-dir reading the folder
// again on SIGHUP, as the binary does.
func (c *consortium) serveWithSignals() *serveRun {
	c.t.Helper()
	return c.start(nil)
}

func (c *consortium) start(reload chan struct{}) (r *serveRun) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(c.t.Context())
	r = &serveRun{stderr: &syncBuffer{}, done: make(chan error, 1), cancel: cancel}
	addr := make(chan string, 1)
	r.m = &Main{Stdout: &syncBuffer{}, Stderr: r.stderr, Getenv: func(k string) string { return c.env[k] },
		Now: c.sites[c.first()].clock.Now, Listening: func(a string) { addr <- a }}
	if reload != nil {
		r.m.Reloads = reload
	}
	if err := r.m.ParseFlags(ctx, []string{"serve", "-config-dir", c.dir, "-listen", "127.0.0.1:0"}); err != nil {
		c.t.Fatal(err)
	}
	go func() { r.done <- r.m.Run(ctx) }()
	select {
	case a := <-addr:
		r.base = "http://" + a
	case err := <-r.done:
		c.t.Fatalf("serve ended: %v\n%s", err, r.stderr.String())
	}
	return r
}

func (c *consortium) first() string {
	for n := range c.sites {
		return n
	}
	return ""
}

// loanReturnedBody is one LOAN_RETURNED delivery.
const loanReturnedBody = `{"id":"9900001","action":"LOAN","institution":{"value":"X"},"time":"2026-03-02T08:00:00.000Z",` +
	`"event":{"value":"LOAN_RETURNED"},"item_loan":{"loan_id":"2300001","user_id":"S1","item_barcode":"B77",` +
	`"loan_status":"ACTIVE","loan_date":"2026-02-02T08:00:00.000Z","due_date":"2026-02-16T08:00:00Z"}}`

func postSigned(t *testing.T, url, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(loanReturnedBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(alma.SignatureHeader, alma.Sign([]byte(secret), []byte(loanReturnedBody)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeConfigDirFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-config-dir", "d"},
		{"serve", "-listen", "127.0.0.1:0", "-config", "f.toml"},
		{"serve", "-config-dir", "d", "-listen", "x", "-config", "f.toml"},
	} {
		m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		if err := m.ParseFlags(t.Context(), args); m.Exit(err) != ExitUsage {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestServeConfigDir: one listener serves two colleges, each one's
// webhooks checked with its own secret, the metrics labelled by college,
// the index and each college's status page; a reload adds a college,
// removes one, refuses a bad file, and restarts no other.
func TestServeConfigDir(t *testing.T) {
	c := newConsortium(t, "arc", "sac")
	r, reload := c.serve()
	defer r.stop(t)

	if code := postSigned(t, r.base+"/webhooks/alma/sac", "secret-of-arc"); code != http.StatusUnauthorized {
		t.Errorf("arc's delivery on sac's path: %d, want 401", code)
	}
	if code := postSigned(t, r.base+"/webhooks/alma/arc", "secret-of-arc"); code != http.StatusOK {
		t.Errorf("arc's delivery on arc's path: %d, want 200", code)
	}
	if code := postSigned(t, r.base+"/webhooks/alma/crc", "secret-of-arc"); code != http.StatusNotFound {
		t.Errorf("a college not served: %d, want 404", code)
	}
	// The event went to arc's journal only.
	_, metrics := get(t, r.base+"/metrics")
	wantIn(t, "/metrics", metrics,
		`feebridge_journal_bytes{college="arc"}`, `feebridge_journal_bytes{college="sac"}`,
		`feebridge_webhook_events_total{college="arc",outcome=`) // pending or handled by now
	if strings.Contains(metrics, `feebridge_webhook_events_total{college="sac"`) {
		t.Error("arc's event is counted for sac")
	}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "feebridge_") && !strings.Contains(line, `college="`) {
			t.Errorf("a metric without its college: %s", line)
		}
	}
	code, index := get(t, r.base+"/")
	if code != http.StatusOK {
		t.Fatalf("/: %d", code)
	}
	wantIn(t, "/", index, `href="/college/arc/"`, `href="/college/sac/"`)
	if code, page := get(t, r.base+"/college/sac/"); code != http.StatusOK || !strings.Contains(page, `action="/college/sac/"`) {
		t.Errorf("sac's status page: %d\n%s", code, page)
	}
	if code, body := get(t, r.base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}

	// Reload: crc added, sac removed, arc untouched.
	c.add("crc")
	if err := os.Remove(filepath.Join(c.dir, "sac.toml")); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, r.done, "crc served", func() bool {
		return postSigned(t, r.base+"/webhooks/alma/crc", "secret-of-crc") == http.StatusOK
	})
	waitFor(t, r.done, "sac stopped", func() bool {
		return postSigned(t, r.base+"/webhooks/alma/sac", "secret-of-sac") == http.StatusNotFound
	})
	_, metrics = get(t, r.base+"/metrics")
	if !strings.Contains(metrics, `college="crc"`) || strings.Contains(metrics, `college="sac"`) {
		t.Errorf("after the reload, /metrics:\n%s", metrics)
	}

	// A file that does not load is refused: arc goes on, on its old config.
	c.write("arc.toml", "no_such_key = 1\n")
	reload <- struct{}{}
	waitFor(t, r.done, "the refusal logged", func() bool { return strings.Contains(r.stderr.String(), "config refused") })
	if code := postSigned(t, r.base+"/webhooks/alma/arc", "secret-of-arc"); code != http.StatusOK {
		t.Errorf("arc after its bad file: %d, want 200", code)
	}
	log := r.stderr.String()
	if n := strings.Count(log, "institution started"); n != 3 {
		t.Errorf("%d institutions started, want 3 (arc and sac, then crc):\n%s", n, log)
	}
	if !strings.Contains(log, "arc.toml") || !strings.Contains(log, "no_such_key") {
		t.Errorf("the refusal does not name the file and the key:\n%s", log)
	}
}

// TestServeConfigDirReloadsOnSIGHUP: the signal itself, sent to this
// process, makes serve read the folder again.
func TestServeConfigDirReloadsOnSIGHUP(t *testing.T) {
	c := newConsortium(t, "arc")
	r := c.serveWithSignals()
	defer r.stop(t)
	c.add("sac")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.done, "sac served after SIGHUP", func() bool {
		return postSigned(t, r.base+"/webhooks/alma/sac", "secret-of-sac") == http.StatusOK
	})
}

// TestServeConfigDirThrottledCollegeHoldsUpNoOther: a lost book comes
// back at two colleges at once; arc's Alma answers only 429, so arc's
// events worker is stuck retrying, while sac's waives sac's fees. Judged
// by the events (sac's fees waived, arc's retry logged and its fees
// still open), not by a time.
func TestServeConfigDirThrottledCollegeHoldsUpNoOther(t *testing.T) {
	c := newConsortium(t, "arc", "sac")
	for _, s := range c.sites {
		lostBook(t, s)
	}
	r := c.serveWithSignals()
	defer r.stop(t)
	arc, sac := c.sites["arc"].alma, c.sites["sac"].alma
	arc.SetWebhook(r.base+"/webhooks/alma/arc", []byte("secret-of-arc"))
	sac.SetWebhook(r.base+"/webhooks/alma/sac", []byte("secret-of-sac"))
	arc.SetFaults(almatest.Faults{RateLimit429: 1})
	for _, a := range []*almatest.Server{arc, sac} {
		if _, err := a.Return("B1"); err != nil {
			t.Fatal(err)
		}
		a.RunDue(t.Context())
	}
	waitFor(t, r.done, "sac's lost-item fees waived", func() bool { return lostFeesOpen(sac, "10012345") == 0 })
	waitFor(t, r.done, "arc's worker retrying", func() bool {
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			if strings.Contains(line, "college=arc") && strings.Contains(line, "429") {
				return true
			}
		}
		return false
	})
	if strings.Contains(r.stderr.String(), "college=sac") && strings.Contains(r.stderr.String(), "429 PER_SECOND") {
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			if strings.Contains(line, "college=sac") && strings.Contains(line, "429") {
				t.Errorf("sac met arc's 429: %s", line)
			}
		}
	}
	if lostFeesOpen(arc, "10012345") == 0 {
		t.Fatal("arc's fees were waived while its Alma answered only 429")
	}
}
