package institutions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feebridge/feebridge/alma"
)

// fakeUnit is an institution whose Run does what its test says: each
// start and stop is recorded, so that a test sees which were restarted.
type fakeUnit struct {
	name    string
	hook    http.Handler
	run     func(ctx context.Context) error
	stopped chan struct{} // closed when Run returns
}

func (u *fakeUnit) Run(ctx context.Context) error {
	defer close(u.stopped)
	if u.run != nil {
		return u.run(ctx)
	}
	<-ctx.Done()
	return nil
}

func (u *fakeUnit) Webhook() http.Handler { return u.hook }

// fakeOpener opens fakeUnits and keeps them, by name, in the order opened.
type fakeOpener struct {
	mu     sync.Mutex
	opened map[string][]*fakeUnit
	runs   map[string]func(ctx context.Context) error // what each institution's Run does
	fail   map[string]error
}

func newFakeOpener() *fakeOpener {
	return &fakeOpener{opened: map[string][]*fakeUnit{}, runs: map[string]func(context.Context) error{}, fail: map[string]error{}}
}

func (o *fakeOpener) open(_ context.Context, inst Institution, reg prometheus.Registerer) (Unit, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.fail[inst.Name]; err != nil {
		return nil, err
	}
	runs := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_runs_total", Help: "runs"})
	runs.Inc()
	reg.MustRegister(runs)
	u := &fakeUnit{name: inst.Name, run: o.runs[inst.Name], stopped: make(chan struct{})}
	o.opened[inst.Name] = append(o.opened[inst.Name], u)
	return u, nil
}

func (o *fakeOpener) units(name string) []*fakeUnit {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*fakeUnit(nil), o.opened[name]...)
}

func readDir(t *testing.T, dir string) *Dir {
	t.Helper()
	d, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestApplyStartsStopsAndRestartsOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "arc.toml", siteConfig)
	o := newFakeOpener()
	// arc's job is running when the folder is read again: it must not be
	// interrupted by the reload that adds sac.
	jobStarted, jobEnd := make(chan struct{}), make(chan struct{})
	var interrupted bool
	o.runs["arc"] = func(ctx context.Context) error {
		close(jobStarted)
		select {
		case <-jobEnd:
		case <-ctx.Done():
			interrupted = true
		}
		<-ctx.Done()
		return nil
	}
	d := New(o.open, nil)
	ctx := t.Context()
	if err := d.Start(ctx, readDir(t, dir)); err != nil {
		t.Fatal(err)
	}
	<-jobStarted

	writeFile(t, dir, "sac.toml", siteConfig)
	ch := d.Apply(ctx, readDir(t, dir))
	if strings.Join(ch.Started, ",") != "sac" || len(ch.Restarted)+len(ch.Stopped)+len(ch.Refused) != 0 {
		t.Fatalf("adding sac: %+v", ch)
	}
	close(jobEnd)
	arc := o.units("arc")
	if len(arc) != 1 {
		t.Fatalf("arc opened %d times, want 1", len(arc))
	}
	select {
	case <-arc[0].stopped:
		t.Fatal("arc's Run ended when sac was added")
	default:
	}

	// A changed file restarts its institution only.
	writeFile(t, dir, "sac.toml", siteConfig+"# new key\n")
	ch = d.Apply(ctx, readDir(t, dir))
	if strings.Join(ch.Restarted, ",") != "sac" || len(ch.Started)+len(ch.Stopped) != 0 {
		t.Fatalf("changing sac: %+v", ch)
	}
	if sac := o.units("sac"); len(sac) != 2 || !isClosed(sac[0].stopped) || isClosed(sac[1].stopped) {
		t.Fatalf("sac: the old unit must be stopped and the new one running")
	}

	// A bad file is refused, and its institution goes on with its old config.
	writeFile(t, dir, "sac.toml", siteConfig+"no_such_key = 1\n")
	ch = d.Apply(ctx, readDir(t, dir))
	if len(ch.Refused) != 1 || ch.Refused[0].Name != "sac" || len(ch.Restarted)+len(ch.Stopped) != 0 {
		t.Fatalf("bad sac: %+v", ch)
	}
	if sac := o.units("sac"); len(sac) != 2 || isClosed(sac[1].stopped) {
		t.Fatal("a bad file stopped its institution")
	}

	// A removed file stops its institution: its Run sees ctx cancelled.
	if err := removeFile(dir, "sac.toml"); err != nil {
		t.Fatal(err)
	}
	ch = d.Apply(ctx, readDir(t, dir))
	if strings.Join(ch.Stopped, ",") != "sac" {
		t.Fatalf("removing sac: %+v", ch)
	}
	if !isClosed(o.units("sac")[1].stopped) {
		t.Fatal("sac still runs")
	}
	if got := strings.Join(d.Names(), ","); got != "arc" {
		t.Fatalf("running %q, want arc", got)
	}
	d.Stop()
	if interrupted || len(o.units("arc")) != 1 {
		t.Fatalf("arc was interrupted (%v) or restarted (%d opens)", interrupted, len(o.units("arc")))
	}
}

func TestCheckRefusesAFileAndKeepsTheOldConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "arc.toml", siteConfig)
	o := newFakeOpener()
	d := New(o.open, &Options{Check: func(inst Institution) error {
		if strings.Contains(inst.Config.Library.Path, "missing") {
			return errors.New("library.path: no such folder")
		}
		return nil
	}})
	if err := d.Start(t.Context(), readDir(t, dir)); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	writeFile(t, dir, "arc.toml", strings.Replace(siteConfig, "/srv/lib", "/srv/missing", 1))
	ch := d.Apply(t.Context(), readDir(t, dir))
	if len(ch.Refused) != 1 || !strings.Contains(ch.Refused[0].Error(), "arc.toml: library.path") {
		t.Fatalf("refused %v", ch.Refused)
	}
	if u := o.units("arc"); len(u) != 1 || isClosed(u[0].stopped) {
		t.Fatal("arc was stopped for a file that does not pass the check")
	}
}

func TestStartFailsNamingTheInstitutionThatDoesNotOpen(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "arc.toml", siteConfig)
	writeFile(t, dir, "sac.toml", siteConfig)
	o := newFakeOpener()
	o.fail["sac"] = errors.New("journal: no such file")
	d := New(o.open, nil)
	err := d.Start(t.Context(), readDir(t, dir))
	if err == nil || !strings.Contains(err.Error(), "sac.toml: journal: no such file") {
		t.Fatalf("got %v", err)
	}
	if len(d.Names()) != 0 || !isClosed(o.units("arc")[0].stopped) {
		t.Fatal("a failed start left institutions running")
	}
}

// TestOneInstitutionHangingOrPanickingHoldsUpNoOther: arc's run hangs (a
// drop that never answers) and sac's panics; crc's run still ends, and
// the deployment goes on.
func TestOneInstitutionHangingOrPanickingHoldsUpNoOther(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"arc", "crc", "sac"} {
		writeFile(t, dir, n+".toml", siteConfig)
	}
	o := newFakeOpener()
	hang := make(chan struct{})
	o.runs["arc"] = func(context.Context) error { <-hang; return nil } // deaf even to its context
	o.runs["sac"] = func(context.Context) error { panic("a bug in sac's mapping") }
	crcDone := make(chan struct{})
	o.runs["crc"] = func(context.Context) error { close(crcDone); return nil }
	d := New(o.open, nil)
	if err := d.Start(t.Context(), readDir(t, dir)); err != nil {
		t.Fatal(err)
	}
	<-crcDone // while arc hangs and sac has panicked
	<-o.units("sac")[0].stopped
	if isClosed(o.units("arc")[0].stopped) {
		t.Fatal("arc ended")
	}
	close(hang)
	errs := d.Wait()
	if errs["crc"] != nil || errs["arc"] != nil {
		t.Errorf("errors %v", errs)
	}
	if errs["sac"] == nil || !strings.Contains(errs["sac"].Error(), "panic: a bug in sac's mapping") {
		t.Errorf("sac: %v", errs["sac"])
	}
	d.Stop()
}

func TestWebhooksRouteToEachInstitutionWithItsSecret(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "arc.toml", siteConfig)
	writeFile(t, dir, "sac.toml", siteConfig)
	var mu sync.Mutex
	got := map[string]int{}
	secrets := map[string]string{"arc": "secret-a", "sac": "secret-s"}
	d := New(func(ctx context.Context, inst Institution, reg prometheus.Registerer) (Unit, error) {
		on := func(context.Context, alma.Event) error { mu.Lock(); got[inst.Name]++; mu.Unlock(); return nil }
		return &fakeUnit{hook: alma.NewWebhookHandler([]byte(secrets[inst.Name]), on, nil), stopped: make(chan struct{})}, nil
	}, nil)
	if err := d.Start(t.Context(), readDir(t, dir)); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	mux := http.NewServeMux()
	mux.Handle(WebhookPrefix, d.Webhooks())
	body := `{"id":"9900001","action":"LOAN","institution":{"value":"X"},"time":"2026-03-02T08:00:00.000Z",` +
		`"event":{"value":"LOAN_RETURNED"},"item_loan":{"loan_id":"2300001","user_id":"S1","item_barcode":"B77",` +
		`"loan_status":"ACTIVE","loan_date":"2026-02-02T08:00:00.000Z","due_date":"2026-02-16T08:00:00Z"}}`
	post := func(path, secret string) int {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(alma.SignatureHeader, alma.Sign([]byte(secret), []byte(body)))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post("/webhooks/alma/sac", "secret-a"); code != http.StatusUnauthorized {
		t.Errorf("arc's delivery on sac's path: %d, want 401", code)
	}
	if code := post("/webhooks/alma/arc", "secret-a"); code >= 300 {
		t.Errorf("arc's delivery on arc's path: %d", code)
	}
	for _, p := range []string{"/webhooks/alma/nope", "/webhooks/alma/arc/x", "/webhooks/alma/"} {
		if code := post(p, "secret-a"); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got["arc"] != 1 || got["sac"] != 0 {
		t.Errorf("handled %v, want arc 1 and sac 0", got)
	}
}

func TestMetricsCarryTheCollegeLabel(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "arc.toml", siteConfig)
	writeFile(t, dir, "sac.toml", siteConfig)
	o := newFakeOpener()
	d := New(o.open, nil)
	if err := d.Start(t.Context(), readDir(t, dir)); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if got := collegesOf(t, d); got != "arc,sac" {
		t.Fatalf("test_runs_total for %q, want arc,sac", got)
	}
	if err := removeFile(dir, "sac.toml"); err != nil {
		t.Fatal(err)
	}
	d.Apply(t.Context(), readDir(t, dir))
	if got := collegesOf(t, d); got != "arc" {
		t.Fatalf("after removing sac: test_runs_total for %q, want arc", got)
	}
}

// collegesOf lists the college labels of test_runs_total.
func collegesOf(t *testing.T, d *Deployment) string {
	t.Helper()
	mfs, err := d.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		if mf.GetName() != "test_runs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == Label {
					got = append(got, l.GetValue())
				}
			}
		}
	}
	return strings.Join(got, ",")
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
