package almatest

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// CallStats is what the fake counted of the calls its REST API received,
// the ones answered with a fault (429, 5xx, a dropped connection) included:
// every call a client sends counts, as each counts against Alma's
// thresholds. See [Server.CallStats].
type CallStats struct {
	// Total is the number of calls.
	Total int
	// ByOp counts the calls per operation: the route, such as
	// "GET users/{user_id}/fees", followed for a POST on a fee by the
	// op asked, such as "POST users/{user_id}/fees/{fee_id}?op=waive".
	ByOp map[string]int
	// Refused counts, per operation, the calls of ByOp answered 429 (a
	// threshold, real or injected): each is a call the client must send
	// again.
	Refused map[string]int
	// ByDay counts the calls per day of the fake's (simulated) clock,
	// keyed by its date, such as "2026-09-14".
	ByDay map[string]int
	// PeakPerSecond is the most calls received in any one second of the
	// WALL clock: the fake's simulated clock does not move while a job
	// runs, and Alma's per-second threshold is counted in real seconds.
	// It varies from run to run with the machine's speed.
	PeakPerSecond int
}

// callStats counts the calls by operation, simulated day and wall-clock
// second, beside the per-route count of APICalls.
type callStats struct {
	mu      sync.Mutex
	byOp    map[string]int
	byDay   map[string]int
	refused map[string]int
	total   int
	sec     int64 // the wall-clock second being counted
	secN    int
	peak    int
}

// countCall counts one call to route (as in APICalls) of request r, which
// the fake answers with f.
func (s *Server) countCall(route string, r *http.Request, f fault) {
	op := route
	if r.Method == http.MethodPost {
		if q := r.URL.Query().Get("op"); q != "" && len(q) <= 16 {
			op += "?op=" + q
		}
	}
	day := s.clock.Now().Format(time.DateOnly)
	sec := time.Now().Unix()
	c := &s.ops
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byOp == nil {
		c.byOp, c.byDay, c.refused = map[string]int{}, map[string]int{}, map[string]int{}
	}
	c.total++
	c.byOp[op]++
	switch f {
	case faultPerSecond, fault429, faultDaily:
		c.refused[op]++
	}
	c.byDay[day]++
	if sec != c.sec {
		c.sec, c.secN = sec, 0
	}
	c.secN++
	c.peak = max(c.peak, c.secN)
}

// CallStats returns the calls received so far by operation, by simulated
// day and the peak per wall-clock second. The maps are copies.
func (s *Server) CallStats() CallStats {
	c := &s.ops
	c.mu.Lock()
	defer c.mu.Unlock()
	out := CallStats{Total: c.total, ByOp: maps.Clone(c.byOp), ByDay: maps.Clone(c.byDay), Refused: maps.Clone(c.refused),
		PeakPerSecond: c.peak}
	if out.ByOp == nil {
		out.ByOp, out.ByDay, out.Refused = map[string]int{}, map[string]int{}, map[string]int{}
	}
	return out
}

// Sub returns the calls of c not already in before, an earlier CallStats
// of the same server: the calls made in between. PeakPerSecond is c's.
func (c CallStats) Sub(before CallStats) CallStats {
	out := CallStats{Total: c.Total - before.Total, PeakPerSecond: c.PeakPerSecond}
	out.ByOp, out.ByDay, out.Refused = sub(c.ByOp, before.ByOp), sub(c.ByDay, before.ByDay), sub(c.Refused, before.Refused)
	return out
}

// sub returns the counts of now beyond those of before, leaving out the
// keys that did not grow.
func sub(now, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range now {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
