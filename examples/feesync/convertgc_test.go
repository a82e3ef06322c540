package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestLimitExportMemory: convert alma-export collects only near its soft
// limit (GOGC off under a 20 MiB limit) unless GOMEMLIMIT or GOGC is set,
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
