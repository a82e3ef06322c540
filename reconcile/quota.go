package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// Alma's API has a daily quota per institution, shared with every other
// program of the library, and announced on each answer
// (X-Exl-Api-Remaining). The jobs treat it as the scarce resource it is:
//
//   - Below a reserve (Options.Quota; config alma.daily_reserve, by
//     default 5% of the last full day's quota seen), the work that can
//     wait is deferred: the reconciliation's detail calls and the daily
//     report's checks of returned lost items. Lost returns still run; the
//     payments, charges and credits jobs make no call to Alma's API.
//   - After a 429 DAILY_THRESHOLD nothing calls Alma until midnight in
//     Alma's zone: the Alma client holds every call back, the webhook
//     events wait in the journal's queue, due at that midnight, and a
//     reconciliation or report stops where it is (its work is run again
//     whole by its next run). No record is lost.
//
// Each deferral or pause is logged once per job and Alma day, and kept in
// the journal (the job's last quota note) for the daily report and the
// status page.

// Reserve is the number of Alma API calls kept for the work that cannot
// wait: a number of calls, or a percentage of the last full day's quota
// seen.
type Reserve struct {
	Calls   int64   // a number of calls, when Percent is 0
	Percent float64 // a percentage (0 < Percent ≤ 100) of the day's quota
}

// DefaultReserve is 5% of the last full day's quota seen.
var DefaultReserve = Reserve{Percent: 5}

// ParseReserve reads a reserve: a whole number of calls ("2000") or a
// percentage ("5%", "2.5%").
func ParseReserve(s string) (Reserve, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
			return Reserve{}, fmt.Errorf("%q is not a percentage above 0%% and at most 100%%", s)
		}
		return Reserve{Percent: v}, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return Reserve{}, fmt.Errorf("%q is not a number of calls (such as 2000) or a percentage of the daily quota (such as \"5%%\")", s)
	}
	return Reserve{Calls: n}, nil
}

// String writes the reserve as ParseReserve reads it.
func (r Reserve) String() string {
	if r.Percent > 0 {
		return strconv.FormatFloat(r.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(r.Calls, 10)
}

// QuotaSource is what the quota gate asks of the Alma client:
// *alma.Client is one.
type QuotaSource interface {
	// RemainingAt is what Alma said was left of the day's quota on the
	// client's last answer, and when it came; false before any said.
	RemainingAt() (int64, time.Time, bool)
	// PausedUntil reports whether the client holds every call back after
	// a 429 DAILY_THRESHOLD, and until when.
	PausedUntil() (time.Time, bool)
}

// QuotaMemory is the part of a Store that remembers Alma's quota across
// restarts: *journal.Journal is one.
type QuotaMemory interface {
	NoteQuotaPeak(ctx context.Context, day string, remaining int64) error
	QuotaPeak(ctx context.Context, before string) (day string, peak int64, ok bool, err error)
	PutQuotaNote(ctx context.Context, n journal.QuotaNote) error
	QuotaNotes(ctx context.Context, since time.Time) ([]journal.QuotaNote, error)
}

// QuotaNote is a job's last deferral or pause for Alma's quota.
type QuotaNote = journal.QuotaNote

// QuotaOptions make a [QuotaGate].
type QuotaOptions struct {
	Reserve  Reserve        // the zero Reserve keeps no reserve
	Location *time.Location // Alma's zone, where its quota's day starts (time.Local when nil)
	Now      func() time.Time
	Logger   *slog.Logger
	Memory   QuotaMemory // the journal; nil keeps the peaks in memory only
	Source   QuotaSource // the Alma client; may be set later with SetSource
}

// QuotaGate knows what is left of Alma's daily quota and the reserve, and
// says whether work that can wait may spend calls ([QuotaGate.Check]).
// Options.Quota gives it to the jobs; a nil *QuotaGate lets everything
// through. It is safe for concurrent use.
type QuotaGate struct {
	o QuotaOptions

	mu        sync.Mutex
	src       QuotaSource
	observed  bool   // Observe is called: src is not sampled
	remaining int64  // last heard; -1 before any
	heardDay  string // the Alma day it was heard
	peakDay   string // the Alma day of peak
	peak      int64  // the highest remaining heard on peakDay
	fullFor   string // the Alma day fullPeak was looked up for
	fullPeak  int64  // the last full day's peak; 0 when none
	until     time.Time
	noted     map[string]string // job → the Alma day its note was written
}

// NewQuotaGate returns a gate.
func NewQuotaGate(o QuotaOptions) *QuotaGate {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &QuotaGate{o: o, src: o.Source, remaining: -1, noted: map[string]string{}}
}

// SetSource sets the Alma client the gate asks about a pause.
func (g *QuotaGate) SetSource(src QuotaSource) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.src = src
}

func (g *QuotaGate) day(t time.Time) string { return t.In(g.o.Location).Format(time.DateOnly) }

// Observe is told what Alma said was left of the day's quota on one
// answer (its X-Exl-Api-Remaining); a negative value, no header, is
// ignored. The Alma client's observer calls it.
func (g *QuotaGate) Observe(ctx context.Context, remaining int64) {
	if g == nil || remaining < 0 {
		return
	}
	g.mu.Lock()
	g.observed = true
	g.mu.Unlock()
	g.heard(ctx, remaining, g.o.Now())
}

// heard keeps remaining, heard at at, as what is left that day, and the
// day's peak.
func (g *QuotaGate) heard(ctx context.Context, remaining int64, at time.Time) {
	day := g.day(at)
	g.mu.Lock()
	if day < g.heardDay {
		g.mu.Unlock()
		return
	}
	g.remaining, g.heardDay = remaining, day
	higher := day != g.peakDay || remaining > g.peak
	if higher {
		g.peakDay, g.peak = day, remaining
	}
	g.mu.Unlock()
	if higher && g.o.Memory != nil {
		if err := g.o.Memory.NoteQuotaPeak(context.WithoutCancel(ctx), day, remaining); err != nil {
			g.o.Logger.WarnContext(ctx, "reconcile: alma quota: the day's peak was not kept", "error", err.Error())
		}
	}
}

// QuotaStatus is what a [QuotaGate] knows now.
type QuotaStatus struct {
	Remaining int64 // calls left, as Alma last said today; -1 when unknown
	Reserve   int64 // calls kept for the work that cannot wait; -1 when unknown (a percentage with no quota seen yet)
	Quota     int64 // the last full day's quota seen (its highest remaining); 0 when none
	Paused    time.Time
	// Low says the work that can wait is deferred: Remaining is below
	// Reserve, or the quota is spent (Paused is set).
	Low bool
}

// Status returns what the gate knows now.
func (g *QuotaGate) Status(ctx context.Context) QuotaStatus {
	if g == nil {
		return QuotaStatus{Remaining: -1, Reserve: -1}
	}
	now := g.o.Now()
	today := g.day(now)
	g.mu.Lock()
	src, sample := g.src, !g.observed && g.src != nil
	g.mu.Unlock()
	if sample {
		// A client the gate does not observe (one a program built
		// itself): its last answer's figure, on the day it came.
		if n, at, ok := src.RemainingAt(); ok {
			g.heard(ctx, n, at)
		}
	}
	g.loadFullDay(ctx, today)
	g.mu.Lock()
	defer g.mu.Unlock()
	st := QuotaStatus{Remaining: -1, Reserve: -1, Quota: g.fullPeak}
	if g.heardDay == today {
		st.Remaining = g.remaining
	}
	switch r := g.o.Reserve; {
	case r.Percent == 0:
		st.Reserve = r.Calls
	case g.fullPeak > 0:
		st.Reserve = int64(math.Ceil(float64(g.fullPeak) * r.Percent / 100))
	case g.peakDay == today && g.peak > 0:
		// No full day seen yet: today's highest is the best guess.
		st.Reserve = int64(math.Ceil(float64(g.peak) * r.Percent / 100))
	}
	if now.Before(g.until) {
		st.Paused = g.until
	}
	if g.src != nil {
		if u, ok := g.src.PausedUntil(); ok && u.After(st.Paused) {
			st.Paused = u
		}
	}
	st.Low = !st.Paused.IsZero() || st.Remaining >= 0 && st.Reserve > 0 && st.Remaining < st.Reserve
	return st
}

// loadFullDay looks up, once per Alma day, the peak of the last full day
// the journal kept, and a pause that another process noted (a cron run
// that met the 429 DAILY_THRESHOLD), so that this one does not spend a
// call to learn it again.
func (g *QuotaGate) loadFullDay(ctx context.Context, today string) {
	g.mu.Lock()
	if g.fullFor == today {
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	var peak int64
	var until time.Time
	if g.o.Memory != nil {
		_, p, ok, err := g.o.Memory.QuotaPeak(ctx, today)
		if err != nil {
			g.o.Logger.WarnContext(ctx, "reconcile: alma quota: the last day's peak could not be read", "error", err.Error())
			return
		}
		if ok {
			peak = p
		}
		now := g.o.Now()
		notes, err := g.o.Memory.QuotaNotes(ctx, now.Add(-24*time.Hour))
		if err != nil {
			g.o.Logger.WarnContext(ctx, "reconcile: alma quota: the notes could not be read", "error", err.Error())
			return
		}
		for _, n := range notes {
			if n.Until.After(now) && n.Until.After(until) {
				until = n.Until
			}
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
	if peak == 0 && g.peakDay != "" && g.peakDay < today {
		peak = g.peak // kept in memory only
	}
	g.fullFor, g.fullPeak = today, peak
}

// PausedUntil reports whether Alma's daily quota is spent (a 429
// DAILY_THRESHOLD was answered) and until when nothing calls Alma.
func (g *QuotaGate) PausedUntil(ctx context.Context) (time.Time, bool) {
	st := g.Status(ctx)
	return st.Paused, !st.Paused.IsZero()
}

// Check returns nil when the work of job that can wait may spend Alma's
// calls; a *[DailyQuotaError] when the quota is spent; a *[DeferredError]
// when what is left is below the reserve. The first refusal of a job in
// an Alma day is logged and noted in the journal for the report.
func (g *QuotaGate) Check(ctx context.Context, job string) error {
	if g == nil {
		return nil
	}
	st := g.Status(ctx)
	if !st.Low {
		return nil
	}
	var err error
	if !st.Paused.IsZero() {
		err = &DailyQuotaError{Until: st.Paused}
	} else {
		err = &DeferredError{Job: job, Remaining: st.Remaining, Reserve: st.Reserve}
	}
	g.note(ctx, job, st, err)
	return err
}

// Defer reports whether the work of job that can wait must not spend
// Alma's calls now ([QuotaGate.Check] fails).
func (g *QuotaGate) Defer(ctx context.Context, job string) bool { return g.Check(ctx, job) != nil }

// Stopped notes that job stopped on err, when err is Alma's daily quota
// (a *DailyQuotaError, or any failure while the client is paused), and
// returns the *DailyQuotaError; else nil.
func (g *QuotaGate) Stopped(ctx context.Context, job string, err error) *DailyQuotaError {
	if err == nil {
		return nil
	}
	var q *DailyQuotaError
	if !errors.As(err, &q) {
		if g == nil {
			return nil
		}
		if u, ok := g.PausedUntil(ctx); ok {
			q = &DailyQuotaError{Until: u, Err: err}
		} else {
			return nil
		}
	}
	if g == nil {
		return q
	}
	if q.Until.IsZero() {
		g.mu.Lock()
		q.Until = nextMidnight(g.o.Now(), g.o.Location)
		g.until = q.Until
		g.mu.Unlock()
	}
	g.note(ctx, job, g.Status(ctx), q)
	return q
}

// note logs err and keeps it as job's quota note, once per Alma day (and
// once per pause).
func (g *QuotaGate) note(ctx context.Context, job string, st QuotaStatus, err error) {
	now := g.o.Now()
	key := g.day(now)
	if !st.Paused.IsZero() {
		key += " paused " + st.Paused.String()
	}
	g.mu.Lock()
	done := g.noted[job] == key
	g.noted[job] = key
	g.mu.Unlock()
	if done {
		return
	}
	g.o.Logger.LogAttrs(ctx, slog.LevelWarn, "reconcile: "+err.Error(), slog.String("job", job),
		slog.Int64("alma_remaining", st.Remaining), slog.Int64("alma_reserve", st.Reserve))
	if g.o.Memory == nil {
		return
	}
	n := journal.QuotaNote{Job: job, At: now, Remaining: st.Remaining, Reserve: st.Reserve, Until: st.Paused,
		What: quotaWhat(job, !st.Paused.IsZero())}
	if err := g.o.Memory.PutQuotaNote(context.WithoutCancel(ctx), n); err != nil {
		g.o.Logger.WarnContext(ctx, "reconcile: alma quota: the note was not kept", "error", err.Error())
	}
}

// quotaWhat says in plain words what job left for later.
func quotaWhat(job string, paused bool) string {
	switch {
	case job == JobReconcile && paused:
		return "the reconciliation stopped before it had checked every student"
	case job == JobReconcile:
		return "the reconciliation checked nothing in detail"
	case job == JobReport:
		return "the report did not ask Alma about returned lost items"
	case job == JobLostReturns:
		return "lost items returned wait in the queue, none is lost"
	}
	return "the " + job + " job stopped"
}

// nextMidnight is the first midnight in loc after t.
func nextMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// DailyQuotaError is Alma's daily quota spent (429 DAILY_THRESHOLD): no
// call reaches Alma until Until, midnight in Alma's zone.
type DailyQuotaError struct {
	Until time.Time // zero when the adapter does not know; the jobs fill it in
	Err   error     // the failed call, if any
}

// Error says that the quota is spent, and until when.
func (e *DailyQuotaError) Error() string {
	s := "Alma's daily API quota is spent (429 DAILY_THRESHOLD): no call to Alma"
	if !e.Until.IsZero() {
		s += " until " + e.Until.Format("Mon 2 Jan 15:04 MST")
	}
	return s
}

// Unwrap returns the failed call.
func (e *DailyQuotaError) Unwrap() error { return e.Err }

// DeferredError is work that can wait, deferred because what is left of
// Alma's daily quota is below the reserve kept for the work that cannot.
type DeferredError struct {
	Job                string
	Remaining, Reserve int64
}

// Error says what is left, the reserve, and what waits.
func (e *DeferredError) Error() string {
	return fmt.Sprintf("Alma's daily quota is low (%d calls left, reserve %d): %s defers the calls that can wait",
		e.Remaining, e.Reserve, e.Job)
}

// IsQuota reports whether err is Alma's daily quota: spent
// (*DailyQuotaError) or below the reserve (*DeferredError). A run that
// ends on it did not fail: its work waits for the quota.
func IsQuota(err error) bool {
	var q *DailyQuotaError
	var d *DeferredError
	return errors.As(err, &q) || errors.As(err, &d)
}

// quotaErr returns err as a *DailyQuotaError when it is Alma's daily
// quota, noted for job: the one err holds, or one made around err; else
// err. The *DailyQuotaError itself is returned, not err wrapping it, so
// that its words lead and say until when (a wrapping error's text was
// made before Stopped knew).
func (j *Jobs) quotaErr(ctx context.Context, job string, err error) error {
	if q := j.opts.Quota.Stopped(ctx, job, err); q != nil {
		return q
	}
	return err
}

// quotaStopped reports whether err is Alma's daily quota, noted for job,
// and sets *q to it.
func (j *Jobs) quotaStopped(ctx context.Context, job string, err error, q **DailyQuotaError) bool {
	*q = j.opts.Quota.Stopped(ctx, job, err)
	if *q != nil && (*q).Until.IsZero() {
		(*q).Until = nextMidnight(j.opts.Now(), time.Local)
	}
	return *q != nil
}
