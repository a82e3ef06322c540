package alma_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
)

// After a 429 DAILY_THRESHOLD the client sends nothing until midnight in
// Alma's zone, then calls again; a per-second 429 does not pause it.
func TestDailyQuotaPausesUntilAlmasMidnight(t *testing.T) {
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 3, 3, 22, 15, 0, 0, zone) // 06:15 UTC on 4 March
	f := newFake(t)
	f.inject(1, faultFile(429, "rest/error_429_daily.xml"))
	c := f.client(t, &alma.ClientOptions{Location: zone, Now: func() time.Time { return now }}, nil)
	ctx := t.Context()

	if _, err := c.GetUser(ctx, patronID); !alma.IsQuotaExhausted(err) {
		t.Fatalf("first call: err = %v, want the daily quota", err)
	}
	until, ok := c.PausedUntil()
	if want := time.Date(2026, 3, 4, 0, 0, 0, 0, zone); !ok || !until.Equal(want) {
		t.Fatalf("PausedUntil = %v, %v; want %v (midnight in Alma's zone, not UTC's)", until, ok, want)
	}
	for range 3 {
		if _, err := c.GetUser(ctx, patronID); !alma.IsQuotaExhausted(err) {
			t.Fatalf("while paused: err = %v, want the daily quota", err)
		}
	}
	if n := len(f.log()); n != 1 {
		t.Fatalf("%d requests reached Alma, want 1: nothing is sent while paused: %q", n, f.log())
	}
	now = time.Date(2026, 3, 4, 0, 0, 1, 0, zone)
	if _, ok := c.PausedUntil(); ok {
		t.Error("still paused after Alma's midnight")
	}
	if _, err := c.GetUser(ctx, patronID); err != nil {
		t.Fatalf("after midnight: %v", err)
	}
	if n := len(f.log()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestPerSecondThresholdDoesNotPause(t *testing.T) {
	f := newFake(t)
	f.inject(1, faultFile(429, "rest/error_429_per_second.json"))
	c := f.client(t, nil, nil)
	if _, err := c.GetUser(t.Context(), patronID); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PausedUntil(); ok {
		t.Error("paused after a per-second 429")
	}
}

func TestNextMidnight(t *testing.T) {
	zone, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	// The night clocks go forward: the day has 23 hours.
	got := alma.NextMidnight(time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), zone)
	if want := time.Date(2026, 3, 30, 0, 0, 0, 0, zone); !got.Equal(want) {
		t.Errorf("NextMidnight = %v, want %v", got, want)
	}
}
