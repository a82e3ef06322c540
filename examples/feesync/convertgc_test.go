package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestLimitExportMemory: convert alma-export collects only near its soft
// limit (GOGC off under a 17 MiB limit) unless GOMEMLIMIT or GOGC is set,
// and puts both settings back when it is done.
func TestLimitExportMemory(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	for _, tc := range []struct {
		env            string
		percent, limit int64
	}{
		{"", -1, exportMemoryLimit},
		{"GOGC", 100, exportMemoryLimit},
		{"GOMEMLIMIT", 100, math.MaxInt64},
	} {
		m := &Main{Getenv: func(k string) string {
			if k == tc.env {
				return "set"
			}
			return ""
		}}
		restore := m.limitExportMemory()
		percent := debug.SetGCPercent(100)
		debug.SetGCPercent(int(percent))
		limit := debug.SetMemoryLimit(-1)
		restore()
		if int64(percent) != tc.percent || limit != tc.limit {
			t.Errorf("%q set: GC percent %d, limit %d during the conversion; want %d, %d", tc.env, percent, limit, tc.percent, tc.limit)
		}
		if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
			t.Errorf("%q set: GC percent %d, limit %d after; want 100 and no limit", tc.env, p, l)
		}
	}
}

// TestRaiseLimitWithLiveHeap: the limit stays at its base while the live
// heap leaves the headroom under it, rises with a live heap that does
// not, and is left alone once stopped.
func TestRaiseLimitWithLiveHeap(t *testing.T) {
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(oldLimit) })
	const base, headroom = 64 << 20, 4 << 20
	debug.SetMemoryLimit(base)
	stop := raiseLimitWithLiveHeap(base, headroom)
	// afterGC collects until the limit is not the one it was: the cleanup
	// that sets it runs after a collection, in its own goroutine.
	afterGC := func(was int64) int64 {
		for range 100 {
			runtime.GC()
			runtime.Gosched()
			if l := debug.SetMemoryLimit(-1); l != was {
				return l
			}
		}
		return was
	}
	debug.SetMemoryLimit(base - 1) // seen again only if a cleanup set it
	if l := afterGC(base - 1); l != base {
		t.Fatalf("small live heap: limit %d, want the base %d", l, base)
	}
	live := make([]byte, 2*base)
	for i := range live {
		live[i] = 1
	}
	if l := afterGC(base); l < int64(len(live))+headroom {
		t.Fatalf("live heap of %d: limit %d, want at least %d", len(live), l, len(live)+headroom)
	}
	runtime.KeepAlive(live)
	stop()
	debug.SetMemoryLimit(base - 1)
	for range 3 {
		runtime.GC()
	}
	if l := debug.SetMemoryLimit(-1); l != base-1 {
		t.Fatalf("stopped: limit %d, want it left at %d", l, base-1)
	}
}
