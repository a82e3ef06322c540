package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport"
)

// Deps are the parts of [Jobs]. Each job needs some of them (see
// [Deps.Check]); [New] builds the jobs whose parts are all there, and a
// job built without its parts returns, when it is run, the error that
// names them all. [Jobs.Check] reports them when the jobs are built.
type Deps struct {
	// Journal is the durable memory of the jobs, required: a
	// *journal.Journal (SQLite, or in memory) or another Store.
	Journal Store
	// Library is the library's file drop (the FTP server Alma exports to
	// and imports from).
	Library *transport.Drop
	// Bursar is the bursar's file drop (PeopleSoft's inbound and outbound
	// folders).
	Bursar *transport.Drop

	Export   ExportFormat  // Alma's bursar export, for the charges and credits jobs
	Charges  ChargeFormat  // the bursar's charge file, for the charges and credits jobs
	Payments PaymentFormat // the bursar's payment file, for the payments job
	Import   ImportFormat  // Alma's bursar import, for the payments job
	Results  ResultFormat  // the bursar's results of its loads, for the results job
	Alma     AlmaAPI       // for the lost-returns handler, the report and reconciliation

	// Reports is where the daily report is written (its Folders.Reports
	// folder); nil means Library.
	Reports *transport.Drop
}

// Folders says where each job reads and writes, relative to each drop's
// root. The zero value of a field takes the default shown.
type Folders struct {
	Exports  string // on Library: Alma's fee exports ("exports")
	Credits  string // on Library: Alma's credit/waiver exports ("credits")
	Imports  string // on Library: payment files for Alma to import ("imports")
	Charges  string // on Bursar: charge and credit files for PeopleSoft ("inbound")
	Payments string // on Bursar: PeopleSoft's payment files ("outbound")
	Results  string // on Bursar: the results of PeopleSoft's loads of charge files ("results")
	Reports  string // on Deps.Reports: the daily reports ("reports")

	// ChargesTaken, on Bursar, is where PeopleSoft moves the charge and
	// credit files it loaded, under the same name (its loaded/ folder);
	// ImportsTaken, on Library, is where Alma's import moves the payment
	// files it took. Empty (the default): the consumer leaves them or
	// deletes them. A rerun after a crash between a put and its journal
	// entry looks there before putting an output again (README, "Exactly
	// once, drop by drop").
	ChargesTaken, ImportsTaken string
}

func (f Folders) withDefaults() Folders {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&f.Exports, "exports")
	def(&f.Credits, "credits")
	def(&f.Imports, "imports")
	def(&f.Charges, "inbound")
	def(&f.Payments, "outbound")
	def(&f.Results, "results")
	def(&f.Reports, "reports")
	return f
}

// Options are the optional settings of [Jobs]. The zero value is usable.
type Options struct {
	Now    func() time.Time // the clock; time.Now when nil
	Logger *slog.Logger     // discards when nil
	// ShowStudentIDs turns off the masking of student ids in logs.
	ShowStudentIDs bool
	// DryRun makes every job decide and report without writing anything:
	// no file is claimed, moved or published, no API call changes Alma,
	// and the journal is left as it was.
	DryRun  bool
	Folders Folders
	// ChargePrefix starts the names of the charge files written to the
	// bursar ("feebridge-charges-"); CreditPrefix those of credit files
	// ("feebridge-credits-"). The rest of the name comes from the input
	// file's SHA-256, so that a rerun writes the same name.
	ChargePrefix, CreditPrefix string
	// ChargeExt is the extension of those files (".dat").
	ChargeExt string
	// SeparateCollegeFiles makes the charges and credits jobs write one
	// charge file per college of the lines of an input (ChargeLine.Part),
	// each with its own header and trailer, named with the part before
	// the extension (feebridge-charges-0123456789abcdef-ARC01.dat); lines
	// of no college go in the file without a part. Off: one file.
	SeparateCollegeFiles bool
	// WaiveReason is the waive reason code used for returned lost items
	// ("LOST_ITEM_FOUND"); WaiveComment its comment.
	WaiveReason, WaiveComment string
	// LostTypes are the fee types waived when a lost item comes back
	// (LOSTITEMREPLACEMENTFEE and LOSTITEMPROCESSFEE).
	LostTypes []fees.Type
	// Refunds is the refund policy by fee type (R8, see refunds.go): a
	// type left out, or with no Action, is RefundReport.
	Refunds map[fees.Type]RefundPolicy
	// PaymentDelay is how long a forwarded payment may take to show in
	// Alma before the report lists it (3 hours).
	PaymentDelay time.Duration
	// LockTTL is the lease of a job's lock (1 minute): a run renews it
	// every LockTTL/3 while it lasts, and a run killed without releasing
	// it is taken over once it expires.
	LockTTL time.Duration
	// TempDir holds the files being built before they are published
	// (os.TempDir()). It must be on this host: a run removes the files
	// that a process of this host killed in the middle left there.
	TempDir string
	// Mailer and MailTo, when set, send the daily report.
	Mailer Mailer
	MailTo []string
	// AlmaWorkers is how many students the reconciliation and the daily
	// report ask Alma about at once (4). The Alma client's rate limit
	// still bounds the calls; more workers hide each call's latency.
	AlmaWorkers int
	// QuietAfter bounds the students the reconciliation (and the report,
	// when it has no Alma report of returned lost items) asks Alma about:
	// those the bursar still holds something of, per the journal, and
	// those whose charges, or a payment, credit or waiver of them,
	// changed in the last QuietAfter (30 days). A student settled and
	// quiet for longer agreed when last asked; asking about every student
	// ever charged, every night, would make the calls grow with the
	// journal's age. Negative asks about every student.
	QuietAfter time.Duration
	// LibraryClaim says when a file of Alma's export and credit folders
	// is complete enough to be claimed; BursarClaim the same for
	// PeopleSoft's payment folder. The zero value claims every file at
	// once (see [ClaimRule]).
	LibraryClaim, BursarClaim ClaimRule
	// Sleep waits d, or until ctx is done, while a run waits for the
	// files it saw first to settle; nil waits on a timer. A simulation or
	// a test passes one that moves its clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// ExpectFilesWithin, by job (JobCharges, JobCredits, JobPayments), is
	// how long the job's inbound folder may go without a new file before
	// a run logs a warning and the daily report lists it (see
	// report_quiet.go). A job left out, or zero, is not watched.
	ExpectFilesWithin map[string]time.Duration

	// EventWorkers is how many students' webhook events are handled at
	// once (AlmaWorkers); one student's are handled one at a time.
	EventWorkers int
	// EventBackoff is the wait before the second attempt at a webhook
	// event whose first failed (1 minute); it doubles at each attempt up
	// to EventMaxBackoff (1 hour). EventGiveUp is how long after it was
	// received an event is retried before it fails for good (72 hours,
	// long enough for Alma's planned maintenance over a weekend).
	EventBackoff, EventMaxBackoff, EventGiveUp time.Duration
	// EventPoll is how often Jobs.RunEvents looks at the journal for
	// events it was not woken for (5 minutes).
	EventPoll time.Duration
	// Quota, when set, defers the work that can wait while Alma's daily
	// quota is below its reserve, and stops the jobs' calls to Alma while
	// the quota is spent (see quota.go). Nil: no gate.
	Quota *QuotaGate

	// ExportJob and CreditExportJob name Alma's export to bursar and
	// export of credits (their job name, or their job id) whose JOB_END
	// starts the charges and the credits job at once and whose counts
	// are checked against the file (see jobends.go); "" follows none.
	ExportJob, CreditExportJob string
	// FileJobID returns the job instance id and the time that the name
	// of an export file carries (Alma's <profile>-<id>-<millis>.xml), or
	// "" when the name is not of that form; nil reads no name.
	FileJobID func(name string) (id string, at time.Time)

	faultHook func(step string) error
}

// Steps at which a fault can be injected with [WithFaultHook], in order.
const (
	StepDecide  = "decide"  // records decided, before the journal commit
	StepPublish = "publish" // decision committed, before the output is put
	StepCommit  = "commit"  // output put, before the journal marks it published
	StepDone    = "done"    // marked published, before the source moves to done/
	StepWaive   = "waive"   // lost-returns: before each waiver call
	StepBlocks  = "blocks"  // lost-returns: before the blocks are removed
)

// WithFaultHook returns opts with a hook that the jobs call before each
// named step (the Step… constants); a non-nil error stops the run there,
// as a crash would. It is meant for crash tests.
func WithFaultHook(opts Options, hook func(step string) error) Options {
	opts.faultHook = hook
	return opts
}

// Jobs runs the sync jobs: [Jobs.Charges], [Jobs.Payments],
// [Jobs.Credits], [Jobs.Results], the lost returns ([Jobs.ReceiveEvent],
// [Jobs.HandleEvents]), [Jobs.Report], [Jobs.Reconcile] and
// [Jobs.Redrive].
type Jobs struct {
	deps    Deps
	opts    Options
	log     *slog.Logger
	run     *runner
	missing map[string]error // by job: the error naming the parts it lacks

	returns   keyedMutex    // one lost return of a student at a time
	lostCover lostCoverage  // the fee types export files carry (lostfees.go)
	events    chan struct{} // wakes RunEvents: an event was journaled
	starts    chan string   // the jobs a JOB_END asks to start now
}

// New returns the jobs over deps. It fails if deps has no journal; a job
// whose other parts are missing fails when it is run, with the error that
// [Jobs.Check] returns for it as soon as the jobs are built.
func New(deps Deps, opts *Options) (*Jobs, error) {
	if deps.Journal == nil {
		return nil, errors.New("reconcile: a journal is required")
	}
	o := withDefaults(opts)
	j := &Jobs{deps: deps, opts: o, log: o.Logger, missing: map[string]error{}, events: make(chan struct{}, 1),
		starts: make(chan string, 4)}
	j.run = &runner{store: deps.Journal, opts: &j.opts, log: o.Logger}
	j.run.guard = j.guardMarks
	for _, job := range jobNames {
		if err := deps.Check(job); err != nil {
			j.missing[job] = err
		}
	}
	return j, nil
}

// The jobs, by the names [Deps.Check] and [Jobs.Check] take.
const (
	JobCharges        = "charges"
	JobCredits        = "credits"
	JobPayments       = "payments"
	JobResults        = "results"
	JobLostReturns    = "lost-returns"
	JobReport         = "report"
	JobReconcile      = "reconcile"
	JobRedriveCharges = "redrive-" + KindCharge
	JobRedriveCredits = "redrive-" + KindCredit
	JobRedrivePayment = "redrive-" + KindPayment
)

var jobNames = []string{JobCharges, JobCredits, JobPayments, JobResults, JobLostReturns, JobReport, JobReconcile,
	JobRedriveCharges, JobRedriveCredits, JobRedrivePayment}

// Check returns nil if deps has every part the job (one of the Job…
// constants) needs, else an error that names each part missing.
func (deps Deps) Check(job string) error {
	var missing []string
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	need(deps.Journal != nil, "Journal")
	switch job {
	case JobCharges, JobCredits:
		need(deps.Library != nil, "Library")
		need(deps.Bursar != nil, "Bursar")
		need(deps.Export != nil, "Export")
		need(deps.Charges != nil, "Charges")
	case JobRedriveCharges, JobRedriveCredits:
		need(deps.Bursar != nil, "Bursar")
		need(deps.Export != nil, "Export")
		need(deps.Charges != nil, "Charges")
	case JobPayments:
		need(deps.Bursar != nil, "Bursar")
		fallthrough
	case JobRedrivePayment:
		need(deps.Library != nil, "Library")
		need(deps.Payments != nil, "Payments")
		need(deps.Import != nil, "Import")
	case JobResults:
		need(deps.Bursar != nil, "Bursar")
		need(deps.Results != nil, "Results")
	case JobLostReturns, JobReconcile:
		need(deps.Alma != nil, "Alma")
	case JobReport:
	default:
		return fmt.Errorf("reconcile: no job %q", job)
	}
	if len(missing) > 0 {
		return fmt.Errorf("reconcile: %s: missing %s", job, strings.Join(missing, ", "))
	}
	return nil
}

// Check returns nil if every job named (every job when none is) has its
// parts, else an error that names, per job, each part missing. A program
// calls it at start-up for the jobs it will run.
func (j *Jobs) Check(jobs ...string) error {
	if len(jobs) == 0 {
		jobs = jobNames
	}
	var errs []error
	for _, job := range jobs {
		if err, ok := j.missing[job]; ok {
			errs = append(errs, err)
		} else if !slices.Contains(jobNames, job) {
			errs = append(errs, fmt.Errorf("reconcile: no job %q", job))
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns a copy of opts (nil for none) with the zero
// settings given their defaults.
func withDefaults(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Folders = o.Folders.withDefaults()
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.ChargePrefix, "feebridge-charges-")
	def(&o.CreditPrefix, "feebridge-credits-")
	def(&o.ChargeExt, ".dat")
	def(&o.WaiveReason, "LOST_ITEM_FOUND")
	def(&o.WaiveComment, "Lost item was found")
	if len(o.LostTypes) == 0 {
		o.LostTypes = []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee}
	}
	if o.PaymentDelay == 0 {
		o.PaymentDelay = 3 * time.Hour
	}
	if o.LockTTL == 0 {
		o.LockTTL = time.Minute
	}
	if o.AlmaWorkers <= 0 {
		o.AlmaWorkers = 4
	}
	if o.QuietAfter == 0 {
		o.QuietAfter = 30 * 24 * time.Hour
	}
	if o.EventWorkers <= 0 {
		o.EventWorkers = o.AlmaWorkers
	}
	defDuration := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defDuration(&o.EventBackoff, time.Minute)
	defDuration(&o.EventMaxBackoff, time.Hour)
	defDuration(&o.EventGiveUp, 72*time.Hour)
	defDuration(&o.EventPoll, 5*time.Minute)
	return o
}

// Rejection is a record held back, with the reason.
type Rejection struct {
	File   string
	Line   int
	Kind   string
	Key    string
	Reason string
	Code   string // the fees error code of the refusal (fees.ErrorCode), when a rule of fees refused it
}

// FileFailure is an input file that could not be read and went to failed/.
type FileFailure struct {
	File   string
	Reason string
}

// RunResult is what one run of a file job did.
type RunResult struct {
	Files      int // input files handled (including duplicates)
	Duplicates int // input files whose content was already handled
	Records    int // records written to outputs
	Skipped    int // records already handled before (by key)
	// Confirmed counts the lines the bursar's load posted (the results
	// job); the lines it refused are in Rejected.
	Confirmed int
	Total     fees.Money // the signed total of the records written
	Outputs   []string   // the files published
	Rejected  []Rejection
	Failed    []FileFailure
	// Waiting are the files left in the inbound folder for a later run:
	// not yet complete (still changing, or without their marker), or
	// found changed after they were read (not trusted: nothing of them
	// was applied).
	Waiting []FileFailure
}

// Clean reports whether the run held nothing back: no rejected record and
// no failed file.
func (r RunResult) Clean() bool { return len(r.Rejected) == 0 && len(r.Failed) == 0 }

func (r *RunResult) add(o RunResult) {
	r.Files += o.Files
	r.Duplicates += o.Duplicates
	r.Records += o.Records
	r.Skipped += o.Skipped
	r.Confirmed += o.Confirmed
	r.Total = addMoney(r.Total, o.Total)
	r.Outputs = append(r.Outputs, o.Outputs...)
	r.Rejected = append(r.Rejected, o.Rejected...)
	r.Failed = append(r.Failed, o.Failed...)
	r.Waiting = append(r.Waiting, o.Waiting...)
}

// addMoney adds b to a, where the zero Money counts as nothing. Amounts in
// another currency than a's are not added (the jobs run in one currency).
func addMoney(a, b fees.Money) fees.Money {
	switch {
	case !b.Valid():
		return a
	case !a.Valid():
		return b
	}
	s, err := a.Add(b)
	if err != nil {
		return a
	}
	return s
}

// logID is a student id as the jobs log it: masked by fees.MaskID unless
// Options.ShowStudentIDs.
func (j *Jobs) logID(id string) string {
	if j.opts.ShowStudentIDs {
		return id
	}
	return fees.MaskID(id)
}
