package district

import (
	"context"
	crand "crypto/rand"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/localdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// The names the district gives to Alma's side and PeopleSoft's side.
const (
	// Profile is Alma's bursar integration profile.
	Profile = "BURSAR"
	// WaiveReason is the waive reason of returned lost items, the one
	// feesync's lost-returns handler is configured with.
	WaiveReason = "LOST_ITEM_FOUND"
	// WaiveComment is the comment of those waivers.
	WaiveComment = "Lost item was found"
	// WebhookPath is where the district's listener takes Alma's webhooks.
	WebhookPath = "/webhooks/alma"
)

// Feesync is feesync's side of the district: the jobs the district runs
// on their schedules during [District.Week], and the journal they keep,
// which the audit of the week reads. A *reconcile.Jobs over its journal
// is one ([Jobs]); the sandbox wraps its own to restart a job that a fault
// killed.
type Feesync interface {
	Charges(ctx context.Context) (reconcile.RunResult, error)
	Payments(ctx context.Context) (reconcile.RunResult, error)
	Credits(ctx context.Context) (reconcile.RunResult, error)
	Reconcile(ctx context.Context, bursar reconcile.BursarBalances) (reconcile.Reconciliation, error)
	Report(ctx context.Context) (reconcile.ReportResult, error)
	// HandleEvents handles the webhook events that the listener journaled
	// and that are due by the clock (reconcile.Jobs.HandleEvents). The
	// district calls it at defined points of its clock, right after Alma's
	// deliveries (each hour, and when a lost item comes back), never from
	// a goroutine of its own: the listener only journals, as feesync
	// serve's does, and what the events do happens at the same point of
	// the week in every run.
	HandleEvents(ctx context.Context) (reconcile.EventsResult, error)
	// Journal returns the journal of the jobs running now.
	Journal() *reconcile.Journal
	// Results reads PeopleSoft's load results (reconcile.Jobs.Results),
	// and Redrive sends again the records held of a kind
	// (reconcile.Jobs.Redrive): the district runs them when
	// Schedules.Results is set (refusals.go).
	Results(ctx context.Context) (reconcile.RunResult, error)
	Redrive(ctx context.Context, kind string) (reconcile.RunResult, error)
}

// Jobs returns jobs, over their journal j, as the district's Feesync.
func Jobs(jobs *reconcile.Jobs, j *reconcile.Journal) Feesync { return jobsOver{jobs, j} }

type jobsOver struct {
	*reconcile.Jobs
	j *reconcile.Journal
}

func (f jobsOver) Journal() *reconcile.Journal { return f.j }

// Schedules are feesync's cron schedules (standard five-field specs), at
// which [District.Week] runs its jobs among Alma's, PeopleSoft's and the
// people's.
type Schedules struct {
	Charges, Payments, Credits, Reconcile, Report string
	// Results is the schedule of feesync's results job. When set,
	// PeopleSoft writes the results of each load to peoplesoft/results/,
	// and a few students are unknown to it at first: their charges are
	// refused, and re-driven once the registrar adds them (refusals.go).
	Results string
}

// Options say what district to simulate. The zero value is a district
// of 200 students over 7 days from Monday 14 September 2026, seed 0,
// without faults, in a temporary folder.
type Options struct {
	// Dir is the district's folder: the library's FTP folder (library/),
	// PeopleSoft's folders (peoplesoft/) and a tmp/ folder for feesync
	// are made in it. Empty means a temporary folder removed by Close.
	Dir string
	// Students is the number of students (default 200).
	Students int
	// Days is the number of days Week plays (default 7).
	Days int
	// Seed draws every choice of the students and the staff, and the
	// faults: the same seed plays the same week.
	Seed int64
	// Start is the first day (its date; the time is ignored). Zero means
	// Monday 14 September 2026. The clock starts 40 days before, when the
	// students check their loans out.
	Start time.Time
	// Faults is the rate (0 to 1) of injected failures: FTP connections
	// cut and transfers ending early, Alma 429s, 5xx and calls without an
	// answer, the FTP server
	// restarted, and a fault hook that kills jobs at their steps
	// ([Faults.Kill]). Zero means none.
	Faults float64
	// Logger receives the log lines of the drops and of the webhook
	// listener. Nil means none.
	Logger *slog.Logger
	// Out receives the timeline of the week and its summary. Nil means
	// io.Discard.
	Out io.Writer
	// Webhook handles the events Alma delivers to the district's listener
	// (feesync serve's callback, almaport.WebhookCallback, which journals
	// each loan return for [Feesync.HandleEvents]). Nil means no
	// listener: Alma's deliveries fail until [almatest.Server.SetWebhook]
	// names another.
	Webhook func(ctx context.Context, ev alma.Event) error
	// JobEnd makes Alma send JOB_END when its export jobs end, delivered
	// at once, and run the feesync jobs the Feesync asks for then (see
	// [JobEndStarter]); without it feesync's jobs keep their schedules.
	JobEnd bool
	// SeededAPIKey lets the fake Alma derive its API key from Seed, as
	// almatest does by default, instead of a fresh random secret. The
	// derivation draws from the seed of Alma's faults, so a tool whose
	// figures were measured that way (examples/scale) keeps them.
	SeededAPIKey bool
	// Transport is the library's file server: TransportFTP ("", the
	// default) or TransportSFTP, an SFTP server whose host key feesync's
	// client pins. Faults then cut and stall SFTP connections.
	Transport string
	// Analytics, when set, makes the fake Alma serve the open fees
	// Analytics report (almatest.AnalyticsOptions), refreshed overnight.
	Analytics *almatest.AnalyticsOptions
	// Bursar is the student system the district runs: "peoplesoft" (""
	// the default), "banner" or "colleague" (peoplesoft.BuiltinBursar).
	// Its ledger reads and writes that system's built-in layouts; feesync
	// must be configured with the same bursar.
	Bursar string
	// BeforeTask, in tests, runs before each task of the week, named as
	// in the timeline ("charges", "ps-load", …): a way to lose a file on
	// purpose and see the week fail.
	BeforeTask func(ctx context.Context, task string) error
	// JobFailed, when set, is called with the error of a feesync job of
	// the week that failed (charges, payments, credits, results,
	// reconcile, report) and, when it returns nil, the week plays on, as
	// feesync serve logs a failed scheduled run and runs the job again at
	// its next time; the day's timeline notes the failure. Unset, a failed
	// job ends the week with its error.
	JobFailed func(ctx context.Context, job string, err error) error
}

// Secrets are the three secrets a real deployment keeps out of argv and
// logs: they are real, random and non-empty here too, so that a test can
// check that none of them reaches a log line.
type Secrets struct {
	APIKey, FTPPassword, Webhook string
}

// newSecrets draws the three secrets from the system's random source, as
// a district's administrator would: nothing in the output depends on them.
func newSecrets() Secrets {
	return Secrets{APIKey: "l7xx" + crand.Text(), FTPPassword: crand.Text(), Webhook: crand.Text()}
}

// District is one simulated district: Alma, the library's FTP server,
// PeopleSoft and the people, on one simulated clock. Open one, plug
// feesync's jobs in over [District.Library], [District.Bursar] and
// [District.Alma], then play the week with [District.Week] and print its
// summary with [District.Summary]; or drive it step by step, as a test
// does, with the scheduled jobs of Alma ([District.AlmaExport], …) and
// PeopleSoft ([District.PeopleSoft]).
type District struct {
	opt Options
	// mapping is the bursar's built-in mapping: its item types name the
	// ledger's items.
	mapping peoplesoft.Mapping
	out     io.Writer
	log     *slog.Logger
	clock   *almatest.ManualClock
	cur     fees.Currency
	rng     *rand.Rand // the students' and staff's choices
	faults  *Faults    // nil without faults

	alma     *almatest.Server
	ftp      *ftptest.Server
	almaSide *transport.Drop // Alma's own access to the library's folder
	library  *transport.Drop // feesync's access, over FTP
	bursar   *transport.Drop // PeopleSoft's inbound and outbound folders
	ledger   *PeopleSoft
	hook     *http.Server

	sftp *sftptest.Server // instead of ftp, with Options.Transport "sftp"

	secrets    Secrets
	webhookURL string
	closers    []func() error
	feesync    Feesync // the jobs of the week, which handle the journaled events
	linted     bool    // the first export was checked against the district's policy

	// The simulation's state and record.
	students []student
	loans    []*loan
	byCode   map[string]*loan // by item barcode
	reserved map[string]string
	plans    []*plan
	actions  []action             // today's payments and waivers
	credits  map[string]time.Time // waivers whose credit has not reached PeopleSoft yet
	refusals *refusals            // the students PeopleSoft does not know at first; nil: none
	stats    stats
	refunds  refundWeek // refunds.go
	today    *day
	days     []*day
}

// Open builds the district's world in opts.Dir and starts its servers on
// 127.0.0.1: the fake Alma over HTTP with fresh secrets, the library's FTP
// server, PeopleSoft's folders and ledger, and the webhook listener. The
// students and their loans are enrolled by Week (or by a test, through
// Alma). Close stops everything, also after an error.
func Open(ctx context.Context, opts *Options) (*District, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Students == 0 {
		o.Students = 200
	}
	if o.Days == 0 {
		o.Days = 7
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	}
	o.Start = time.Date(o.Start.Year(), o.Start.Month(), o.Start.Day(), 0, 0, 0, 0, time.UTC)
	var err error
	if o.Transport, err = transportName(o.Transport); err != nil {
		return nil, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &District{
		opt: o, out: o.Out, log: o.Logger, cur: fees.USD,
		clock:    almatest.NewManualClock(o.Start.AddDate(0, 0, -40)),
		rng:      rand.New(rand.NewPCG(uint64(o.Seed), 0x5a4d)),
		byCode:   map[string]*loan{},
		reserved: map[string]string{},
	}
	d.secrets = newSecrets()
	if o.Faults > 0 {
		d.faults = newFaults(o.Faults, o.Seed)
	}
	if d.opt.Dir == "" {
		dir, err := os.MkdirTemp("", "feebridge-district-")
		if err != nil {
			return nil, err
		}
		d.opt.Dir = dir
		d.onClose(func() error { return os.RemoveAll(dir) })
	}
	if err := d.open(ctx); err != nil {
		return d, errors.Join(err, d.Close())
	}
	return d, nil
}

func (d *District) onClose(fn func() error) { d.closers = append(d.closers, fn) }

// Close stops the servers and closes the drops, in the reverse order of
// their opening.
func (d *District) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	d.closers = nil
	return errors.Join(errs...)
}

func (d *District) open(ctx context.Context) error {
	dir := d.opt.Dir
	for _, sub := range []string{"library", "peoplesoft/inbound/loaded", "peoplesoft/outbound", "peoplesoft/results", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}

	// The webhook listener, so that Alma can be told where to deliver.
	var ln net.Listener
	if d.opt.Webhook != nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		d.webhookURL = "http://" + ln.Addr().String() + WebhookPath
	}

	// Alma, with its API key and webhook secret.
	almaFaults := almatest.Faults{PerSecond: -1} // a week of calls in seconds would break any per-second limit
	if d.faults != nil {
		almaFaults = d.faults.alma()
	}
	apiKey := d.secrets.APIKey
	if d.opt.SeededAPIKey {
		apiKey = ""
	}
	d.alma = almatest.NewServer(&almatest.Options{
		Clock: d.clock, Seed: d.opt.Seed, APIKey: apiKey, Currency: d.cur,
		WebhookURL: d.webhookURL, WebhookSecret: []byte(d.secrets.Webhook),
		Profiles: []almatest.ExportProfile{{Name: Profile}},
		Policy: almatest.LostPolicy{RefundRatios: map[fees.Type]fees.RefundRatio{
			fees.TypeLostItemReplacementFee: RefundRatio, fees.TypeLostItemProcessFee: RefundRatio}},
		// A fee added without an item belongs to the first college's
		// library, as Alma gives such a fee the library of the desk.
		Library: colleges[0].library,
		Faults:  almaFaults, WebhookEvents: d.opt.webhookEvents(), Analytics: d.opt.Analytics,
	})
	d.onClose(func() error { d.alma.Close(); return nil })
	d.secrets.APIKey = d.alma.APIKey()

	// Alma's own access to the library's folder, then its server.
	var err error
	fast := &localdrop.Options{NoSync: true}
	if d.almaSide, err = localdrop.Open(filepath.Join(dir, "library"), fast); err != nil {
		return err
	}
	d.onClose(d.almaSide.Close)
	for _, f := range []string{"exports", "credits", "imports", "reports"} {
		if err := d.almaSide.MkdirAll(ctx, f); err != nil {
			return err
		}
	}
	if d.opt.Transport == TransportSFTP {
		if err := d.openSFTP(ctx, filepath.Join(dir, "library")); err != nil {
			return err
		}
	} else if err := d.openFTP(ctx, filepath.Join(dir, "library")); err != nil {
		return err
	}

	// PeopleSoft's folders and ledger.
	if d.bursar, err = localdrop.Open(filepath.Join(dir, "peoplesoft"), &localdrop.Options{NoSync: true,
		Drop: &transport.DropOptions{Logger: d.log.With("drop", "peoplesoft")}}); err != nil {
		return err
	}
	d.onClose(d.bursar.Close)
	if err := d.openBursar(); err != nil {
		return err
	}

	// The webhook listener, as feesync serve mounts it.
	if ln != nil {
		mux := http.NewServeMux()
		mux.Handle(WebhookPath, alma.NewWebhookHandler([]byte(d.secrets.Webhook), d.opt.Webhook,
			&alma.WebhookOptions{Logger: d.log.With("system", "webhook")}))
		d.hook = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go d.hook.Serve(ln)
		d.onClose(func() error { return d.hook.Close() })
	}
	return nil
}

// openFTP starts the library's FTP server on dir and opens feesync's drop
// on it, through the faults when there are any.
func (d *District) openFTP(ctx context.Context, dir string) error {
	var err error
	d.ftp, err = ftptest.Start(dir, &ftptest.Options{User: "alma-bursar", Password: d.secrets.FTPPassword})
	if err != nil {
		return err
	}
	d.onClose(d.ftp.Close)
	cfg := d.ftp.Config()
	cfg.Logger = d.log.With("drop", "library")
	cfg.Drop = &transport.DropOptions{Logger: d.log.With("drop", "library"),
		Retry: &transport.Retry{Attempts: 8, Backoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Jitter: 0.5}}
	if d.faults != nil {
		d.library, err = d.faults.library(ctx, d.ftp, cfg)
		d.onClose(d.faults.close)
	} else {
		d.library, err = ftpdrop.Open(ctx, cfg)
	}
	if err != nil {
		return err
	}
	d.onClose(d.library.Close)
	return nil
}

// Dir is the district's folder.
func (d *District) Dir() string { return d.opt.Dir }

// Clock is the simulated clock that dates everything in the district.
func (d *District) Clock() *almatest.ManualClock { return d.clock }

// Currency is the currency of every amount.
func (d *District) Currency() fees.Currency { return d.cur }

// Alma is the fake Alma, for its REST API (URL, and the API key of
// [District.Secrets]) and for what staff and students do there.
func (d *District) Alma() *almatest.Server { return d.alma }

// FTP is the library's FTP server, nil when the library uses SFTP.
func (d *District) FTP() *ftptest.Server { return d.ftp }

// Library is feesync's access to the library's FTP folder, through the
// injected faults when there are any: exports/, credits/, imports/ and
// reports/.
func (d *District) Library() *transport.Drop { return d.library }

// Bursar is feesync's access to PeopleSoft's folders: inbound/ for the
// charge files, outbound/ for the payment files.
func (d *District) Bursar() *transport.Drop { return d.bursar }

// PeopleSoft is PeopleSoft's side: the simulated student ledger, its
// file load and its payment report.
func (d *District) PeopleSoft() *PeopleSoft { return d.ledger }

// Faults is the fault injection, nil without faults.
func (d *District) Faults() *Faults { return d.faults }

// Secrets are the district's secrets, drawn afresh at Open.
func (d *District) Secrets() Secrets { return d.secrets }

// WebhookURL is where Alma delivers its webhooks ("" without a listener).
func (d *District) WebhookURL() string { return d.webhookURL }

// SlowestCredit is the longest a waiver of a transferred fee took to reach
// PeopleSoft as a credit during the week (0 when none did).
func (d *District) SlowestCredit() time.Duration { return d.stats.creditDelay }

// Restarted tallies a job run that failed and was run again after
// feesync restarted; killed says the fault hook stopped it at a step.
func (d *District) Restarted(killed bool) {
	d.stats.restarts++
	if d.today != nil {
		d.today.restarts++
	}
	if killed {
		d.stats.kills++
	}
}

// deliver lets Alma deliver the webhook events that are due, to the
// listener that journals them, and then has feesync handle the journaled
// events that are due: both at this point of the clock, in this order.
func (d *District) deliver(ctx context.Context, f Feesync) (int, error) {
	n := d.alma.RunDue(ctx)
	if f == nil {
		return n, nil
	}
	res, err := f.HandleEvents(ctx)
	if d.today != nil {
		d.today.eventRetries += res.Retrying
		d.today.eventsFailed += res.Failed
	}
	return n, err
}
