package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// site is a college for the tests: a fake Alma, the library and
// PeopleSoft drops as folders, a journal and a config file naming them.
type site struct {
	t       *testing.T
	clock   *almatest.ManualClock
	alma    *almatest.Server
	library *transport.Drop
	libDir  string
	psDir   string
	config  string
	env     map[string]string
	// sleep, when set, is how a run waits for files to settle.
	sleep func(ctx context.Context, d time.Duration) error
}

const webhookSecret = "test-webhook-secret-1234"

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{t: t, clock: almatest.NewManualClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))}
	s.alma = almatest.NewServer(&almatest.Options{Clock: s.clock, Seed: 3, WebhookSecret: []byte(webhookSecret)})
	t.Cleanup(s.alma.Close)
	dir := t.TempDir()
	s.libDir, s.psDir = filepath.Join(dir, "library"), filepath.Join(dir, "peoplesoft")
	for _, d := range []string{"library/exports", "library/credits", "library/imports", "peoplesoft/inbound", "peoplesoft/outbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if s.library, err = localdrop.Open(s.libDir, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.library.Close() })
	s.config = filepath.Join(dir, "feesync.toml")
	cfg := fmt.Sprintf(`timezone = "UTC"
journal = %q
[alma]
base_url = %q
[library]
type = "dir"
path = %q
settle = "0s"
[peoplesoft]
type = "dir"
path = %q
# The test writes each file whole before a run: claimed at once.
settle = "0s"
[webhook]
listen = "127.0.0.1:0"
`, filepath.Join(dir, "journal.db"), strings.TrimSuffix(s.alma.URL(), almatest.BasePath), s.libDir, s.psDir)
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = map[string]string{"FEEBRIDGE_ALMA_API_KEY": s.alma.APIKey(), "FEEBRIDGE_WEBHOOK_SECRET": webhookSecret}
	// A new site: its journal is created once, by init.
	if r := s.run("init"); r.code != ExitOK {
		t.Fatalf("feesync init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return s
}

func (s *site) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// run runs feesync on the site's clock and config.
func (s *site) run(args ...string) result {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return s.env[k] }, Now: s.clock.Now, Sleep: s.sleep}
	n := 1 // the command's words come first, then the flags
	if args[0] == "run" || args[0] == "convert" || args[0] == "show" {
		n = 2
	}
	if args[0] == "journal" { // reads no config: its flags name both journals
		return s.runNoConfig(args...)
	}
	full := append(append(append([]string{}, args[:n]...), "-config", s.config), args[n:]...)
	err := m.ParseFlags(s.t.Context(), full)
	if err == nil {
		err = m.Run(s.t.Context())
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code := m.Exit(err)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// runNoConfig runs a feesync command that takes no -config.
func (s *site) runNoConfig(args ...string) result {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return s.env[k] }, Now: s.clock.Now}
	err := m.ParseFlags(s.t.Context(), args)
	if err == nil {
		err = m.Run(s.t.Context())
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return result{code: m.Exit(err), stdout: stdout.String(), stderr: stderr.String()}
}

func (s *site) files(dir string) []string {
	s.t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

func wantRun(t *testing.T, r result, code int, in ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range in {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// TestRunJobs drives the jobs one command at a time through a day: the
// evening export and charges, payments (one refused), Alma's import, the
// report, the reconciliation and a re-drive.
func TestRunJobs(t *testing.T) {
	ctx := t.Context()
	s := newSite(t)
	a := s.alma
	f1, f2 := threeFees(t, s)

	exp, err := a.RunExport(ctx, s.library, "exports", "BURSAR")
	s.must(err)
	s.clock.Advance(30 * time.Minute)

	// A dry run decides and writes nothing.
	r := s.run("run", "charges", "-dry-run")
	wantRun(t, r, ExitRejected, "dry_run=true", "LOCKERKEY")
	if got := s.files(filepath.Join(s.psDir, "inbound")); len(got) != 0 {
		t.Fatalf("dry run wrote %v", got)
	}

	// The real run charges two fees and holds the unmapped one.
	r = s.run("run", "charges")
	wantRun(t, r, ExitRejected, "records=2", `total="45.00 USD"`, "rejected=1",
		filepath.Base(exp.File)+":", "1 record rejected")
	if strings.Contains(r.stderr, "10012345") || strings.Contains(r.stderr, "10067890") {
		t.Errorf("a student id reached the log:\n%s", r.stderr)
	}
	if got := s.files(filepath.Join(s.psDir, "inbound")); len(got) != 1 {
		t.Fatalf("inbound holds %v, want one charge file", got)
	}

	// Again: nothing new, nothing twice.
	r = s.run("run", "charges")
	wantRun(t, r, ExitOK, "files=0", "records=0")

	// PeopleSoft sends one good payment and one above the balance.
	pay := fmt.Sprintf(`EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR
10012345,%s,300000000001,5.00,5.00,2026-03-03,ESERVICES,CREDIT_CARD,R100
10067890,%s,300000000004,40.00,10.00,2026-03-03,CASHIER,CASH,R101
10067890,%s,300000000004,40.00,45.00,2026-03-03,CASHIER,CASH,R102
`, f1.TransactionID, f2.TransactionID, f2.TransactionID)
	s.must(os.WriteFile(filepath.Join(s.psDir, "outbound", "payments-0303.csv"), []byte(pay), 0o644))
	s.clock.Advance(time.Hour)
	r = s.run("run", "payments")
	wantRun(t, r, ExitRejected, "records=2", `total="15.00 USD"`, "payments-0303.csv:4: ", "45.00 is more than the charge of 40.00")
	if got := s.files(filepath.Join(s.libDir, "imports")); len(got) != 1 {
		t.Fatalf("imports holds %v, want one import file", got)
	}
	imp, err := a.RunImport(ctx, s.library, "imports")
	s.must(err)
	if len(imp.Applied()) != 2 || len(imp.Rejected()) != 0 {
		t.Fatalf("Alma's import: %+v", imp)
	}

	// The credits job finds nothing to do.
	r = s.run("run", "credits")
	wantRun(t, r, ExitOK, "job=credits", "files=0")

	// The report goes to the library drop.
	r = s.run("run", "report")
	wantRun(t, r, ExitOK, "job=report", "exceptions=")
	if got := s.files(filepath.Join(s.libDir, "reports")); len(got) != 2 {
		t.Errorf("reports holds %v, want CSV and HTML", got)
	}

	// Alma and the bursar agree on every fee sent; the unmapped one shows
	// as transferred in Alma and never sent.
	r = s.run("reconcile")
	wantRun(t, r, ExitRejected, "job=reconcile", "disagreements=1", "1 disagreements between Alma and the bursar", "quiet=0")
	if !strings.Contains(r.stdout, "never sent to the bursar") || strings.Contains(r.stdout, "10067890") {
		t.Errorf("reconcile printed:\n%s", r.stdout)
	}
	r = s.run("reconcile", "-all")
	wantRun(t, r, ExitRejected, "job=reconcile", "disagreements=1", "quiet=0")

	// The unmapped fee is still unmapped: re-driving holds it again.
	r = s.run("redrive", "charge")
	wantRun(t, r, ExitRejected, "job=\"redrive charge\"", "LOCKERKEY")
	r = s.run("redrive", "fine")
	wantRun(t, r, ExitUsage, `"fine" is not charge, credit, payment, refund or event`)
	// Refunds held for staff (R8) are a kind to re-drive too: none is held.
	r = s.run("redrive", "refund")
	wantRun(t, r, ExitOK, `job="redrive refund"`, "records=0")
}

// TestRunNeedsSecret: the report calls Alma, so it needs the API key, and
// says where it looks for it.
func TestRunNeedsSecret(t *testing.T) {
	s := newSite(t)
	s.env = nil
	r := s.run("run", "report")
	wantRun(t, r, ExitFailure, "alma.api_key: secret not set: set FEEBRIDGE_ALMA_API_KEY")
	// The charges job does not call Alma and runs without it.
	r = s.run("run", "charges")
	wantRun(t, r, ExitOK, "job=charges")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
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

// lostBook lends item B1 (replacement cost 80.00) to student 10012345 in
// the site's Alma and declares it lost; it returns the lost-item fees.
func lostBook(t *testing.T, s *site) []fees.Fee {
	t.Helper()
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	s.must(a.AddItem(almatest.Item{Barcode: "B1", Title: "Organic Chemistry", ReplacementCost: usd("80.00")}))
	loan, err := a.CheckOut("10012345", "B1", s.clock.Now().AddDate(0, 0, 14))
	s.must(err)
	lost, err := a.DeclareLost(loan)
	s.must(err)
	return lost
}

// TestServe starts serve, checks /healthz, the status page and the webhook
// (Alma's challenge, then a real returned lost item whose fees are waived),
// and stops it with its context, as SIGTERM does.
func TestServe(t *testing.T) {
	s := newSite(t)
	a := s.alma
	lost := lostBook(t, s)
	if len(lost) == 0 {
		t.Fatal("no lost-item fee")
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	addr := make(chan string, 1)
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return s.env[k] }, Now: s.clock.Now,
		Listening: func(a string) { addr <- a }}
	s.must(m.ParseFlags(ctx, []string{"serve", "-config", s.config}))
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not listen")
	}

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(config.DefaultWebhookPath + "?challenge=abc123"); code != 200 || !strings.Contains(body, `"challenge":"abc123"`) {
		t.Errorf("challenge: %d %q", code, body)
	}

	// The item comes back: Alma delivers LOAN_RETURNED, the listener
	// journals it, and the events worker waives the lost-item fees.
	a.SetWebhook(base+config.DefaultWebhookPath, []byte(webhookSecret))
	_, err := a.Return("B1")
	s.must(err)
	if n := a.RunDue(ctx); n != 1 {
		t.Fatalf("%d webhooks delivered, want 1: %+v", n, a.Webhooks())
	}
	waitFor(t, done, "the lost-item fees waived", func() bool { return lostFeesOpen(a, "10012345") == 0 })

	// The status page counts the event from the journal once it is handled.
	var code int
	var body string
	waitFor(t, done, "the event handled on the status page", func() bool {
		code, body = get("/")
		return strings.Contains(body, "Handled: 1")
	})
	if code != 200 {
		t.Errorf("status page: %d", code)
	}
	for _, want := range []string{"<h2>Schedules</h2>", "<code>30 18 * * *</code>", "Events received: 1", "Last event: Mon 2 Mar 18:00 UTC", "Nothing is held."} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "10012345") {
		t.Errorf("status page shows a student id")
	}
	if code, _ := get("/nothing-here"); code != 404 {
		t.Errorf("/nothing-here: %d", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	s.must(m.Close())
	for _, v := range s.env {
		if strings.Contains(stderr.String()+stdout.String(), v) {
			t.Errorf("a secret reached the log")
		}
	}
	if strings.Contains(stderr.String(), "10012345") {
		t.Errorf("a student id reached the log:\n%s", stderr.String())
	}
}

// TestRunOverFTP reads Alma's export from an FTP server, with the password
// from the environment; plain FTP is warned about and the password never
// shows.
func TestRunOverFTP(t *testing.T) {
	s := newSite(t)
	srv := ftptest.NewServer(t, nil)
	for _, d := range []string{"exports", "credits", "imports"} {
		s.must(os.MkdirAll(filepath.Join(srv.Dir, d), 0o755))
	}
	ftpLib, err := localdrop.Open(srv.Dir, nil)
	s.must(err)
	t.Cleanup(func() { ftpLib.Close() })
	cfg, err := os.ReadFile(s.config)
	s.must(err)
	text := strings.Replace(string(cfg), fmt.Sprintf("[library]\ntype = \"dir\"\npath = %q\n", s.libDir),
		fmt.Sprintf("[library]\ntype = \"ftp\"\naddress = %q\nuser = %q\ntls = \"none\"\n", srv.Addr, srv.User), 1)
	if text == string(cfg) {
		t.Fatal("library section not replaced")
	}
	s.must(os.WriteFile(s.config, []byte(text), 0o600))

	s.must(s.alma.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	_, err = s.alma.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("7.50")})
	s.must(err)
	_, err = s.alma.RunExport(t.Context(), ftpLib, "exports", "BURSAR")
	s.must(err)

	r := s.run("run", "charges")
	wantRun(t, r, ExitFailure, "library.password: secret not set: set FEEBRIDGE_FTP_PASSWORD")

	s.env["FEEBRIDGE_FTP_PASSWORD"] = srv.Password
	r = s.run("run", "charges")
	wantRun(t, r, ExitOK, "plain FTP", "records=1", `total="7.50 USD"`)
	if strings.Contains(r.stdout+r.stderr, srv.Password) {
		t.Errorf("the FTP password reached the output:\n%s", r.stderr)
	}
	if got := s.files(filepath.Join(srv.Dir, "exports", "done")); len(got) != 1 {
		t.Errorf("exports/done on the FTP server holds %v", got)
	}
}

// TestRunFailedFile: an export that cannot be read goes to failed/ with a
// reason, is listed on stderr, and the run exits 3.
func TestRunFailedFile(t *testing.T) {
	s := newSite(t)
	s.must(os.WriteFile(filepath.Join(s.libDir, "exports", "BURSAR-1-1772474400000.xml"), []byte("<xb:xml-fragment><oops"), 0o644))
	r := s.run("run", "charges")
	wantRun(t, r, ExitRejected, "BURSAR-1-1772474400000.xml: failed: ", "failed_files=1")
	if got := s.files(filepath.Join(s.libDir, "exports", "failed")); len(got) != 2 {
		t.Errorf("exports/failed holds %v, want the file and its reason", got)
	}
}
