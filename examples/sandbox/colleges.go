package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/institutions"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// The sandbox's -colleges N plays a consortium: N colleges, each an Alma
// institution of its own (its own fake Alma, library file server,
// PeopleSoft folders and ledger, journal), each simulated as a district
// of its own, with one config file each in one folder, run by one
// deployment built as `feesync serve -config-dir` builds it (package
// reconcile/institutions: the folder read by ReadDir, each college run
// in goroutines of its own, Alma's webhooks posted to the deployment's
// one listener at /webhooks/alma/NAME, the metrics labelled by college).
// Here each college's unit plays its week on its own simulated clock
// instead of running cron on the real one.

// collegeName is the name of the i-th college (from 1): its config file's
// base name, webhook path segment and metrics label.
func collegeName(i int) string { return fmt.Sprintf("college-%02d", i) }

// collegeWeek is one college's week, as its unit played it.
type collegeWeek struct {
	name       string
	d          *district
	throttled  bool
	failedRuns atomic.Int64 // job runs that failed and the week played on past
	reconciled bool
	took       time.Duration
	err        error
}

// runColleges plays the week of -colleges N in one deployment and prints
// one line per college. It returns ErrNotReconciled when a college did
// not end reconciled; a throttled college's shortfall is printed, and
// counts too.
func (s *Sandbox) runColleges(ctx context.Context, logger *slog.Logger) error {
	began := time.Now()
	configDir := filepath.Join(s.dir, "config")
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		return err
	}
	for i := 1; i <= s.Colleges; i++ {
		if err := s.writeCollegeConfig(configDir, collegeName(i)); err != nil {
			return err
		}
	}
	folder, err := institutions.ReadDir(configDir)
	if err != nil {
		return err
	}

	var mu sync.Mutex
	weeks := map[string]*collegeWeek{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hookBase := "http://" + ln.Addr().String() + institutions.WebhookPrefix
	open := func(ctx context.Context, inst institutions.Institution, reg prometheus.Registerer) (institutions.Unit, error) {
		u, err := s.openCollege(ctx, inst, reg, hookBase, logger)
		if u != nil {
			mu.Lock()
			weeks[inst.Name] = u.week
			mu.Unlock()
		}
		return u, err
	}
	dep := institutions.New(open, &institutions.Options{Logger: logger})
	mux := http.NewServeMux()
	mux.Handle(institutions.WebhookPrefix, dep.Webhooks())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(s.Stdout, "A consortium of %d colleges, each its own Alma institution and simulated district: %d students, %d days from %s, seed %d on.\n",
		s.Colleges, s.Students, s.Days, s.Start.Format("Monday 2 January 2006"), s.Seed)
	fmt.Fprintf(s.Stdout, "  one deployment    config files in %s, webhooks on %sNAME\n", s.shownDir(configDir), hookBase)
	if s.ThrottledCollege > 0 {
		fmt.Fprintf(s.Stdout, "  throttled         %s: its Alma answers only 429 for the week\n", collegeName(s.ThrottledCollege))
	}
	if err := dep.Start(ctx, folder); err != nil {
		return err
	}
	errs := dep.Wait()
	dep.Stop()
	for name, err := range errs {
		if err != nil && weeks[name] != nil && weeks[name].err == nil {
			weeks[name].err = err
		}
	}
	return s.printColleges(weeks, began)
}

// shownDir is dir, or "the work folder" when it is a temporary one.
func (s *Sandbox) shownDir(dir string) string {
	if s.tempDir {
		return "the temporary work folder"
	}
	return dir
}

// writeCollegeConfig writes the college's config file: its journal and
// folders. The sandbox brings its drops and Alma client itself, as the
// single week does; the rest of the config is the file's.
func (s *Sandbox) writeCollegeConfig(configDir, name string) error {
	dir := filepath.Join(s.dir, "colleges", name)
	journalAt := filepath.Join(dir, "journal.db")
	if s.Journal != "" {
		var err error
		if journalAt, err = collegeSchema(s.Journal, name); err != nil {
			return err
		}
	}
	text := fmt.Sprintf("# %s: one Alma institution of the consortium\ntimezone = \"UTC\"\njournal = %q\n"+
		"[library]\ntype = \"dir\"\npath = %q\n[peoplesoft]\ntype = \"dir\"\npath = %q\n",
		name, journalAt, filepath.Join(dir, "library"), filepath.Join(dir, "peoplesoft"))
	return os.WriteFile(filepath.Join(configDir, name+".toml"), []byte(text), 0o644)
}

// collegeUnit is one college of the deployment: its simulated district
// and feesync's jobs over it. Run plays its week.
type collegeUnit struct {
	week *collegeWeek
	hook http.Handler
}

func (u *collegeUnit) Webhook() http.Handler { return u.hook }

// openCollege is the deployment's Opener: it opens the college's district
// (its own fake Alma, file server, PeopleSoft, journal and Alma client)
// with the institution's config, points its Alma's webhooks at the
// deployment's listener, and registers its metrics.
func (s *Sandbox) openCollege(ctx context.Context, inst institutions.Institution, reg prometheus.Registerer, hookBase string, logger *slog.Logger) (*collegeUnit, error) {
	i := 0
	fmt.Sscanf(inst.Name, "college-%d", &i)
	cs := *s
	cs.Colleges, cs.ThrottledCollege, cs.closers = 0, 0, nil
	cs.dir = filepath.Join(s.dir, "colleges", inst.Name)
	cs.Journal = "" // journal.db in cs.dir
	if journal.IsPostgres(inst.Config.Journal) {
		cs.Journal = inst.Config.Journal
	}
	cs.Seed = s.Seed + int64(i) - 1
	cs.base = inst.Config
	if err := os.MkdirAll(cs.dir, 0o755); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(cs.dir, "week.txt"))
	if err != nil {
		return nil, err
	}
	cs.Stdout = out
	cs.noWebhookListener = true
	w := &collegeWeek{name: inst.Name, throttled: i == s.ThrottledCollege}
	if w.throttled {
		// Its jobs fail all week; the college plays on, as serve runs
		// each job again at its next time, and its shortfall shows.
		cs.jobFailed = func(context.Context, string, error) error {
			w.failedRuns.Add(1)
			return nil
		}
	}
	d, err := newDistrict(ctx, &cs, logger.With(institutions.Label, inst.Name))
	if d != nil {
		w.d = d
	}
	if err != nil {
		if d != nil {
			d.close()
		}
		out.Close()
		return nil, err
	}
	d.onClose(out.Close)
	d.sim.Alma().SetWebhook(hookBase+inst.Name, []byte(d.sim.Secrets().Webhook))
	if w.throttled {
		d.sim.Alma().SetFaults(almatest.Faults{RateLimit429: 1, PerSecond: -1})
	}
	metrics.Register(reg, d.currentJournal(), d.almaCalls, nil)
	u := &collegeUnit{week: w}
	u.hook = alma.NewWebhookHandler([]byte(d.sim.Secrets().Webhook), d.webhook, &alma.WebhookOptions{Logger: d.log.With("system", "webhook")})
	return u, nil
}

// Run plays the college's week and its summary, then closes its district.
func (u *collegeUnit) Run(ctx context.Context) error {
	w := u.week
	defer w.d.close()
	began := time.Now()
	defer func() { w.took = time.Since(began) }()
	w.d.intro()
	if err := w.d.week(ctx); err != nil {
		w.err = err
		return err
	}
	ok, err := w.d.summary(ctx)
	if err != nil {
		w.err = err
		return err
	}
	w.reconciled = ok
	return nil
}

// printColleges prints one line per college, then the totals.
func (s *Sandbox) printColleges(weeks map[string]*collegeWeek, began time.Time) error {
	fmt.Fprintf(s.Stdout, "\n%-12s %-16s %9s  %s\n", "college", "end of week", "wall time", "note")
	bad := 0
	for i := 1; i <= s.Colleges; i++ {
		name := collegeName(i)
		w := weeks[name]
		state, note := "reconciled", ""
		switch {
		case w == nil:
			state, note = "NOT STARTED", "its unit did not open"
		case w.err != nil:
			state, note = "NOT RECONCILED", firstLine(w.err.Error())
		case !w.reconciled:
			state, note = "NOT RECONCILED", "Alma and PeopleSoft disagree; see its week.txt"
		}
		if w != nil && w.throttled {
			note = fmt.Sprintf("throttled (Alma answered only 429; %d job runs failed, the week played on): %s", w.failedRuns.Load(), note)
		}
		if state != "reconciled" {
			bad++
		}
		took := ""
		if w != nil {
			took = w.took.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(s.Stdout, "%-12s %-16s %9s  %s\n", name, state, took, note)
	}
	fmt.Fprintf(s.Stdout, "\nSimulated %d days for %d colleges of %d students in one process in %s; %d of %d reconciled.",
		s.Days, s.Colleges, s.Students, time.Since(began).Round(10*time.Millisecond), s.Colleges-bad, s.Colleges)
	if rss := peakRSS(); rss != "" {
		fmt.Fprintf(s.Stdout, " Peak memory (VmHWM) %s.", rss)
	}
	fmt.Fprintln(s.Stdout)
	if bad > 0 {
		return fmt.Errorf("%w: %d of %d colleges", ErrNotReconciled, bad, s.Colleges)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// peakRSS is the process's peak resident memory from /proc (Linux), or ""
// where there is none.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// baseConfig is the config the jobs start from: the college's file in a
// consortium, else the defaults.
func (s *Sandbox) baseConfig() *config.Config {
	if s.base == nil {
		return config.Default()
	}
	c := *s.base
	return &c
}

// collegeSchema is the journal of college name when the consortium's
// journals are on PostgreSQL (-journal with -colleges): the same database,
// in a schema of the college's own (schema=college_N), so that no college
// sees another's journal. A SQLite file cannot be shared that way.
func collegeSchema(dsn, name string) (string, error) {
	if !journal.IsPostgres(dsn) {
		return "", fmt.Errorf("-journal with -colleges must be a postgres:// DSN (each college gets a schema of its own in it); SQLite journals are one file per college in the work folder already")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("-journal: %w", err)
	}
	q := u.Query()
	q.Set("schema", strings.ReplaceAll(name, "-", "_"))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
