package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// Options are what [Open] takes from the program rather than from the
// config: the environment, the clock, the logger, and the parts a program
// brings itself (a simulation's drops and Alma client). The zero value is
// usable: the process's environment and clock, no logging, every part
// opened from the config.
type Options struct {
	// Getenv reads the secrets' variables; os.Getenv when nil.
	Getenv func(string) string
	// Now is the clock of the journal and the jobs; time.Now when nil.
	Now func() time.Time
	// Logger receives the logs of the drops, the Alma client and the
	// jobs; nil discards them.
	Logger *slog.Logger
	// DryRun makes the jobs decide and report without writing anything.
	DryRun bool
	// QuietAfter is reconcile.Options.QuietAfter: 0 is the jobs' default,
	// negative makes the reconciliation ask about every student.
	QuietAfter time.Duration
	// TempDir holds the files being built (os.TempDir() when empty).
	TempDir string
	// Sleep is reconcile.Options.Sleep: how a run waits for the files it
	// saw first to settle; nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// Library and Bursar, when set, are used instead of opening the
	// config's library and peoplesoft drops; Open does not close them.
	Library, Bursar *transport.Drop
	// NoAlma leaves the Alma API out, so that the API key is not needed:
	// the jobs that need Alma (lost returns, reconcile) are then not
	// expected to run, and the report leaves out what it asks Alma.
	NoAlma bool
	// Jobs are the jobs (reconcile.JobCharges, …) the program will run:
	// Open fails, with an error that names every part missing for each,
	// unless all of them have what they need. None means every job,
	// except with NoAlma those that need Alma.
	Jobs []string
	// AlmaClient, when set, is used instead of building a client from the
	// config's [alma] section and the API key; Open does not close it.
	AlmaClient *alma.Client
	// AlmaObserve, when set, sees each HTTP attempt of the Alma client
	// that Open builds (not of AlmaClient), after the run's tally: see
	// ObserveAlma. Metrics.
	AlmaObserve func(ctx context.Context, c alma.Call)
	// CreateJournal makes Open create the journal when its file is
	// missing or empty. Without it, Open refuses to start on a missing or
	// empty journal, with an error that wraps reconcile.ErrNoJournal and
	// names the path: a journal lost must not silently become a new one
	// (which would publish everything again). A program that starts a new
	// site makes its journal with reconcile.CreateJournal (feesync init).
	CreateJournal bool
	// FaultHook, when set, is called at the jobs' named steps
	// (reconcile.WithFaultHook): crash tests and simulations.
	FaultHook func(step string) error
	// EventWorkers is reconcile.Options.EventWorkers: how many students'
	// webhook events are handled at once; 0 is the jobs' default.
	EventWorkers int

	// adapt, when set, changes the adapters before the jobs are built
	// (the conversions count the records read).
	adapt func(*reconcile.Deps)
	// quota is the gate Open builds; the Alma client feeds it.
	quota *reconcile.QuotaGate
}

// Setup is the jobs of a config, and what was opened for them.
type Setup struct {
	// Jobs are the jobs, over Journal and the drops.
	Jobs *reconcile.Jobs
	// Journal is the journal the jobs decide with.
	Journal *reconcile.Journal
	// Library and Bursar are the two drops.
	Library, Bursar *transport.Drop
	// Mailer sends the daily report and the alerts to MailTo; nil when
	// the config has no [mail] section.
	Mailer reconcile.Mailer
	MailTo []string
	// Quota is the gate on Alma's daily quota (alma.daily_reserve,
	// alma.time_zone) that the jobs share: the status page and the
	// metrics read it.
	Quota *reconcile.QuotaGate

	closers []func() error
}

// Close closes what Open opened (the journal, the drops it opened), in
// reverse order, and returns the errors joined. It is safe to call more
// than once.
func (s *Setup) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

func (s *Setup) onClose(f func() error) { s.closers = append(s.closers, f) }

// WebhookCallback is the callback for alma.NewWebhookHandler: loan
// returns are journaled as pending events of s.Jobs, handled from the
// journal by s.Jobs.RunEvents (almaport.WebhookCallback).
func (s *Setup) WebhookCallback() func(ctx context.Context, ev alma.Event) error {
	return almaport.WebhookCallback(s.Jobs)
}

// Open opens what the config names and returns the jobs over it: the
// journal, the library and PeopleSoft drops (a folder, an FTP or FTPS
// server whose password it reads from the environment, or an SFTP server
// whose key or password it reads so), the file formats
// in the configured layouts, mapping and time zone, and the Alma REST
// client (unless opts.NoAlma; it needs the API key). opts may be nil. The
// config is validated first; drops given in opts need not be configured.
// Last, the jobs of opts.Jobs are checked ([reconcile.Jobs.Check]): a job
// that lacks a part fails here, naming every part missing, rather than
// when it runs. On error, what was opened is closed.
func Open(ctx context.Context, cfg *Config, opts *Options) (*Setup, error) {
	o := *withDefaults(opts)
	if err := cfg.checkValues(); err != nil {
		return nil, err
	}
	if err := cfg.checkComplete(o.Library != nil, o.Bursar != nil); err != nil {
		return nil, err
	}
	s := &Setup{}
	if err := s.open(ctx, cfg, &o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// withDefaults returns a copy of opts (which may be nil) with the
// environment, the clock and a silent logger filled in.
func withDefaults(opts *Options) *Options {
	if opts == nil {
		opts = &Options{}
	}
	o := *opts
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &o
}

func (s *Setup) open(ctx context.Context, c *Config, o *Options) error {
	journal, err := reconcile.OpenJournal(ctx, c.Journal, &reconcile.JournalOptions{Now: o.Now, MustExist: !o.CreateJournal, Getenv: o.Getenv})
	if errors.Is(err, reconcile.ErrNoJournal) {
		return fmt.Errorf("%w; nothing was run: for a new site, create the journal with `feesync init`; "+
			"if the journal was lost, restore the last backup in its place (README: Backing up and restoring the journal)", err)
	}
	if err != nil {
		return err // the journal's errors name its path
	}
	s.onClose(journal.Close)
	s.Journal = journal
	if s.Library = o.Library; s.Library == nil {
		if s.Library, err = s.openDrop(ctx, c, o, "library", c.Library.DropConfig); err != nil {
			return err
		}
	}
	if s.Bursar = o.Bursar; s.Bursar == nil {
		if s.Bursar, err = s.openDrop(ctx, c, o, "peoplesoft", c.PeopleSoft.DropConfig); err != nil {
			return err
		}
	}
	deps := reconcile.Deps{Journal: journal, Library: s.Library, Bursar: s.Bursar}
	if err := c.adapters(&deps); err != nil {
		return err
	}
	if o.adapt != nil {
		o.adapt(&deps)
	}
	s.Quota = reconcile.NewQuotaGate(reconcile.QuotaOptions{Reserve: c.DailyReserve(), Location: c.AlmaLocation(),
		Now: o.Now, Logger: o.Logger, Memory: journal})
	o.quota = s.Quota
	if !o.NoAlma {
		if deps.Alma, err = c.almaAPI(o); err != nil {
			return err
		}
	}
	jopts := c.jobOptions(o)
	jopts.Quota = s.Quota
	if c.Mail != nil {
		mailer, err := c.Mailer(o.Getenv)
		if err != nil {
			return err
		}
		s.Mailer, s.MailTo = mailer, c.Mail.To
		jopts.Mailer, jopts.MailTo = mailer, c.Mail.To
	}
	if s.Jobs, err = reconcile.New(deps, jopts); err != nil {
		return err
	}
	return s.Jobs.Check(c.checkedJobs(o)...)
}

// checkedJobs are the jobs Open checks: those of o, with the results job
// only when peoplesoft.results_folder is set (without it the results
// are not read, and the job has no parts).
func (c *Config) checkedJobs(o *Options) []string {
	jobs := o.jobs()
	if jobs == nil {
		jobs = append(slices.Clone(withoutAlma), reconcile.JobLostReturns, reconcile.JobReconcile)
	}
	if c.PeopleSoft.ResultsFolder != "" && len(o.Jobs) == 0 {
		jobs = append(slices.Clone(jobs), reconcile.JobResults)
	}
	return jobs
}

// withoutAlma are the jobs that run without the Alma API.
var withoutAlma = []string{
	reconcile.JobCharges, reconcile.JobCredits, reconcile.JobPayments, reconcile.JobReport,
	reconcile.JobRedriveCharges, reconcile.JobRedriveCredits, reconcile.JobRedrivePayment,
}

// jobs are the jobs Open checks (none for every job; see Options.Jobs).
func (o *Options) jobs() []string {
	switch {
	case len(o.Jobs) > 0:
		return o.Jobs
	case o.NoAlma:
		return withoutAlma
	}
	return nil
}

// jobOptions are the jobs' options for the config and opts.
func (c *Config) jobOptions(o *Options) *reconcile.Options {
	lost := make([]fees.Type, len(c.Waive.Types))
	for i, t := range c.Waive.Types {
		lost[i] = fees.Type(t)
	}
	opts := reconcile.Options{
		Now:            o.Now,
		Logger:         o.Logger,
		ShowStudentIDs: c.Log.ShowStudentIDs,
		DryRun:         o.DryRun,
		TempDir:        o.TempDir,
		Folders: reconcile.Folders{
			Exports:  c.Library.ExportFolder,
			Credits:  c.Library.CreditFolder,
			Imports:  c.Library.ImportFolder,
			Charges:  c.PeopleSoft.InboundFolder,
			Payments: c.PeopleSoft.OutboundFolder,
			Results:  c.PeopleSoft.ResultsFolder,
			Reports:  c.Report.Folder,

			ImportsTaken: c.Library.ImportTakenFolder,
			ChargesTaken: c.PeopleSoft.InboundTakenFolder,
		},
		SeparateCollegeFiles: c.PeopleSoft.SeparateFiles,
		WaiveReason:          c.Waive.Reason,
		WaiveComment:         c.Waive.Comment,
		LostTypes:            lost,
		Refunds:              c.RefundPolicies(),
		AlmaWorkers:          c.Alma.Workers,
		QuietAfter:           o.QuietAfter,
		LibraryClaim:         claimRule(c.Library.DropConfig),
		BursarClaim:          claimRule(c.PeopleSoft.DropConfig),
		Sleep:                o.Sleep,
		ExpectFilesWithin: map[string]time.Duration{
			reconcile.JobCharges:  c.ExpectFilesWithin.Charges.D(),
			reconcile.JobCredits:  c.ExpectFilesWithin.Credits.D(),
			reconcile.JobPayments: c.ExpectFilesWithin.Payments.D(),
		},
		EventWorkers: o.EventWorkers,

		ExportJob:       c.Alma.ExportJob,
		CreditExportJob: c.Alma.CreditExportJob,
		FileJobID:       almaport.FileJobID,
	}
	if o.FaultHook != nil {
		opts = reconcile.WithFaultHook(opts, o.FaultHook)
	}
	return &opts
}

// adapters fills deps with the file formats: Alma's export and import,
// PeopleSoft's charge and payment files, in the configured layouts,
// mapping and time zone.
func (c *Config) adapters(deps *reconcile.Deps) error {
	charges, err := c.ChargeLayout()
	if err != nil {
		return err
	}
	payments, err := c.PaymentLayout()
	if err != nil {
		return err
	}
	deps.Export = almaport.ExportFormat{Options: &alma.DecoderOptions{Location: c.Location()}}
	mapping := c.Mapping()
	deps.Charges = psport.ChargeFormat{Mapping: mapping, Layout: charges}
	// The same mapping reads each payment's ITEM_TYPE back to the fee
	// type, so that a payment finds its charge by charge key.
	deps.Payments = psport.PaymentFormat{Layout: payments, Mapping: &mapping,
		Options: &peoplesoft.DecodeOptions{MaxBytes: c.MaxPaymentFileBytes(), Currency: c.cur}}
	deps.Import = almaport.ImportFormat{Options: &alma.EncoderOptions{Location: c.Location()}}
	if c.PeopleSoft.ResultsFolder != "" {
		results, err := c.ResultLayout()
		if err != nil {
			return err
		}
		deps.Results = psport.ResultFormat{Layout: results, Mapping: &mapping,
			Options: &peoplesoft.DecodeOptions{MaxBytes: c.MaxPaymentFileBytes(), Currency: c.cur}}
	}
	return nil
}

// almaAPI is the Alma REST client, as the jobs use it: opts.AlmaClient, or
// one built from the config and the API key.
func (c *Config) almaAPI(o *Options) (reconcile.AlmaAPI, error) {
	client, err := c.almaClient(o)
	if err != nil {
		return nil, err
	}
	if o.quota != nil {
		o.quota.SetSource(client)
	}
	return almaport.AlmaAPI{Client: client, FeesReport: c.Alma.FeesReport, Location: c.Location(), Currency: c.cur}, nil
}

// almaClient is opts.AlmaClient, or a client built from the config and
// the API key.
func (c *Config) almaClient(o *Options) (*alma.Client, error) {
	if o.AlmaClient != nil {
		return o.AlmaClient, nil
	}
	key, err := c.AlmaKey().Load(o.Getenv)
	if err != nil {
		return nil, err
	}
	base := c.Alma.BaseURL
	if base == "" {
		if base, err = alma.RegionURL(c.Alma.Region); err != nil {
			return nil, fmt.Errorf("alma.region: %w", err)
		}
	} else {
		base = base + "/almaws/v1"
	}
	client, err := alma.NewClient(base, key.Reveal(), &alma.ClientOptions{
		Timeout:       c.Alma.Timeout.D(),
		RatePerSecond: float64(c.Alma.RatePerSecond),
		Currency:      c.cur,
		Logger:        o.Logger,
		Now:           o.Now,
		Observe:       o.observeAlma(),
		Location:      c.AlmaLocation(),
	})
	if err != nil {
		return nil, fmt.Errorf("alma: %w", err)
	}
	return client, nil
}

// openDrop opens the drop that d describes; key names it in errors and in
// the secret's message. The drop is closed by s.Close.
func (s *Setup) openDrop(ctx context.Context, c *Config, o *Options, key string, d DropConfig) (*transport.Drop, error) {
	log := o.Logger.With("drop", key)
	dopts := &transport.DropOptions{Logger: log}
	var (
		drop *transport.Drop
		err  error
	)
	switch d.Type {
	case "dir":
		drop, err = localdrop.Open(d.Path, &localdrop.Options{Drop: dopts})
	case "ftp":
		pw, perr := d.password(key).Load(o.Getenv)
		if perr != nil {
			return nil, perr
		}
		mode := map[string]ftpdrop.TLSMode{"none": ftpdrop.TLSNone, "explicit": ftpdrop.TLSExplicit, "implicit": ftpdrop.TLSImplicit}[d.TLS]
		if mode == ftpdrop.TLSNone {
			o.Logger.Warn("plain FTP: the password and the files cross the network in clear; set tls = \"explicit\" if the server can", "drop", key, "address", d.Address)
		}
		drop, err = ftpdrop.Open(ctx, ftpdrop.Config{
			Addr: d.Address, User: d.User, Password: pw.Reveal(), TLS: mode, Root: d.Root,
			IOTimeout: d.Timeout.D(), Location: c.Location(), Logger: log, Drop: dopts,
		})
	case "sftp":
		if drop, err = openSFTP(ctx, o, key, d, log, dopts); err != nil {
			return nil, err // it names the key
		}
	default:
		return nil, fmt.Errorf("%s: no drop configured", key)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dropKey(key, err), err)
	}
	s.onClose(drop.Close)
	return drop, nil
}

// dropKey names the setting of drop key that err is about, when the FTP
// driver knows its cause.
func dropKey(key string, err error) string {
	switch {
	case errors.Is(err, ftpdrop.ErrLoginRefused):
		return key + ".user/password"
	case errors.Is(err, ftpdrop.ErrTLSMismatch):
		return key + ".tls"
	case errors.Is(err, ftpdrop.ErrNoRoot):
		return key + ".root"
	}
	return key
}
