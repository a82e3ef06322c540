package reconcile_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

type fakeSource struct {
	left   int64
	paused time.Time
	now    func() time.Time
}

func (s *fakeSource) RemainingAt() (int64, time.Time, bool) { return s.left, s.now(), s.left >= 0 }
func (s *fakeSource) PausedUntil() (time.Time, bool) {
	return s.paused, !s.paused.IsZero() && s.now().Before(s.paused)
}

// A percentage reserve is taken of the last full day's quota seen (the
// highest X-Exl-Api-Remaining of the day before, in Alma's zone), which
// the journal keeps across a restart.
func TestQuotaGatePercentOfLastFullDay(t *testing.T) {
	ctx := t.Context()
	zone := time.FixedZone("ALMA", -8*3600)
	now := time.Date(2026, 3, 2, 23, 30, 0, 0, zone)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "journal.db")
	jr, err := reconcile.OpenJournal(ctx, path, &reconcile.JournalOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	g := reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reconcile.Reserve{Percent: 10}, Location: zone, Now: clock, Memory: jr})
	g.Observe(ctx, 50_000) // Monday's first answer
	g.Observe(ctx, 1_200)
	jr.Close()

	// Tuesday 00:10 in Alma's zone (08:10 UTC), after a restart.
	now = time.Date(2026, 3, 3, 0, 10, 0, 0, zone)
	jr, err = reconcile.OpenJournal(ctx, path, &reconcile.JournalOptions{Now: clock, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	g = reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reconcile.Reserve{Percent: 10}, Location: zone, Now: clock, Memory: jr})
	if st := g.Status(ctx); st.Remaining != -1 || st.Reserve != 5_000 || st.Quota != 50_000 || st.Low {
		t.Fatalf("after the restart: %+v, want no figure yet today, reserve 10%% of 50000", st)
	}
	g.Observe(ctx, 49_999)
	if err := g.Check(ctx, reconcile.JobReconcile); err != nil {
		t.Fatalf("above the reserve: %v", err)
	}
	g.Observe(ctx, 4_999)
	if err := g.Check(ctx, reconcile.JobReconcile); !reconcile.IsQuota(err) {
		t.Fatalf("below the reserve: err = %v", err)
	}
	// Monday's low figure is not Tuesday's: a new day starts unknown.
	now = now.Add(24 * time.Hour)
	if err := g.Check(ctx, reconcile.JobReconcile); err != nil {
		t.Fatalf("next day, before any answer: %v", err)
	}
}

// A client holding its calls back after a 429 DAILY_THRESHOLD makes the
// gate refuse with a *DailyQuotaError until then; a nil gate lets all
// through.
func TestQuotaGatePaused(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)
	src := &fakeSource{left: 0, paused: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), now: func() time.Time { return now }}
	g := reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: reconcile.Reserve{Calls: 0}, Location: time.UTC,
		Now: func() time.Time { return now }, Source: src})
	err := g.Check(ctx, reconcile.JobReport)
	q, ok := err.(*reconcile.DailyQuotaError)
	if !ok || !q.Until.Equal(src.paused) {
		t.Fatalf("while paused: %v", err)
	}
	now = src.paused
	if err := g.Check(ctx, reconcile.JobReport); err != nil {
		t.Fatalf("at Alma's midnight: %v", err)
	}
	var none *reconcile.QuotaGate
	if err := none.Check(ctx, reconcile.JobReconcile); err != nil {
		t.Fatalf("nil gate: %v", err)
	}
}

func TestParseReserve(t *testing.T) {
	for in, want := range map[string]reconcile.Reserve{"0": {}, "2000": {Calls: 2000}, "5%": {Percent: 5}, " 0.5 % ": {Percent: 0.5}, "100%": {Percent: 100}} {
		got, err := reconcile.ParseReserve(in)
		if err != nil || got != want {
			t.Errorf("ParseReserve(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "5 percent", "NaN%", "101%", "0%", "1e3", "2.5"} {
		if _, err := reconcile.ParseReserve(in); err == nil {
			t.Errorf("ParseReserve(%q) took it", in)
		}
	}
}
