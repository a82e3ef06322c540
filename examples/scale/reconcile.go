package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	feeconfig "github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/transport/localdrop"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// The reconciliation's paths that -reconcile-path names.
const (
	ReconcileBoth       = "both"
	ReconcileReport     = "report"
	ReconcilePerStudent = "per-student"
)

// openFeesReport is the path of the open fees report the scale tool's
// fake Alma serves.
const openFeesReport = "/shared/Scale College/Reports/feebridge open fees"

// The simulated night of the reconciliation path: fees made and exported
// on day 0, Alma's changes at 01:00, Analytics' refresh at 02:00, the
// journal's changes at 04:00 and the reconciliation at 06:30.
var (
	reconDay0    = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	reconAlmaAt  = time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)
	reconLaterAt = time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)
	reconRunAt   = time.Date(2026, 3, 3, 6, 30, 0, 0, time.UTC)
)

// The kinds of disagreement the reconciliation path injects, in turn,
// with the detail calls each costs the bulk path.
var disagreementKinds = []string{
	"balance differs",          // paid in part at the desk in Alma: 1 call (still transferred)
	"paid in full in Alma",     // no longer in the report: 2 calls (transferred, closed)
	"transferred, never sent",  // 1 call
	"charged, unknown to Alma", // 4 calls (every status is looked at)
}

// reconStudentFees is how many fees student i has: 1, 2 or 3.
func reconStudentFees(i int) int { return 1 + i%3 }

// runReconcile builds a journal and a fake Alma (no per-second limit:
// the figures are the calls, not the rate) with n students owing one to
// three transferred fees each, injects cfg.disagree of them with a
// disagreement (the kinds in turn) and marks cfg.changed of the others
// as changed in the journal after Analytics' refresh, then measures one
// nightly reconciliation by cfg.phase's path, and checks that it found
// exactly the disagreements injected.
func runReconcile(ctx context.Context, cfg config, n int) (result, error) {
	res := result{Students: n}
	res.ReconcilePath = strings.TrimPrefix(cfg.phase, "reconcile-")
	dir := filepath.Join(cfg.dir, res.ReconcilePath)
	if err := workDirs(ctx, dir, ""); err != nil {
		return res, err
	}
	clock := almatest.NewManualClock(reconDay0)
	srv := almatest.NewServer(&almatest.Options{Clock: clock, Seed: 17, Faults: almatest.Faults{PerSecond: -1},
		Analytics: &almatest.AnalyticsOptions{FeesReportPath: openFeesReport}})
	defer srv.Close()
	counter := &countingTransport{next: srv.Client().Transport}
	client, err := alma.NewClient(srv.URL(), srv.APIKey(), &alma.ClientOptions{
		HTTPClient: &http.Client{Transport: counter, Timeout: 30 * time.Second}, RatePerSecond: math.Inf(1)})
	if err != nil {
		return res, err
	}
	setup, err := openReconcileJobs(ctx, dir, clock.Now, client, res.ReconcilePath == ReconcileReport)
	if err != nil {
		return res, err
	}
	defer setup.Close()
	if err := reconcileWorld(ctx, srv, clock, setup, dir, n, cfg, &res); err != nil {
		return res, err
	}
	clock.Set(reconRunAt)
	for _, f := range srv.AllFees() {
		if f.Status != fees.StatusClosed && f.Balance.IsPositive() {
			res.OpenFees++
		}
	}
	base := heapNow()
	live := startLiveSampler()
	before := srv.APICalls()
	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	rec, err := setup.Jobs.Reconcile(ctx, nil)
	if merr := m.done(&res, cfg.memProfile); err == nil {
		err = merr
	}
	res.LivePeak = live()
	if err != nil {
		return res, err
	}
	res.HeapPeak -= min(res.HeapPeak, base)
	res.LivePeak -= min(res.LivePeak, base)
	res.CallsByOp = map[string]int{}
	for route, k := range srv.APICalls() {
		if k -= before[route]; k > 0 && route != "" {
			res.CallsByOp[route] = k
		}
	}
	res.Calls = int(counter.calls.Load())
	res.Found = len(rec.Disagreements)
	if res.Found != res.Disagreeing {
		var got []string
		for _, d := range rec.Disagreements[:min(5, len(rec.Disagreements))] {
			got = append(got, d.UserID+": "+d.Problem)
		}
		res.Problems = append(res.Problems, fmt.Sprintf("%d disagreements found, %d injected (first: %s)", res.Found, res.Disagreeing, strings.Join(got, "; ")))
	}
	return res, nil
}

// heapNow is the Go heap's objects after a collection: what the world
// (the fake Alma, its n students) holds before the job starts.
func heapNow() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// startLiveSampler samples the live heap (as of each collection) every
// 10 ms until the returned function is called, which returns its peak:
// what the job held, unlike the heap's peak, which also counts garbage
// not yet collected.
func startLiveSampler() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if s[0].Value.Kind() == metrics.KindUint64 {
				peak = max(peak, s[0].Value.Uint64())
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		runtime.GC() // the end of the job counts too
		close(stop)
		return <-done
	}
}

// openReconcileJobs opens the jobs of a work folder, as feesync does,
// with the open fees report configured when report.
func openReconcileJobs(ctx context.Context, dir string, now func() time.Time, client *alma.Client, report bool) (*feeconfig.Setup, error) {
	cfg := feeconfig.Default()
	cfg.Journal = filepath.Join(dir, journalDB)
	cfg.Library.Type, cfg.Library.Path = "dir", filepath.Join(dir, libDir)
	cfg.PeopleSoft.Type, cfg.PeopleSoft.Path = "dir", filepath.Join(dir, burDir)
	cfg.Library.Settle, cfg.PeopleSoft.Settle = 0, 0
	if report {
		cfg.Alma.FeesReport = openFeesReport
	}
	return feeconfig.Open(ctx, cfg, &feeconfig.Options{Now: now, TempDir: filepath.Join(dir, tmpDir), AlmaClient: client})
}

// reconcileWorld makes the n students and their fees, exports and charges
// them, and injects the disagreements and the changes.
func reconcileWorld(ctx context.Context, srv *almatest.Server, clock *almatest.ManualClock, setup *feeconfig.Setup,
	dir string, n int, cfg config, res *result) error {
	type owed struct {
		user string
		fee  fees.Fee
	}
	first := make([]owed, n)
	for i := range n {
		u := fmt.Sprintf("%08d", 20000000+i)
		if err := srv.AddUser(almatest.User{ID: u, FirstName: "Student", LastName: u}); err != nil {
			return err
		}
		for k := range reconStudentFees(i) {
			f, err := srv.AddFee(u, almatest.FeeSpec{Type: feeTypes[k], Amount: fees.FromMinor(int64(500+i%4000), fees.USD)})
			if err != nil {
				return err
			}
			if k == 0 {
				first[i] = owed{u, f}
			}
		}
	}
	lib, err := localdrop.Open(filepath.Join(dir, libDir), nil)
	if err != nil {
		return err
	}
	clock.Set(exportAt)
	if _, err := srv.RunExport(ctx, lib, "exports", "BURSAR"); err != nil {
		return err
	}
	clock.Set(chargesAt)
	run, err := setup.Jobs.Charges(ctx)
	if err != nil {
		return err
	}
	if !run.Clean() || run.Records == 0 {
		return fmt.Errorf("charges: %d records, %d rejected, %d files failed", run.Records, len(run.Rejected), len(run.Failed))
	}
	// Every step-th student disagrees, the kinds in turn; the students
	// between them changed in the journal after the refresh.
	bad := pick(n, cfg.disagree, 0)
	changed := pick(n, cfg.changed, 1)
	clock.Set(reconAlmaAt)
	var unknown []int
	for k, i := range bad {
		u, f := first[i].user, first[i].fee
		f, _ = srv.Fee(f.ID)
		switch k % len(disagreementKinds) {
		case 0:
			_, err = srv.PayAtDesk(u, f.ID, fees.FromMinor(100, fees.USD), "CASH", "")
		case 1:
			_, err = srv.PayAtDesk(u, f.ID, f.Balance, "CASH", "")
		case 2:
			_, err = srv.AddFee(u, almatest.FeeSpec{Type: fees.TypeOther, Amount: fees.FromMinor(700, fees.USD)})
		case 3:
			unknown = append(unknown, i)
		}
		if err != nil {
			return err
		}
	}
	if _, err := srv.RunExport(ctx, memdrop.New(), "exports", "BURSAR"); err != nil { // never sent
		return err
	}
	res.Disagreeing, res.Changed = len(bad), len(changed)
	clock.Set(reconLaterAt)
	for _, i := range unknown {
		if err := setup.Journal.Put(ctx, reconcile.Record{Kind: reconcile.KindCharge, Key: fees.ChargeKey("9"+first[i].user, fees.TypeOverdueFine),
			Outcome: reconcile.OutcomeCharged, UserID: first[i].user, FeeID: "9" + first[i].user, FeeType: fees.TypeOverdueFine,
			Amount: fees.FromMinor(700, fees.USD), Created: reconAlmaAt, Updated: reconAlmaAt}); err != nil {
			return err
		}
	}
	for _, i := range changed {
		// A lost return handled after the refresh, say: a record of the
		// student that the report cannot know of.
		if err := setup.Journal.Put(ctx, reconcile.Record{Kind: reconcile.KindWaiver, Key: "scale-" + first[i].user, Outcome: reconcile.OutcomeWaived,
			UserID: first[i].user, Amount: fees.Zero(fees.USD), Created: reconLaterAt, Updated: reconLaterAt}); err != nil {
			return err
		}
	}
	return nil
}

// pick returns share of n students, evenly spread, starting at offset
// within each step.
func pick(n int, share float64, offset int) []int {
	k := int(math.Round(share * float64(n)))
	if k <= 0 {
		return nil
	}
	step := max(n/k, 1)
	var out []int
	for i := min(offset, step-1); i < n && len(out) < k; i += step {
		out = append(out, i)
	}
	return out
}

// reconcileBudget is the most calls the bulk path may make: one report
// call per 1,000 open fees, two detail calls per disagreeing student and
// one per student changed after the refresh.
func reconcileBudget(r result) int {
	return (r.OpenFees+999)/1000 + 2*r.Disagreeing + r.Changed
}

// reconcileSummary is the line printed for one path of one size.
func reconcileSummary(n int, job result) string {
	ops := slices.Sorted(func(yield func(string) bool) {
		for op := range job.CallsByOp {
			if !yield(op) {
				return
			}
		}
	})
	var by []string
	for _, op := range ops {
		by = append(by, fmt.Sprintf("%s=%d", strings.ReplaceAll(op, " ", ":"), job.CallsByOp[op]))
	}
	budget := ""
	if job.ReconcilePath == ReconcileReport {
		budget = fmt.Sprintf(" budget=%d", reconcileBudget(job))
	}
	return fmt.Sprintf("reconcile n=%d path=%s open-fees=%d disagreeing=%d changed=%d found=%d calls=%d%s (%s) time=%s cpu=%s live=%s heap=%s vmhwm=%s load=%.2f",
		n, job.ReconcilePath, job.OpenFees, job.Disagreeing, job.Changed, job.Found, job.Calls, budget, strings.Join(by, " "),
		secs(job.Wall), secs(job.CPU), mb(int64(job.LivePeak)), mb(int64(job.HeapPeak)), mb(job.VmHWM), job.Load)
}
