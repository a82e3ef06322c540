package peoplesoft

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestMonthDayIsTimeParse compares monthDay with time.Parse("01-02") on
// every MM-DD of two digits each, and a few other strings.
func TestMonthDayIsTimeParse(t *testing.T) {
	inputs := []string{"", "1-02", "01-2", "01/02", "1a-02", "01-0b", " 01-02", "01-02 ", "+1-02", "001-02"}
	for m := range 100 {
		for d := range 100 {
			inputs = append(inputs, fmt.Sprintf("%02d-%02d", m, d))
		}
	}
	for _, s := range inputs {
		got, err := monthDay(s)
		var want int
		tm, werr := time.Parse("01-02", s)
		if werr == nil {
			want = int(tm.Month())*100 + tm.Day()
		}
		if got != want || (err == nil) != (werr == nil) {
			t.Errorf("monthDay(%q) = %d, %v; time.Parse gives %d, %v", s, got, err, want, werr)
		}
	}
}

// TestTermCodeConcurrent reads and fills the term code cache from several
// goroutines (run with -race).
func TestTermCodeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for y := 2000; y < 2030; y++ { // 120 codes: the cache keeps room for others
				want := fmt.Sprintf("%d%02d%d", y/100-18, y%100, g)
				if got := termCode(defaultCodeFormat, y, fmt.Sprint(g)); got != want {
					t.Errorf("termCode(%d, %d) = %q, want %q", y, g, got, want)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkTermForSeason finds the season term of a date in the default
// calendar, as ChargeFor does for every charge.
func BenchmarkTermForSeason(b *testing.B) {
	c := DefaultCalendar()
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.TermFor(day); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTermCodeFormats spells one season's code in each placeholder.
func TestTermCodeFormats(t *testing.T) {
	for _, tc := range []struct{ format, suffix, want string }{
		{defaultCodeFormat, "8", "2268"},
		{"{YYYY}{SUFFIX}", "30", "202630"},
		{"{YY}/{SUFFIX}", "FA", "26/FA"},
		{"{SUFFIX}{YYYY}", "F", "F2026"},
		{"{C}-{YY}-{SUFFIX}", "8", "2-26-8"},
	} {
		if got := termCode(tc.format, 2026, tc.suffix); got != tc.want {
			t.Errorf("termCode(%q, 2026, %q) = %q, want %q", tc.format, tc.suffix, got, tc.want)
		}
	}
}
