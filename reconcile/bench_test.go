package reconcile_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// writeExport writes an export of n fees, numbered from first, straight
// into the drop's folder on disk.
func writeExport(tb testing.TB, dir, name string, first, n int) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "exports", name))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := first; i < first+n; i++ {
		fmt.Fprintf(w, "fee|T%09d|S%07d|F%09d|OVERDUEFINE|B%09d|%d.%02d\n", i, i%50000, i, i, 1+i%90, i%100)
	}
	fmt.Fprintf(w, "end|%d\n", n)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// diskEnv is an env whose drops are folders on disk, so that big inputs do
// not sit in memory.
func diskEnv(tb testing.TB) (*reconcile.Jobs, string) {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{"lib/exports", "bur/inbound", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	lib, err := localdrop.Open(filepath.Join(dir, "lib"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	bur, err := localdrop.Open(filepath.Join(dir, "bur"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	j, err := reconcile.OpenJournal(tb.Context(), filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	jobs, err := reconcile.New(reconcile.Deps{Journal: j, Library: lib, Bursar: bur, Export: lineExport{},
		Charges: &lineCharges{}}, &reconcile.Options{TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		tb.Fatal(err)
	}
	return jobs, filepath.Join(dir, "lib")
}

var _ *transport.Drop // the drops above are transport drops on disk

// BenchmarkCharges runs the charges job over exports of 10,000 fees each.
func BenchmarkCharges(b *testing.B) {
	jobs, lib := diskEnv(b)
	const n = 10000
	b.ReportAllocs()
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		writeExport(b, lib, fmt.Sprintf("export-%06d.xml", i), i*n, n)
		b.StartTimer()
		c0 := cpuTime()
		res, err := jobs.Charges(b.Context())
		cpu += cpuTime() - c0
		if err != nil || res.Records != n {
			b.Fatalf("res = %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/fee")
	// CPU time is what a busy machine inflates least.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/fee")
}

// TestChargesMillion sends 1,000,000 fees through the charges job and
// reports the time and the peak heap. It runs with FEEBRIDGE_LONG=1.
func TestChargesMillion(t *testing.T) {
	if os.Getenv("FEEBRIDGE_LONG") == "" {
		t.Skip("set FEEBRIDGE_LONG=1 to run")
	}
	jobs, lib := diskEnv(t)
	const n = 1000000
	writeExport(t, lib, "export-million.xml", 0, n)
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := ms.HeapInuse; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	start, cpu0 := time.Now(), cpuTime()
	res, err := jobs.Charges(t.Context())
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	close(done)
	wg.Wait()
	if err != nil || res.Records != n {
		t.Fatalf("res = %+v, %v", res.Records, err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("1,000,000 fees in %v (process CPU %v); peak Go heap in use %.1f MB; Go Sys %.1f MB; peak RSS of the process %.1f MB",
		elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(peak.Load())/1e6, float64(ms.Sys)/1e6,
		float64(ru.Maxrss)/1e3)
}

// cpuTime is the CPU time (user and system) the process used so far: a
// figure that a busy machine inflates less than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
