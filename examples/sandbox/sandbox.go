package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sim "github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile/config"
)

// ErrNotReconciled is returned by [Sandbox.Run] when the week ends with
// Alma and PeopleSoft disagreeing, or with a record lost or held.
var ErrNotReconciled = errors.New("the week did not end reconciled")

// Sandbox is one simulated week at a district. main builds one with New,
// calls ParseFlags, Run and Close; tests set the fields and call Run.
type Sandbox struct {
	// Students is the number of simulated students (-students).
	Students int
	// Days is the number of days simulated (-days).
	Days int
	// Seed makes the run repeatable (-seed).
	Seed int64
	// OutDir keeps every file, the journal, the reports and the log
	// (-out). Empty means a temporary folder removed by Close.
	OutDir string
	// Faults is the rate (0 to 1) of injected failures (-faults): FTP
	// connections cut and transfers ending early, Alma 429s, 5xx and
	// calls without an answer, and jobs killed at random steps and
	// restarted. The same seed injects the same faults.
	Faults float64
	// JobEnd (-job-end) has Alma send JOB_END at the end of its export
	// jobs and feesync start the charges and credits jobs on it, as
	// feesync serve does with alma.export_job and alma.credit_export_job
	// set, checking the counts against each file (jobend.go).
	JobEnd bool
	// CollegeFiles (-college-files) has feesync deliver a charge (and
	// credit) file per college (peoplesoft.separate_files), each named
	// with its business unit; the simulated PeopleSoft loads every file.
	CollegeFiles bool
	// Transport is the library's file server (-transport): "ftp" (the
	// default) or "sftp", the embedded SFTP server, whose host key
	// feesync's client pins. With Faults, SFTP connections are cut before
	// operations and midway through transfers, and the server stalls.
	Transport string
	// Bursar is the student system (-bursar): "peoplesoft" (the default),
	// "banner" or "colleague". feesync is configured with bursar = that
	// name, and the simulated ledger reads and writes that system's
	// built-in layouts, codes and term codes.
	Bursar string
	// Colleges (-colleges N), when above 0, plays a consortium instead:
	// N colleges, each its own Alma institution and simulated district
	// with its own config file, run by one deployment as `feesync serve
	// -config-dir` runs them (colleges.go). Each plays Students students.
	Colleges int
	// ThrottledCollege (-throttled-college K), with Colleges, makes the
	// Alma of college K (from 1) answer only 429 for the week: the others
	// must still end reconciled, and K's shortfall is reported.
	ThrottledCollege int
	// Journal is feesync's journal (-journal): a postgres:// DSN of a new,
	// empty journal, or a SQLite file. Empty means journal.db in the work
	// folder.
	Journal string
	// Instances (-instances N), when 2 or more, runs N feesync instances
	// over the one journal, as N feesync serve processes would: only the
	// holder of the active lease runs the jobs and the events worker,
	// Alma's webhooks reach any of them, and the active one is killed
	// Kills times over the week (instances.go).
	Instances int
	// Kills (-kills K) is how many times the active instance is killed,
	// with Instances: at the first step of a job at or after each of K
	// moments drawn from the seed. New sets 20; without Instances it is
	// ignored.
	Kills int
	// Start is the first day simulated (its date; the time is ignored).
	// Zero means Monday 14 September 2026.
	Start time.Time

	// Stdout receives the timeline, the tables and the reconciliation.
	Stdout io.Writer
	// Log, when set, also receives the log lines of the jobs and
	// adapters, which always go to sandbox.log in the work folder.
	Log io.Writer
	// Verbose sends the log lines to standard error too (-v).
	Verbose bool

	// tamper, in tests, runs before each task of the week: a way to lose
	// a file on purpose and see the run fail.
	tamper func(ctx context.Context, d *district, task string) error
	// almaTransport, in tests, carries feesync's calls to Alma (nil: the
	// default transport): a way to see Alma's answers as they come.
	almaTransport http.RoundTripper

	// base, for a college of a consortium, is its config file, which
	// the jobs start from; nil: the defaults.
	base *config.Config
	// noWebhookListener: the district opens no listener of its own (a
	// consortium's Alma posts to the deployment's).
	noWebhookListener bool
	// jobFailed, when set, lets the week play on past a failed job, as
	// serve does (district.Options.JobFailed): the throttled college's.
	jobFailed func(ctx context.Context, job string, err error) error

	dir     string
	tempDir bool
	d       *district
	closers []func() error
}

// New returns a sandbox with the default size that prints to stdout.
func New(stdout io.Writer) *Sandbox {
	return &Sandbox{Students: 200, Days: 7, Seed: 1, Kills: 20, Transport: sim.TransportFTP, Bursar: peoplesoft.BursarPeopleSoft, Stdout: stdout}
}

// ParseFlags reads the command line.
func (s *Sandbox) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(s.Stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./examples/sandbox [flags]\n\n"+
			"Runs a simulated week at a district: a fake Alma over HTTP, the library's FTP\n"+
			"server, PeopleSoft's folders and ledger, and feesync's jobs on their schedules.\n"+
			"Exits 0 when Alma and PeopleSoft agree to the cent and no record was lost.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&s.Students, "students", s.Students, "number of simulated students")
	fs.IntVar(&s.Days, "days", s.Days, "number of days simulated")
	fs.Int64Var(&s.Seed, "seed", s.Seed, "seed of every random choice: the same seed gives the same week")
	fs.StringVar(&s.OutDir, "out", s.OutDir, "keep the files, the journal, the reports and the log in this `folder` (default: a temporary folder, removed)")
	fs.Float64Var(&s.Faults, "faults", s.Faults, "`rate` (0 to 1) of injected failures: FTP cuts and short transfers, Alma 429/5xx/no answer, jobs killed and restarted")
	fs.BoolVar(&s.JobEnd, "job-end", s.JobEnd, "Alma sends JOB_END after its exports and feesync starts its charges and credits jobs on it, checking the counts")
	fs.BoolVar(&s.CollegeFiles, "college-files", s.CollegeFiles, "feesync delivers a charge and credit file per college, named with its business unit")
	fs.StringVar(&s.Transport, "transport", s.Transport, "the library's file server: ftp or sftp (feesync uses the SFTP client, host key pinned)")
	fs.StringVar(&s.Bursar, "bursar", s.Bursar, "the student system: peoplesoft, banner or colleague (its built-in layouts, codes and term codes)")
	fs.IntVar(&s.Colleges, "colleges", s.Colleges, "play a consortium of `N` colleges instead, each its own Alma institution, district and config file, in one deployment (as feesync serve -config-dir)")
	fs.IntVar(&s.ThrottledCollege, "throttled-college", s.ThrottledCollege, "with -colleges: college `K`'s Alma answers only 429 for the week")
	fs.StringVar(&s.Journal, "journal", s.Journal, "feesync's `journal`: a postgres://… DSN of a new, empty journal, or a SQLite file (default: journal.db in the work folder)")
	fs.IntVar(&s.Instances, "instances", s.Instances, "run `N` feesync instances (2 or more) on one journal, one active, and kill the active one -kills times over the week")
	fs.IntVar(&s.Kills, "kills", s.Kills, "with -instances: kill the active instance `K` times, at moments drawn from the seed ")
	fs.BoolVar(&s.Verbose, "v", s.Verbose, "print the jobs' log lines to standard error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return s.validate()
}

func (s *Sandbox) validate() error {
	switch {
	case s.Students < 1:
		return fmt.Errorf("-students must be at least 1, not %d", s.Students)
	case s.Days < 1:
		return fmt.Errorf("-days must be at least 1, not %d", s.Days)
	case s.Faults < 0 || s.Faults > 0.5:
		return fmt.Errorf("-faults is a rate between 0 and 0.5, not %g", s.Faults)
	case s.Transport != "" && s.Transport != sim.TransportFTP && s.Transport != sim.TransportSFTP:
		return fmt.Errorf("-transport is ftp or sftp, not %q", s.Transport)
	case s.Colleges < 0:
		return fmt.Errorf("-colleges must be 0 (off) or more, not %d", s.Colleges)
	case s.ThrottledCollege != 0 && (s.ThrottledCollege < 1 || s.ThrottledCollege > s.Colleges):
		return fmt.Errorf("-throttled-college names a college from 1 to -colleges (%d), not %d", s.Colleges, s.ThrottledCollege)
	case s.Instances < 0 || s.Instances == 1:
		return fmt.Errorf("-instances is 0 (off) or 2 or more, not %d", s.Instances)
	case s.Instances > 1 && s.Colleges > 0:
		return fmt.Errorf("-instances and -colleges cannot be combined")
	case s.Kills < 0:
		return fmt.Errorf("-kills must be 0 or more, not %d", s.Kills)
	case s.Bursar != "" && !slices.Contains(peoplesoft.BuiltinBursars(), s.Bursar):
		return fmt.Errorf("-bursar is %s, not %q", strings.Join(peoplesoft.BuiltinBursars(), ", "), s.Bursar)
	}
	return nil
}

// Run plays the week and prints it. It returns ErrNotReconciled when the
// week does not end with Alma and PeopleSoft agreeing to the cent and
// every record accounted for.
func (s *Sandbox) Run(ctx context.Context) error {
	if err := s.validate(); err != nil {
		return err
	}
	if s.Stdout == nil {
		s.Stdout = io.Discard
	}
	if s.Start.IsZero() {
		s.Start = time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	}
	s.Start = time.Date(s.Start.Year(), s.Start.Month(), s.Start.Day(), 0, 0, 0, 0, time.UTC)
	if err := s.workDir(); err != nil {
		return err
	}
	logger, err := s.logger()
	if err != nil {
		return err
	}
	if s.Colleges > 0 {
		return s.runColleges(ctx, logger)
	}

	began := time.Now()
	d, err := newDistrict(ctx, s, logger)
	if d != nil {
		s.d = d
		s.closers = append(s.closers, d.close)
	}
	if err != nil {
		return err
	}
	d.intro()
	if err := d.week(ctx); err != nil {
		return err
	}
	ok, err := d.summary(ctx)
	if err != nil {
		return err
	}
	if d.ha != nil {
		d.ha.report(s.Stdout)
		if problems := d.ha.check(ctx); len(problems) > 0 {
			ok = false
			for _, p := range problems {
				fmt.Fprintf(s.Stdout, "  PROBLEM  %s\n", p)
			}
		}
	}
	printCalls(s.Stdout, d.flowCalls.counts(), d.sim.Alma().CallStats(), s.Start)
	fmt.Fprintf(s.Stdout, "\nSimulated %d days for %d students in %s.", s.Days, s.Students, time.Since(began).Round(10*time.Millisecond))
	if s.tempDir {
		fmt.Fprintf(s.Stdout, " Run with -out DIR to keep the files, the journal and the reports.\n")
	} else {
		fmt.Fprintf(s.Stdout, " Files, journal, reports and log are in %s.\n", s.dir)
	}
	if !ok {
		return ErrNotReconciled
	}
	return nil
}

// Close stops the servers and removes the temporary work folder.
func (s *Sandbox) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

func (s *Sandbox) workDir() error {
	if s.OutDir != "" {
		if err := os.MkdirAll(s.OutDir, 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(s.OutDir)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("-out %s: the folder is not empty; give a new or empty one", s.OutDir)
		}
		s.dir = s.OutDir
		return nil
	}
	dir, err := os.MkdirTemp("", "feebridge-sandbox-")
	if err != nil {
		return err
	}
	s.dir, s.tempDir = dir, true
	s.closers = append(s.closers, func() error { return os.RemoveAll(dir) })
	return nil
}

// logger writes the log lines to sandbox.log, and to Log and standard
// error when asked.
func (s *Sandbox) logger() (*slog.Logger, error) {
	f, err := os.Create(filepath.Join(s.dir, "sandbox.log"))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, f.Close)
	ws := []io.Writer{f}
	if s.Log != nil {
		ws = append(ws, s.Log)
	}
	if s.Verbose {
		ws = append(ws, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(io.MultiWriter(ws...), &slog.HandlerOptions{Level: slog.LevelInfo})), nil
}
