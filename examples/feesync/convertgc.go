package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// limitExportMemory is limitMemory(exportMemoryLimit) for convert
// alma-export, with two more settings where feesync sets the soft limit
// itself (GOMEMLIMIT unset) and GOGC is unset. The collector's growth
// target is turned off (as GOGC=off does), so that the heap is collected
// only when it nears the soft limit. The heap of a conversion is buffers
// and the decoder's key set, a few megabytes below the limit: with the
// default target (GOGC=100) the collector ran every few megabytes
// allocated, about 1.3 KB a fee; with the limit alone it runs when the
// heap nears the limit, so the limit sets the peak resident size, flat
// from 100,000 to 1,000,000 fees. And the limit follows the live heap
// where it outgrows it (raiseLimitWithLiveHeap): a key set of millions of
// fees, or of spread ids, would otherwise leave the collector running
// all the time. It returns the function that restores both settings.
func (m *Main) limitExportMemory() func() {
	restoreLimit := m.limitMemory(exportMemoryLimit)
	if m.Getenv("GOMEMLIMIT") != "" || m.Getenv("GOGC") != "" {
		return restoreLimit
	}
	old := debug.SetGCPercent(-1)
	stop := raiseLimitWithLiveHeap(exportMemoryLimit, exportHeadroom)
	return func() {
		stop()
		debug.SetGCPercent(old)
		restoreLimit()
	}
}

// exportHeadroom is the heap that convert alma-export leaves at least to
// garbage and to the gaps between objects (about 1.4 MiB) above the live
// heap: less than the 17 MiB limit leaves at a million fees with close
// ids (the runtime's own 5.7 MiB and a live heap of at most 4.7 MiB), so
// that the limit stays 17 MiB there, and about there for a million Alma
// ids a thousand apart in random order; it grows with a live heap past
// about 6.3 MiB (millions of fees). Less headroom makes the collector
// run every few hundred fees.
const exportHeadroom = 5 << 20

// raiseLimitWithLiveHeap sets the soft memory limit, after each
// collection, to base or, where that leaves the heap less than headroom
// above its live part, to what the runtime holds besides the heap plus
// the live heap plus headroom: the peak follows the live heap where the
// live heap outgrows base. It returns the function that stops it.
func raiseLimitWithLiveHeap(base, headroom int64) (stop func()) {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	return afterEachGC(func() {
		metrics.Read(samples)
		v := func(i int) int64 { return int64(samples[i].Value.Uint64()) }
		live := v(0)
		besidesHeap := v(1) - v(2) - v(3) - v(4) - v(5)
		debug.SetMemoryLimit(max(base, besidesHeap+live+headroom))
	})
}

// afterEachGC calls f after each garbage collection, in the runtime's
// cleanup goroutine, until stop is called.
func afterEachGC(f func()) (stop func()) {
	var mu sync.Mutex // held by f's calls and stop: no call of f after stop
	stopped := false
	var arm func()
	arm = func() {
		// A sentinel of 32 bytes, past the tiny allocator's, is freed
		// by the first collection after it is made.
		runtime.AddCleanup(new([32]byte), func(struct{}) {
			mu.Lock()
			defer mu.Unlock()
			if !stopped {
				f()
				arm()
			}
		}, struct{}{})
	}
	arm()
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
	}
}
