package almatest

import (
	"maps"
	"time"
)

// DefaultPerSecond is Alma's per-second threshold: calls beyond it in one
// wall-clock second are answered 429 PER_SECOND_THRESHOLD.
const DefaultPerSecond = 25

// Faults are failures the fake injects into its REST API, for reliability
// tests. Each rate is the probability (0 to 1) that one call fails that
// way; the draws come from the seeded source, so a run is repeatable for
// a given Seed and sequence of calls.
type Faults struct {
	// RateLimit429 answers 429 PER_SECOND_THRESHOLD whatever the real rate.
	RateLimit429 float64
	// Error5xx answers a server error: 500 with a web_service_result, or
	// 503 with a plain gateway page, half each.
	Error5xx float64
	// Slow delays the answer by SlowDelay (real time; the client's
	// context or timeout may give up first).
	Slow float64
	// SlowDelay defaults to 2 s.
	SlowDelay time.Duration
	// DropConn closes the connection without an answer; the call has no
	// effect.
	DropConn float64
	// LostAnswer lets the call take effect, then closes the connection
	// instead of answering: the caller cannot know whether a payment or
	// waiver was taken, which is what a client's re-read before retrying
	// is for.
	LostAnswer float64
	// DailyQuota is the number of calls allowed per simulated day; beyond
	// it every call is answered 429 DAILY_THRESHOLD. Zero means no quota.
	DailyQuota int
	// PerSecond is the per-second threshold, counted per wall-clock
	// second. Zero means DefaultPerSecond; negative means none.
	PerSecond int
}

// SetFaults replaces the faults injected from the next call on.
func (s *Server) SetFaults(f Faults) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = f
}

// APICalls returns how many calls each route received (including the ones
// that failed by a fault), keyed like "GET users/{user_id}/fees", and the
// total under "".
func (s *Server) APICalls() map[string]int {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return maps.Clone(s.calls)
}

// fault is what the fake does to one call.
type fault int

const (
	faultNone fault = iota
	faultDrop
	faultPerSecond
	faultDaily
	fault429
	fault500
	fault503
	faultLostAnswer
)

// decide counts the call and draws its fate. Slow is returned apart since
// a slow call may fail in another way too.
func (s *Server) decide(route string) (f fault, slow time.Duration, remaining int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.calls[route]++
	s.calls[""]++
	fs := s.faults
	draw := func(rate float64) bool { return rate > 0 && s.rng.Float64() < rate }

	if draw(fs.DropConn) {
		return faultDrop, 0, 0
	}
	if draw(fs.Slow) {
		slow = fs.SlowDelay
		if slow <= 0 {
			slow = 2 * time.Second
		}
	}
	limit := fs.PerSecond
	if limit == 0 {
		limit = DefaultPerSecond
	}
	if sec := time.Now().Unix(); sec != s.sec {
		s.sec, s.secN = sec, 0
	}
	s.secN++
	if limit > 0 && s.secN > limit {
		return faultPerSecond, slow, s.remainingLocked()
	}
	if d := s.clock.Now().Format(time.DateOnly); d != s.day {
		s.day, s.dayN = d, 0
	}
	if fs.DailyQuota > 0 && s.dayN >= fs.DailyQuota {
		return faultDaily, slow, 0
	}
	s.dayN++
	remaining = s.remainingLocked()
	switch {
	case draw(fs.RateLimit429):
		return fault429, slow, remaining
	case draw(fs.Error5xx):
		if s.rng.IntN(2) == 0 {
			return fault500, slow, remaining
		}
		return fault503, slow, remaining
	case draw(fs.LostAnswer):
		return faultLostAnswer, slow, remaining
	}
	return faultNone, slow, remaining
}

// remainingLocked is the X-Exl-Api-Remaining value: what is left of the
// daily quota, or of a notional 1,000,000 calls when there is none.
func (s *Server) remainingLocked() int {
	q := s.faults.DailyQuota
	if q <= 0 {
		q = 1_000_000
	}
	return max(q-s.dayN, 0)
}
