package main

import (
	"testing"
	"time"
)

// TestHumanDuration (issue 16, the status page): durations read as people
// write them, not as Go prints them ("5.29396ms").
func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 ms"},
		{5293960 * time.Nanosecond, "5 ms"},
		{2300 * time.Millisecond, "2.3 s"},
		{42 * time.Second, "42 s"},
		{4*time.Minute + 10*time.Second, "4 min 10 s"},
		{time.Hour + 5*time.Minute, "1 h 5 min"},
		{51 * time.Hour, "2 d 3 h"},
		{-time.Second, "-"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestWhen (issue 16, the status page): a time is written in the
// configured zone with its abbreviation.
func TestWhen(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	at := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	if got := when(at, paris); got != "Sat 5 Dec 07:00 CET" {
		t.Errorf("when = %q", got)
	}
	if got := when(time.Time{}, paris); got != "-" {
		t.Errorf("when(zero) = %q", got)
	}
}
