package almatest

import (
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// AnalyticsOptions configure the open fees report the fake serves, as
// Alma Analytics would: from a copy of Alma's data taken once a day (its
// overnight extract), not from the live state.
type AnalyticsOptions struct {
	// FeesReportPath is the report's path (the "path" of
	// analytics/reports). Other paths keep getting the lost items report.
	FeesReportPath string
	// RefreshAt is the time of day, in Location, at which Alma's data is
	// extracted for Analytics each day. Zero means 02:00.
	RefreshAt time.Duration
	// Location is Alma's time zone, of RefreshAt and of the report's
	// dates. Nil means UTC.
	Location *time.Location
}

// FeesReportColumns are the columns of the open fees report, Column1 to
// Column11 in this order (package alma's FeesReportColumns names them).
var FeesReportColumns = []string{
	"Primary Identifier", "Fine Fee Id", "Fine Fee Type", "Fine Fee Status", "Original Amount", "Remaining Amount",
	"Bursar Transaction Id", "Fine Fee Status Date", "Barcode", "Process Type", "Data Updated as of",
}

// stateMu is the lock of the fake's state. When the fake serves the open
// fees report, taking the lock first takes the day's Analytics snapshot if
// a refresh time has passed since the last one: every change of the state
// holds the lock, so the snapshot is the state as it stood at the refresh
// time, however the clock jumped.
type stateMu struct {
	sync.Mutex
	s *Server // nil: no Analytics
}

// Lock locks the state, taking the Analytics snapshot when one is due.
func (m *stateMu) Lock() {
	m.Mutex.Lock()
	if m.s != nil {
		m.s.refreshAnalyticsLocked()
	}
}

// analyticsState is the last snapshot of the open fees report.
type analyticsState struct {
	at   time.Time // the refresh time it stands for; zero before the first
	rows []analyticsFee
}

// analyticsFee is one open fee as the snapshot keeps it.
type analyticsFee struct {
	user, id, tx, barcode, process string
	typ                            fees.Type
	status                         fees.Status
	original, balance              fees.Money
	modified                       time.Time
}

func (s *Server) initAnalytics() {
	a := s.opts.Analytics
	if a == nil || a.FeesReportPath == "" {
		s.opts.Analytics = nil
		return
	}
	c := *a
	if c.RefreshAt == 0 {
		c.RefreshAt = 2 * time.Hour
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	s.opts.Analytics = &c
	s.mu.s = s
}

// lastRefresh is the latest refresh time at or before now.
func (s *Server) lastRefresh(now time.Time) time.Time {
	a := s.opts.Analytics
	n := now.In(a.Location)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, a.Location)
	r := day.Add(a.RefreshAt)
	if r.After(n) {
		r = time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, a.Location).Add(a.RefreshAt)
	}
	return r
}

// refreshAnalyticsLocked takes the snapshot when a refresh time has
// passed since the last one. Callers hold s.mu.
func (s *Server) refreshAnalyticsLocked() {
	at := s.lastRefresh(s.clock.Now())
	if !at.After(s.analytics.at) {
		return
	}
	// A new slice: a cursor may still read the last snapshot.
	s.analytics = analyticsState{at: at, rows: s.openFeesLocked(nil)}
}

// openFeesLocked appends the open fees with a balance, in the order they
// were made, to rows.
func (s *Server) openFeesLocked(rows []analyticsFee) []analyticsFee {
	for _, id := range s.feeOrder {
		f := &s.feeByID[id].f
		if f.Status == fees.StatusClosed || !f.Balance.IsPositive() {
			continue
		}
		r := analyticsFee{user: f.UserID, id: f.ID, tx: f.TransactionID, barcode: f.Item.Barcode, typ: f.Type,
			status: f.Status, original: f.Original, balance: f.Balance, modified: f.Updated}
		if it := s.items[f.Item.Barcode]; it != nil {
			r.process = it.ProcessType
		}
		rows = append(rows, r)
	}
	return rows
}

// RefreshAnalytics takes the Analytics snapshot now, as if Alma's
// overnight extract ran at this instant; the report serves it until the
// next refresh time. It does nothing when the fake serves no open fees
// report.
func (s *Server) RefreshAnalytics() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Analytics == nil {
		return
	}
	s.analytics = analyticsState{at: s.clock.Now(), rows: s.openFeesLocked(nil)}
}

// AnalyticsRefreshed returns the time the open fees report's data stands
// for (zero when the fake serves none).
func (s *Server) AnalyticsRefreshed() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.analytics.at
}

// feesReportPageLocked renders rows [from, to) of a snapshot as the
// report's rows.
func (s *Server) feesReportPageLocked(snap *analyticsState, from, to int) [][]string {
	loc := s.opts.Analytics.Location
	refreshed := snap.at.In(loc).Format("2006-01-02T15:04:05")
	out := make([][]string, to-from)
	for i, r := range snap.rows[from:to] {
		mod := ""
		if !r.modified.IsZero() {
			mod = r.modified.In(loc).Format("2006-01-02T15:04:05")
		}
		out[i] = []string{r.user, r.id, string(r.typ), analyticsStatus(r.status), r.original.Amount(), r.balance.Amount(),
			r.tx, mod, r.barcode, r.process, refreshed}
	}
	return out
}

// analyticsStatus is a fee status as Analytics shows it.
func analyticsStatus(s fees.Status) string {
	switch s {
	case fees.StatusActive:
		return "Active"
	case fees.StatusTransferred:
		return "Transferred"
	case fees.StatusInDispute:
		return "In Dispute"
	}
	return "Closed"
}
