package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// statusPage is the HTML page on / of `feesync serve`: the schedules, the
// last runs from the journal's run history (whoever started them), what
// is held, the webhooks' state, and a search by student or fee
// (/?student=ID, /?fee=ID). Every time is in the config's zone.
type statusPage struct {
	m       *Main
	jobs    *reconcile.Jobs
	started time.Time
	listen  string // the address bound, set before the listener serves
	// base is the page's path: "/", or /college/NAME/ in a deployment
	// of many institutions (serve -config-dir).
	base string
}

// newStatusPage returns the status page of serve, started at started.
func newStatusPage(m *Main, jobs *reconcile.Jobs, started time.Time) *statusPage {
	return &statusPage{m: m, jobs: jobs, started: started}
}

// The status page's bounds.
const (
	maxRunsShown = 30 // the newest runs listed
	maxHeldShown = 50 // the newest held records listed
)

// ServeHTTP answers / with the status page, or with the lookup of one
// student or fee when the query names one.
func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	student, fee := strings.TrimSpace(q.Get("student")), strings.TrimSpace(q.Get("fee"))
	var data *statusData
	if student != "" || fee != "" {
		data = p.lookup(r.Context(), student, fee)
	} else {
		data = p.status(r.Context())
	}
	data.Base = cmp.Or(p.base, "/")
	data.Token = q.Get("token") // carried by the form and the links, when the browser gave it so
	if data.Token != "" {
		data.TokenQuery = "token=" + url.QueryEscape(data.Token) + "&"
	}
	if err := statusTmpl.Execute(w, data); err != nil {
		p.m.logger.Warn("status page", "err", err.Error())
	}
}

// statusData is what the page's template shows.
type statusData struct {
	Now, Started string
	Zone         string
	Token        string // the token the browser gave in the query, for the form
	TokenQuery   string // "token=…&" or "", to start the links' queries
	Base         string // the page's path, for its forms and links

	Schedules []scheduleRow
	Runs      []runRow
	RunsErr   string

	HeldByKind []kindCount
	HeldTotal  int
	Held       []heldRow
	HeldErr    string

	Webhook webhookState
	Quota   quotaState // Alma's daily quota (statusquota.go)

	// The search: what was asked, and the answer.
	Student, Fee string
	Lookup       *lookupView
	LookupErr    string
	NotFound     string
}

type scheduleRow struct {
	Job, Spec, Next       string
	LastStart, LastResult string
	LastBad               bool
}

type runRow struct {
	Job, Start, Took, Outcome, Amount, Who, Error string
	Files, Records, Held                          int
	Bad                                           bool
}

type kindCount struct {
	Kind string
	N    int
}

type heldRow struct {
	Kind, Key, Student, Amount, Where, Reason, Age string
}

type webhookState struct {
	Listen, Path                    string
	Received, Pending, Done, Failed int
	Last                            string
	Err                             string
}

// status gathers the page: a part the journal cannot answer says why and
// leaves the others shown.
func (p *statusPage) status(ctx context.Context) *statusData {
	m := p.m
	loc := m.config.Location()
	now := m.Now().In(loc)
	d := &statusData{Now: when(now, loc), Started: when(p.started, loc), Zone: loc.String()}
	j := m.setup.Journal
	runs, err := j.Runs(ctx, "", maxRunsShown)
	if err != nil {
		d.RunsErr = err.Error()
	}
	for _, r := range runs {
		d.Runs = append(d.Runs, runRow{Job: r.Job, Start: when(r.Started, loc), Took: humanDuration(r.Ended.Sub(r.Started)),
			Outcome: r.Outcome, Files: r.Files, Records: r.Records, Held: r.Held, Amount: r.Amount, Who: r.Who,
			Error: r.Error, Bad: r.Outcome != journal.RunOK})
	}
	d.Schedules = p.scheduleRows(ctx, now)
	p.held(ctx, d, now)
	c := m.config
	d.Webhook = webhookState{Listen: cmp.Or(p.listen, c.Webhook.Listen), Path: c.Webhook.Path, Last: "-"}
	if ev, err := j.EventCounts(ctx); err != nil {
		d.Webhook.Err = err.Error()
	} else {
		d.Webhook.Received, d.Webhook.Pending, d.Webhook.Done, d.Webhook.Failed = ev.Received, ev.Pending, ev.Done, ev.Failed
		d.Webhook.Last = when(ev.Last, loc)
	}
	d.Quota = p.quota(ctx, now)
	return d
}

// scheduleRows lists each job with its schedule, its next run (from now,
// in the config's zone) and its last run per the journal.
func (p *statusPage) scheduleRows(ctx context.Context, now time.Time) []scheduleRow {
	loc := p.m.config.Location()
	var rows []scheduleRow
	for _, s := range p.m.schedules() {
		row := scheduleRow{Job: s.job, Spec: string(s.spec), Next: "not scheduled", LastStart: "never", LastResult: "-"}
		if s.spec != "" {
			if sched, err := config.CronParser().Parse(string(s.spec)); err == nil {
				row.Next = when(sched.Next(now), loc)
			}
		}
		last, err := p.m.setup.Journal.Runs(ctx, s.job, 1)
		switch {
		case err != nil:
			row.LastResult, row.LastBad = err.Error(), true
		case len(last) == 1:
			row.LastStart, row.LastResult = when(last[0].Started, loc), last[0].Outcome
			row.LastBad = last[0].Outcome != journal.RunOK
		}
		rows = append(rows, row)
	}
	return rows
}

// held fills in the records held: how many of each kind, and the newest,
// students masked unless the log shows them.
func (p *statusPage) held(ctx context.Context, d *statusData, now time.Time) {
	recs, err := p.jobs.ListHeld(ctx, "")
	if err != nil {
		d.HeldErr = err.Error()
		return
	}
	d.HeldTotal = len(recs)
	byKind := map[string]int{reconcile.KindCharge: 0, reconcile.KindCredit: 0, reconcile.KindPayment: 0}
	for _, r := range recs {
		byKind[r.Kind]++
	}
	for k, n := range byKind {
		d.HeldByKind = append(d.HeldByKind, kindCount{k, n})
	}
	sort.Slice(d.HeldByKind, func(i, j int) bool { return d.HeldByKind[i].Kind < d.HeldByKind[j].Kind })
	mask := !p.m.config.Log.ShowStudentIDs
	for i, r := range recs {
		if i == maxHeldShown {
			break
		}
		h := heldRow{Kind: r.Kind, Key: r.Key, Student: dash(maskIf(r.UserID, mask)), Amount: amountOf(r.Amount.Valid(), r.Amount.String()),
			Reason: r.Reason, Age: humanAge(now.Sub(r.Updated))}
		if r.File != "" {
			h.Where = fmt.Sprintf("%s line %d", r.File, r.Line)
		}
		d.Held = append(d.Held, h)
	}
}

// lookup answers a search: where the student or fee stands in Alma, the
// journal and at the bursar. The student id is shown whole: the operator
// typed it.
func (p *statusPage) lookup(ctx context.Context, student, fee string) *statusData {
	loc := p.m.config.Location()
	d := &statusData{Now: when(p.m.Now(), loc), Started: when(p.started, loc), Zone: loc.String(), Student: student, Fee: fee}
	var l reconcile.Lookup
	var err error
	if fee != "" {
		d.Student = ""
		l, err = p.jobs.LookupFee(ctx, fee)
	} else {
		l, err = p.jobs.LookupStudent(ctx, student)
	}
	switch {
	case err != nil:
		d.LookupErr = err.Error()
		return d
	case fee != "" && len(l.Records) == 0:
		d.NotFound = fmt.Sprintf("The journal knows no fee %q.", fee)
		return d
	case fee == "" && len(l.Records) == 0 && len(l.Alma) == 0 && len(l.Bursar) == 0:
		d.NotFound = fmt.Sprintf("Neither the journal nor Alma knows a fee of student %q.", student)
	}
	v := newLookupView(l, "", true, loc)
	d.Lookup = &v
	return d
}

//go:embed status.html
var statusHTML string

// statusTmpl is the status page: inline CSS, no script; its tables turn
// into stacked cards on a narrow screen.
var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{"label": label, "wrapCol": wrapCol}).Parse(statusHTML))

// label turns a column name of a lookupView ("FEE_ID") into a heading
// ("Fee id").
func label(col string) string {
	s := strings.ToLower(strings.ReplaceAll(col, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrapCol tells the columns of a lookupView whose long values may break
// anywhere (keys, file names, reasons), so that the table fits the page;
// the others break only between words.
func wrapCol(col string) bool {
	switch col {
	case "KEY", "FEE_ID", "FILE", "OUTPUT", "REASON":
		return true
	}
	return false
}

// when writes t in loc for people, with the zone's abbreviation: "Sat 5
// Dec 07:00 CET"; "-" when t is zero.
func when(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}

// humanDuration writes how long a run took for people: "5 ms", "2.3 s",
// "42 s", "4 min 10 s", "1 h 5 min", "2 d 3 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d d %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// requireToken lets a request through to next only with the token, given
// as "Authorization: Bearer TOKEN" or as ?token=TOKEN, compared in
// constant time; 401 otherwise. With no token (""), next is open.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.URL.Query().Get("token")
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = strings.TrimSpace(h)
		}
		sum := sha256.Sum256([]byte(got)) // same length whatever was given: no length leaks
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="feesync"`)
			http.Error(w, "unauthorized: give the status token (Authorization: Bearer TOKEN, or ?token=TOKEN)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
