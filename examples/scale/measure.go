package main

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// heapMetric is the Go heap's object memory: live objects and dead ones
// not yet swept, which is what the heap really holds between two
// collections.
const heapMetric = "/memory/classes/heap/objects:bytes"

// The Go runtime's memory mapped from the system, less what it returned:
// its part of the resident size. The rest is the program text and the
// memory SQLite allocates outside the Go heap.
const (
	totalMetric    = "/memory/classes/total:bytes"
	releasedMetric = "/memory/classes/heap/released:bytes"
)

// meter measures one phase: wall and CPU time, the peak of the Go heap
// (sampled every 10 ms) and the peak resident set size of the process.
type meter struct {
	start time.Time
	cpu   time.Duration
	load  float64
	stop  chan struct{}
	wg    sync.WaitGroup
	peak  uint64
	goMem uint64

	cpuProf *os.File
}

// startMeter resets the peak resident size where Linux allows it, and
// starts the clock and the heap sampler. A non-empty cpuProfile starts a
// CPU profile into that file.
func startMeter(cpuProfile string) (*meter, error) {
	runtime.GC()
	resetHWM()
	m := &meter{stop: make(chan struct{}), load: loadAverage()}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		m.cpuProf = f
	}
	sample := []metrics.Sample{{Name: heapMetric}, {Name: totalMetric}, {Name: releasedMetric}}
	read := func() {
		metrics.Read(sample)
		for _, s := range sample {
			if s.Value.Kind() != metrics.KindUint64 {
				return
			}
		}
		m.peak = max(m.peak, sample[0].Value.Uint64())
		m.goMem = max(m.goMem, sample[1].Value.Uint64()-sample[2].Value.Uint64())
	}
	read()
	m.wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	m.start, m.cpu = time.Now(), cpuTime()
	return m, nil
}

// done stops the meter and fills res with what it measured. A non-empty
// memProfile gets a heap profile taken now.
func (m *meter) done(res *result, memProfile string) error {
	res.Wall, res.CPU = time.Since(m.start), cpuTime()-m.cpu
	close(m.stop)
	m.wg.Wait()
	res.HeapPeak, res.GoMem, res.VmHWM, res.Load = m.peak, m.goMem, vmHWM(), m.load
	if m.cpuProf != nil {
		pprof.StopCPUProfile()
		if err := m.cpuProf.Close(); err != nil {
			return err
		}
	}
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

// resetHWM sets the process's peak resident size back to its current
// resident size (Linux 4.0 and later); elsewhere it does nothing.
func resetHWM() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// vmHWM is the process's peak resident set size in bytes, -1 if unknown.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		v, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(v)
		if len(f) == 0 {
			return -1
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return -1
		}
		return kb << 10
	}
	return -1
}

// loadAverage is the one-minute load average, -1 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return -1
	}
	return v
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
