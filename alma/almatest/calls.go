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
	mu    sync.Mutex
	byOp  map[string]int
	byDay map[string]int
	total int
	sec   int64 // the wall-clock second being counted
	secN  int
	peak  int
}

// countCall counts one call to route (as in APICalls) of request r.
func (s *Server) countCall(route string, r *http.Request) {
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
		c.byOp, c.byDay = map[string]int{}, map[string]int{}
	}
	c.total++
	c.byOp[op]++
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
	out := CallStats{Total: c.total, ByOp: maps.Clone(c.byOp), ByDay: maps.Clone(c.byDay), PeakPerSecond: c.peak}
	if out.ByOp == nil {
		out.ByOp, out.ByDay = map[string]int{}, map[string]int{}
	}
	return out
}

// Sub returns the calls of c not already in before, an earlier CallStats
// of the same server: the calls made in between. PeakPerSecond is c's.
func (c CallStats) Sub(before CallStats) CallStats {
	out := CallStats{Total: c.Total - before.Total, ByOp: map[string]int{}, ByDay: map[string]int{}, PeakPerSecond: c.PeakPerSecond}
	for k, n := range c.ByOp {
		if d := n - before.ByOp[k]; d != 0 {
			out.ByOp[k] = d
		}
	}
	for k, n := range c.ByDay {
		if d := n - before.ByDay[k]; d != 0 {
			out.ByDay[k] = d
		}
	}
	return out
}
