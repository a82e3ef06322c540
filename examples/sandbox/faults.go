package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/transport/ftpdrop"
)

// errKilled is the failure injected at a step of a job: the run stops
// there, as a killed process would.
var errKilled = errors.New("feesync killed")

// faults injects failures at a rate: jobs killed at a random step (then
// restarted with the journal reopened), Alma answering 429, 5xx, slowly
// (past the client's timeout) or not at all, and, once the FTP fault proxy
// is in place, FTP connections cut and stalled.
type faults struct {
	rate        float64
	almaTimeout time.Duration

	mu    sync.Mutex
	rng   *rand.Rand
	kills int
}

func newFaults(rate float64, seed int64) *faults {
	return &faults{rate: rate, almaTimeout: 150 * time.Millisecond, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa17))}
}

func (f *faults) chance() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

// alma returns Alma's faults: the rate is shared between the kinds.
func (f *faults) alma() almatest.Faults {
	return almatest.Faults{
		RateLimit429: f.rate / 4,
		Error5xx:     f.rate / 4,
		DropConn:     f.rate / 8,
		LostAnswer:   f.rate / 8,
		Slow:         f.rate / 4,
		SlowDelay:    2 * f.almaTimeout,
		PerSecond:    -1,
	}
}

// kill is the jobs' fault hook: at each step, a job is killed at the rate.
func (f *faults) kill(step string) error {
	if f.chance() {
		f.mu.Lock()
		f.kills++
		f.mu.Unlock()
		return fmt.Errorf("%w before step %s", errKilled, step)
	}
	return nil
}

// ftp returns the FTP configuration that feesync uses under faults.
func (f *faults) ftp(cfg ftpdrop.Config) (ftpdrop.Config, error) { return cfg, nil }

func (f *faults) beforeJob() {}
func (f *faults) afterJob()  {}
func (f *faults) close() error {
	return nil
}

func (f *faults) summary(a *almatest.Server) string {
	calls := a.APICalls()[""]
	return fmt.Sprintf("%d Alma API calls with 429s, 5xx, dropped and slow answers injected", calls)
}
