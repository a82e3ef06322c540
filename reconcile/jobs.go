package reconcile

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport"
)

// Deps are the required parts of [Jobs]. A job whose parts are missing
// returns an error when it is run; the others work.
type Deps struct {
	Journal *Journal
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
	Reports  string // on Deps.Reports: the daily reports ("reports")
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
	// WaiveReason is the waive reason code used for returned lost items
	// ("LOST_ITEM_FOUND"); WaiveComment its comment.
	WaiveReason, WaiveComment string
	// LostTypes are the fee types waived when a lost item comes back
	// (LOSTITEMREPLACEMENTFEE and LOSTITEMPROCESSFEE).
	LostTypes []fees.Type
	// PaymentDelay is how long a forwarded payment may take to show in
	// Alma before the report lists it (3 hours).
	PaymentDelay time.Duration
	// LockTTL is the lease of a job's lock (1 hour).
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
// [Jobs.Credits], [Jobs.LoanReturned], [Jobs.Report], [Jobs.Reconcile] and
// [Jobs.Redrive].
type Jobs struct {
	deps Deps
	opts Options
	log  *slog.Logger

	returns keyedMutex // one lost return of a student at a time
}

// New returns the jobs over deps. It fails if deps has no journal.
func New(deps Deps, opts *Options) (*Jobs, error) {
	if deps.Journal == nil {
		return nil, errors.New("reconcile: a journal is required")
	}
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
	if o.ChargePrefix == "" {
		o.ChargePrefix = "feebridge-charges-"
	}
	if o.CreditPrefix == "" {
		o.CreditPrefix = "feebridge-credits-"
	}
	if o.ChargeExt == "" {
		o.ChargeExt = ".dat"
	}
	if o.WaiveReason == "" {
		o.WaiveReason = "LOST_ITEM_FOUND"
	}
	if o.WaiveComment == "" {
		o.WaiveComment = "Lost item was found"
	}
	if len(o.LostTypes) == 0 {
		o.LostTypes = []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee}
	}
	if o.PaymentDelay == 0 {
		o.PaymentDelay = 3 * time.Hour
	}
	if o.LockTTL == 0 {
		o.LockTTL = time.Hour
	}
	if o.AlmaWorkers <= 0 {
		o.AlmaWorkers = 4
	}
	if o.QuietAfter == 0 {
		o.QuietAfter = 30 * 24 * time.Hour
	}
	return &Jobs{deps: deps, opts: o, log: o.Logger}, nil
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
	Files      int        // input files handled (including duplicates)
	Duplicates int        // input files whose content was already handled
	Records    int        // records written to outputs
	Skipped    int        // records already handled before (by key)
	Total      fees.Money // the signed total of the records written
	Outputs    []string   // the files published
	Rejected   []Rejection
	Failed     []FileFailure
}

// Clean reports whether the run held nothing back: no rejected record and
// no failed file.
func (r RunResult) Clean() bool { return len(r.Rejected) == 0 && len(r.Failed) == 0 }

func (r *RunResult) add(o RunResult) {
	r.Files += o.Files
	r.Duplicates += o.Duplicates
	r.Records += o.Records
	r.Skipped += o.Skipped
	r.Total = addMoney(r.Total, o.Total)
	r.Outputs = append(r.Outputs, o.Outputs...)
	r.Rejected = append(r.Rejected, o.Rejected...)
	r.Failed = append(r.Failed, o.Failed...)
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

func (j *Jobs) hook(step string) error {
	if j.opts.faultHook == nil {
		return nil
	}
	if err := j.opts.faultHook(step); err != nil {
		return fmt.Errorf("reconcile: fault at step %s: %w", step, err)
	}
	return nil
}

// logID is a student id as the jobs log it: masked by fees.MaskID unless
// Options.ShowStudentIDs.
func (j *Jobs) logID(id string) string {
	if j.opts.ShowStudentIDs {
		return id
	}
	return fees.MaskID(id)
}

func (j *Jobs) lock(ctx context.Context, job string) (func(), error) {
	if j.opts.DryRun {
		return func() {}, nil
	}
	return j.deps.Journal.Lock(ctx, "job:"+job, j.opts.LockTTL)
}

// fileJob describes a job that turns each inbound file into at most one
// outbound file.
type fileJob struct {
	job     string
	in      *transport.Drop
	inDir   string
	out     *transport.Drop
	outDir  string
	outName func(sha string) string
	// decide reads src, journals each record through d and writes the
	// output to d.out. An error of type *fileError fails the file;
	// any other error stops the run.
	decide func(ctx context.Context, d *decision) error
	// input, when set, is kept in the file's row (re-drives).
	input string
}

// decision is the state of deciding one file.
type decision struct {
	tx     *cachedTx
	file   FileRecord
	src    io.Reader
	out    io.Writer
	output string // the output's name, deterministic from the input's content
	asOf   time.Time
	now    time.Time
	result RunResult
	ins    *sql.Stmt

	queue    []queued // records decided but not yet journaled, in order
	flushing bool
	batchSQL string
}

// queued is a record waiting for its batch insert, and what to do once it
// is known to belong in this file.
type queued struct {
	r     Record
	write func() error
}

// batchSize is how many records one INSERT journals.
const batchSize = 64

// batchInsert returns the statement that journals batchSize charges of
// this decision's file at once. The values the rows share are written into
// the statement as literals (constants, an integer, a time and the output
// name, quoted), and each row binds only its own eight values: SQLite's
// driver binds in time that grows with the number of parameters of a
// statement, so rows are kept lean.
func (d *decision) batchInsert() string {
	if d.batchSQL != "" {
		return d.batchSQL
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	row := fmt.Sprintf("(%s,%s,%d,'',%s,%s,?,?,?,?,?,?,?,?)", quote(KindCharge), quote(OutcomeCharged), d.file.ID,
		quote(formatTime(d.now)), quote(formatTime(d.now)))
	var b strings.Builder
	b.WriteString(`INSERT INTO records(kind, outcome, file_id, output, created_at, updated_at,
		key, user_id, fee_id, fee_type, barcode, amount, currency, line) VALUES `)
	for i := range batchSize {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT(kind, key) DO NOTHING RETURNING kind, key, line")
	d.batchSQL = b.String()
	return d.batchSQL
}

// enqueue journals r, a charge decided into this file's output, in the
// current batch; write runs, in order, once r is known to belong there.
func (d *decision) enqueue(ctx context.Context, r Record, write func() error) error {
	r.FileID, r.Output = d.file.ID, d.output
	d.queue = append(d.queue, queued{r, write})
	if len(d.queue) >= batchSize {
		return d.flush(ctx)
	}
	return nil
}

// flush journals the queued records in one statement and runs the writes
// of those that are new; the others go through claimKey, one by one.
func (d *decision) flush(ctx context.Context) error {
	if len(d.queue) == 0 {
		return nil
	}
	d.flushing = true
	defer func() { d.flushing = false; d.queue = d.queue[:0] }()
	inserted := make(map[[2]string]int, len(d.queue))
	if len(d.queue) == batchSize {
		args := make([]any, 0, 8*batchSize)
		for _, q := range d.queue {
			r := q.r
			amount, cur := minor(r.Amount)
			args = append(args, r.Key, r.UserID, r.FeeID, string(r.FeeType), r.Barcode, amount, cur, r.Line)
		}
		rows, err := d.tx.QueryContext(ctx, d.batchInsert(), args...)
		if err != nil {
			return fmt.Errorf("reconcile: journal: %w", err)
		}
		for rows.Next() {
			var kind, key string
			var line int
			if err := rows.Scan(&kind, &key, &line); err != nil {
				rows.Close()
				return fmt.Errorf("reconcile: journal: %w", err)
			}
			inserted[[2]string{kind, key}] = line
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("reconcile: journal: %w", err)
		}
	}
	for _, q := range d.queue {
		if line, ok := inserted[[2]string{q.r.Kind, q.r.Key}]; ok && line == q.r.Line {
			if err := q.write(); err != nil {
				return err
			}
			continue
		}
		ok, err := d.claimKey(ctx, q.r)
		if err != nil {
			return err
		}
		if ok {
			if err := q.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// lineKey is the key of a record held for its place in the file alone:
// an unreadable record, one without a key of its own, or one that repeats
// an earlier line.
func (d *decision) lineKey(line int) string { return d.file.SHA256[:16] + ":" + strconv.Itoa(line) }

// fileError marks a file that cannot be read at all.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

func (j *Jobs) runFiles(ctx context.Context, fj fileJob) (RunResult, error) {
	var res RunResult
	if fj.in == nil || fj.out == nil {
		return res, fmt.Errorf("reconcile: %s: the file drops are not configured", fj.job)
	}
	release, err := j.lock(ctx, fj.job)
	if err != nil {
		return res, err
	}
	defer release()
	j.removeStaleTemps(ctx)
	inbox := &transport.Inbox{Drop: fj.in, Dir: fj.inDir}
	pending, err := inbox.Pending(ctx)
	if transport.ErrorCode(err) == transport.NotFound {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	for _, fi := range pending {
		if fi.IsDir {
			continue
		}
		if err := transport.ValidName(fi.Name); err != nil || strings.Contains(fi.Name, "/") {
			// It cannot be claimed, moved or read; stopping here would
			// hold back every file after it, run after run.
			reason := fmt.Sprintf("the name %q cannot be used (%v); the file is left where it is: rename or remove it", fi.Name, err)
			j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: skipped an inbound file", slog.String("job", fj.job), slog.String("reason", reason))
			res.Files++
			res.Failed = append(res.Failed, FileFailure{File: strconv.Quote(fi.Name), Reason: reason})
			continue
		}
		r, err := j.runFile(ctx, fj, inbox, fi.Name)
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: run finished", slog.String("job", fj.job),
		slog.Int("files", res.Files), slog.Int("records", res.Records), slog.Int("rejected", len(res.Rejected)),
		slog.Int("failed", len(res.Failed)), slog.Bool("dry_run", j.opts.DryRun))
	return res, nil
}

func (j *Jobs) runFile(ctx context.Context, fj fileJob, inbox *transport.Inbox, name string) (res RunResult, err error) {
	res.Files = 1
	var claim transport.Claimed
	src := path.Join(fj.inDir, transport.ProcessingDir, name)
	if j.opts.DryRun {
		if _, err := fj.in.Stat(ctx, src); err != nil {
			src = path.Join(fj.inDir, name)
		}
	} else {
		claim, err = inbox.Claim(ctx, name)
		if err != nil {
			return res, fmt.Errorf("reconcile: %s: claim %s: %w", fj.job, name, err)
		}
		src = claim.Path
	}

	tmp, sha, err := j.fetch(ctx, fj.job, fj.in, src)
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: read %s: %w", fj.job, src, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	return j.process(ctx, fj, name, sha, tmp,
		func() error { return inbox.Done(ctx, claim) },
		func(reason string) error { return inbox.Fail(ctx, claim, reason) })
}

// process decides the input src (a local copy of the file name, whose
// content has the hex SHA-256 sha), publishes its output and calls done,
// or fail with a reason when src cannot be read. It is the crash-safe
// sequence of every file job:
//
//  1. decide every record in one journal transaction, the file marked
//     "publishing" with its output name (deterministic from sha);
//  2. put the output atomically;
//  3. mark the file "published";
//  4. move the source to done/.
//
// A rerun after a crash at any point finds the file's row and converges.
func (j *Jobs) process(ctx context.Context, fj fileJob, name, sha string, src io.Reader,
	done func() error, fail func(reason string) error) (res RunResult, err error) {
	res.Files = 1
	jr := j.deps.Journal
	prior, err := fileBySHA(ctx, jr.db, fj.job, sha)
	if err != nil {
		return res, err
	}
	now := j.opts.Now()
	file := FileRecord{Job: fj.job, Name: name, SHA256: sha, Status: FileDeciding, Decided: now, Input: fj.input}
	if len(prior) > 0 {
		p := prior[0]
		switch p.Status {
		case FilePublished, FileDone, FileDuplicate:
			// Seen and finished: a rerun after a crash before the move, or
			// the same content dropped again.
			res.Duplicates = 1
			sameName := false
			for _, q := range prior {
				sameName = sameName || q.Name == name
			}
			if j.opts.DryRun {
				return res, nil
			}
			if !sameName {
				id := p.ID
				if p.DuplicateOf != 0 {
					id = p.DuplicateOf
				}
				if _, err := insertFile(ctx, jr.db, FileRecord{Job: fj.job, Name: name, SHA256: sha,
					Status: FileDuplicate, DuplicateOf: id, Reason: "same content as " + p.Name}, now); err != nil {
					return res, err
				}
				j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: duplicate file", slog.String("job", fj.job),
					slog.String("file", name), slog.String("same_as", p.Name))
			}
			if err := j.hook(StepDone); err != nil {
				return res, err
			}
			return res, done()
		case FilePublishing, FileFailed:
			// Resume: decide again with the same date, which yields the
			// same output file.
			file = p
			if p.Status == FileFailed {
				file.Decided = now
			}
		}
	}

	out, err := j.createTemp(fj.job, "out")
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	defer os.Remove(out.Name())
	defer out.Close()

	tx, err := jr.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: journal: %w", fj.job, err)
	}
	defer tx.Rollback()
	priorID := file.ID
	if file.ID == 0 {
		if file.ID, err = insertFile(ctx, tx, file, now); err != nil {
			return res, err
		}
	}
	output := path.Join(fj.outDir, fj.outName(sha))
	bw := bufio.NewWriterSize(out, 1<<16)
	d := &decision{tx: newCachedTx(tx), file: file, src: src, out: bw, output: output, asOf: file.Decided, now: now}
	d.result.Files = 1
	err = fj.decide(ctx, d)
	var fe *fileError
	if errors.As(err, &fe) {
		tx.Rollback()
		file.ID = priorID // the row inserted in tx is gone
		return j.failFile(ctx, fj, file, fe, fail)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return res, err
	}
	res = d.result
	if err := j.hook(StepDecide); err != nil {
		return res, err
	}
	file.Records = res.Records
	file.Rejected = len(res.Rejected)
	file.Total = res.Total
	file.Status = FileDone
	file.Reason = ""
	if res.Records > 0 {
		file.Status = FilePublishing
		file.Output = output
	}
	if j.opts.DryRun {
		if file.Output != "" {
			res.Outputs = append(res.Outputs, file.Output)
		}
		return res, nil
	}
	if err := updateFile(ctx, tx, file, now); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("reconcile: %s: journal commit for %s: %w", fj.job, name, err)
	}

	if file.Status == FilePublishing {
		if err := j.hook(StepPublish); err != nil {
			return res, err
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return res, err
		}
		if err := fj.out.MkdirAll(ctx, fj.outDir); err != nil {
			return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
		}
		if err := fj.out.Put(ctx, file.Output, out); err != nil {
			return res, fmt.Errorf("reconcile: %s: publish %s: %w", fj.job, file.Output, err)
		}
		if err := j.hook(StepCommit); err != nil {
			return res, err
		}
		if err := setFileStatus(ctx, jr.db, file.ID, FilePublished, j.opts.Now()); err != nil {
			return res, err
		}
		res.Outputs = append(res.Outputs, file.Output)
	}
	if err := j.hook(StepDone); err != nil {
		return res, err
	}
	if err := done(); err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: file processed", slog.String("job", fj.job),
		slog.String("file", name), slog.String("output", file.Output), slog.Int("records", res.Records),
		slog.Int("rejected", len(res.Rejected)), slog.Int("skipped", res.Skipped))
	return res, nil
}

// failFile journals a file that cannot be read and moves it to failed/.
func (j *Jobs) failFile(ctx context.Context, fj fileJob, file FileRecord, fe *fileError, fail func(string) error) (RunResult, error) {
	res := RunResult{Files: 1, Failed: []FileFailure{{File: file.Name, Reason: fe.Error()}}}
	j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: file failed", slog.String("job", fj.job),
		slog.String("file", file.Name), slog.String("reason", fe.Error()))
	if j.opts.DryRun {
		return res, nil
	}
	now := j.opts.Now()
	file.Status, file.Reason = FileFailed, fe.Error()
	var err error
	if file.ID == 0 {
		_, err = insertFile(ctx, j.deps.Journal.db, file, now)
	} else {
		err = updateFile(ctx, j.deps.Journal.db, file, now)
	}
	if err != nil {
		return res, err
	}
	if err := fail(fe.Error()); err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	return res, nil
}

// fetch copies a file of the drop to a local temporary file and returns it,
// rewound, with the hex SHA-256 of its content.
func (j *Jobs) fetch(ctx context.Context, job string, drop *transport.Drop, name string) (*os.File, string, error) {
	// A transfer cut halfway (a dropped FTP data connection) fails with a
	// Transient error after Open succeeded, which the drop cannot retry for
	// a stream: read the whole file again, a few times, before giving up
	// the run. The file stays claimed for the next run either way.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		f, sum, err := j.fetchOnce(ctx, job, drop, name)
		if err == nil || attempt == attempts || transport.ErrorCode(err) != transport.Transient {
			return f, sum, err
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// fetchOnce copies file name of drop to a temporary file and returns it,
// rewound, with the SHA-256 of its content.
func (j *Jobs) fetchOnce(ctx context.Context, job string, drop *transport.Drop, name string) (*os.File, string, error) {
	rc, err := drop.Open(ctx, name)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	tmp, err := j.createTemp(job, "in")
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), rc); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	if err := rc.Close(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	return tmp, hex.EncodeToString(h.Sum(nil)), nil
}

// reject journals a held record and adds it to the result.
func (d *decision) reject(ctx context.Context, r Record) error {
	if !d.flushing {
		if err := d.flush(ctx); err != nil {
			return err
		}
	}
	old, ok, err := getRecord(ctx, d.tx, r.Kind, r.Key)
	if err != nil {
		return err
	}
	if d.handledElsewhere(old, ok, r.Line) {
		d.result.Skipped++
		return nil
	}
	r.Outcome = OutcomeRejected
	r.FileID = d.file.ID
	if err := putRecord(ctx, d.tx, r, d.now); err != nil {
		return err
	}
	d.held(r)
	return nil
}

// handledElsewhere reports whether old, the journal's record (if ok) under
// the key of a record to hold at line, was handled through another file
// or line: the record is then a duplicate, not a new problem.
func (d *decision) handledElsewhere(old Record, ok bool, line int) bool {
	return ok && old.Outcome != OutcomeRejected && !d.same(old, line)
}

// held adds the held record r to the result.
func (d *decision) held(r Record) {
	d.result.Rejected = append(d.result.Rejected, Rejection{File: d.file.Name, Line: r.Line, Kind: r.Kind, Key: r.Key, Reason: r.Reason, Code: r.Code})
}

// claimable reports whether a record at line belongs in this file's output
// given old, the journal's record (if ok) under its key: when the key is
// new, held before (it is retried), or was decided into this same file and
// line (a rerun after a crash); not when it was decided elsewhere.
func (d *decision) claimable(old Record, ok bool, line int) bool {
	return !ok || old.Outcome == OutcomeRejected || d.same(old, line)
}

// claimKey decides whether the record kind/key belongs in this file's
// output. It inserts r (with outcome) when the key is new and returns true;
// when the key was already decided into this same file (a rerun after a
// crash) it returns true as well; when it was decided into another file it
// returns false (a duplicate to skip); a held record is retried.
func (d *decision) claimKey(ctx context.Context, r Record) (bool, error) {
	r.FileID = d.file.ID
	r.Output = d.output
	if d.ins == nil {
		var err error
		d.ins, err = d.tx.PrepareContext(ctx, `INSERT INTO records(kind, key, outcome, file_id, output, user_id, fee_id,
			fee_type, barcode, amount, currency, ref, channel, reason, code, line, payload, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, key) DO NOTHING`)
		if err != nil {
			return false, fmt.Errorf("reconcile: journal: %w", err)
		}
	}
	amount, cur := minor(r.Amount)
	ts := formatTime(d.now)
	res, err := d.ins.ExecContext(ctx, r.Kind, r.Key, r.Outcome, r.FileID, r.Output, r.UserID, r.FeeID,
		string(r.FeeType), r.Barcode, amount, cur, r.Ref, r.Channel, r.Reason, r.Code, r.Line, r.Payload, ts, ts)
	if err != nil {
		return false, fmt.Errorf("reconcile: journal: write %s %s: %w", r.Kind, r.Key, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	old, ok, err := getRecord(ctx, d.tx, r.Kind, r.Key)
	if err != nil {
		return false, err
	}
	if !d.claimable(old, ok, r.Line) {
		d.result.Skipped++
		return false, nil
	}
	return true, putRecord(ctx, d.tx, r, d.now)
}

// same reports whether old is the journal row of the record at line of
// this decision's file, decided before a crash: a key seen again at
// another line, or in another file, is a duplicate.
func (d *decision) same(old Record, line int) bool {
	return old.FileID == d.file.ID && old.Line == line
}

// written counts a line written to the output.
func (d *decision) written(amount fees.Money) {
	d.result.Records++
	d.result.Total = addMoney(d.result.Total, amount)
}
