package main

import (
	"sync"

	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/feebridge/feebridge/reconcile/journal"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// Main is the feesync program: main builds one with [NewMain], calls
// ParseFlags, Run and Close, and exits with the code [Main.Exit] returns.
// Tests set Stdout, Stderr, Getenv and Now and drive it the same way,
// without a process.
type Main struct {
	// haMu guards haActive and haLease: whether this serve instance
	// holds the active lease, and the lease (ha.go).
	haMu     sync.Mutex
	haActive bool
	haLease  journal.Lease
	Stdout   io.Writer
	Stderr   io.Writer
	// Getenv reads the environment: the secrets and FEEBRIDGE_CONFIG.
	Getenv func(string) string
	// Now is the clock of the run.
	Now func() time.Time
	// Sleep, when set, is how a run waits for the files it saw first to
	// settle (a test moves its clock); nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Listening, when set, is told the address `feesync serve` listens
	// on, once it does (tests listen on 127.0.0.1:0).
	Listening func(addr string)
	// Reloads, when set, is what makes `feesync serve -config-dir` read
	// its folder again (a test sends on it); nil means SIGHUP.
	Reloads <-chan struct{}

	// Set by ParseFlags.
	cmd        command
	configPath string
	configDir  string // serve -config-dir: one config file per institution
	listenAddr string // serve -listen, with -config-dir
	in, out    string
	asOf       string
	dryRun     bool
	all        bool // reconcile: every student, quiet ones too; held: closed ones too
	held       heldFlags
	ops        opsFlags // reconcile -format/-show-ids, show
	reason     string   // restore-accept: why the marks are accepted
	online     bool     // check-config: log in, write, call Alma
	lint       lintFlags
	args       []string // positional arguments left after the flags

	config  *config.Config
	logger  *slog.Logger
	setup   *config.Setup // the jobs, once a command opened them
	overdue *overdueWatch // serve's alerts, when mail is configured
	gates   jobGates      // serve: one run of a job at a time (jobend.go)
	closers []func() error

	almaCalls *metrics.Alma // this process's calls to Alma, for /metrics
}

// NewMain returns a Main on the process's standard streams, environment
// and clock.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// The exit codes.
const (
	ExitOK       = 0 // all done
	ExitFailure  = 1 // the command failed
	ExitUsage    = 2 // the command line was wrong
	ExitRejected = 3 // done, but some records were rejected
)

// command is one feesync command: its name as typed, its flags and its body.
type command struct {
	name  string
	usage string
	flags func(m *Main, fs *flag.FlagSet)
	run   func(m *Main, ctx context.Context) error
	// needsConfig: the command cannot run on the built-in defaults.
	needsConfig bool
	// noConfig: the command reads no config, not even FEEBRIDGE_CONFIG.
	noConfig bool
	// maxArgs is how many arguments it takes besides its flags, which may
	// come before, between or after them; -1 for any number.
	maxArgs int
}

// UsageError is a mistake on the command line (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// RejectedError reports a command that finished but held records back
// (exit code 3); each was already listed on stderr as FILE:LINE: KEY:
// reason. For reconcile, Rejected counts the disagreements instead.
type RejectedError struct {
	Command  string
	Rejected int
	// What names what was counted, when not rejected records.
	What string
}

func (e *RejectedError) Error() string {
	what := e.What
	if what == "" {
		what = "records rejected"
		if e.Rejected == 1 {
			what = "record rejected"
		}
	}
	return fmt.Sprintf("%s: done, %d %s (listed above)", e.Command, e.Rejected, what)
}

const usageText = `feesync keeps library fines and fees in step between Alma and PeopleSoft.

Usage:

	feesync convert alma-export -in FILE.xml -out FILE.dat [-config F] [-as-of YYYY-MM-DD]
	feesync convert ps-payments -in FILE.csv -out FILE.xml [-config F] [-as-of YYYY-MM-DD]
	feesync run charges|payments|credits|results|report [-config F] [-dry-run]
	feesync reconcile [-config F] [-all] [-format table|csv|json] [-show-ids]
	feesync redrive [-config F] [-dry-run] [charge|credit|payment|refund...]
	feesync redrive [-config F] [-dry-run] event [ID]
	feesync redrive [-config F] [-dry-run] KEY...
	feesync held [-config F] [-kind charge|credit|payment|refund] [-all]
	feesync show student|fee ID [-config F] [-show-ids]
	feesync dismiss KEY -reason TEXT [-by NAME] [-kind K] [-config F]
	feesync serve [-config F]
	feesync serve -config-dir DIR -listen ADDR
	feesync check-config [-config F] [-online]
	feesync lint-export -in FILE.xml [-config F] [-users FILE.csv] [-as-of YYYY-MM-DD]
	feesync init [-config F]
	feesync backup -out FILE [-config F]
	feesync restore-check [-config F]
	feesync restore-accept -reason TEXT [-config F]
	feesync version   (also feesync -version, feesync --version)

The config file is -config, or FEEBRIDGE_CONFIG when the flag is not given.
Secrets come from the environment (FEEBRIDGE_ALMA_API_KEY,
FEEBRIDGE_FTP_PASSWORD, FEEBRIDGE_WEBHOOK_SECRET, or the same names ending
in _FILE naming a file), never from flags.

serve -config-dir serves many Alma institutions (the colleges of a
consortium, each its own Alma institution) from one process: each *.toml
in DIR is one institution's whole config, named by the file's base name
(lower-case letters, digits, '-'). -listen is the one listener of the
deployment: /webhooks/alma/NAME (checked with NAME's webhook secret),
/healthz, /readyz, /metrics (every metric labelled college="NAME") and
the status pages (/ lists the institutions, /college/NAME/ is one's).
SIGHUP reads DIR again: an added file starts its institution, a removed
one stops it, a changed one restarts it; the others are not touched, and
a file that fails check-config is refused, its institution going on.

check-config works offline: it checks the config, the secrets, and that
every folder of a local ("dir") drop exists, is a folder and can be
written, listing each one that is not with its key and path. The folders
of an FTP drop are not checked (that needs a login). With -online it
also logs in to every drop, writes and removes a test file in every
folder, calls Alma once with the key, and checks the journal and the
listen address, listing every problem with its key. A run whose inbound
or outbound folder is missing or is a file fails, naming the key and the
path; feesync creates no folder but the report folder.

held lists the records held back (a refusal, an unreadable line, a
conflicting re-send), newest first; -all adds those closed, with who
closed them, when and why. dismiss closes one held record with a reason
(the OS user, or -by, is recorded): it leaves the report and is not
re-driven. The journal keeps every dismissal.

lint-export reads a sample of Alma's bursar export and prints each fee
that the config's [export_policy] would not have sent (below the minimum,
too recent, an excluded user group, a library or fee type not billed),
FILE:LINE with the user masked, then a count per reason with the option
of Alma's bursar profile to fix. It only reads: feesync sends every fee
Alma exports. -users names a CSV of users and their groups (the export
does not carry the group). Exit 0: nothing to fix; 3: warnings.

init creates the journal of a new site; it never replaces one. Every
other command that uses the journal refuses to start when the journal
file is missing or empty. backup writes a consistent copy of the journal,
also while serve runs, to a new file. restore-check compares the marks
feesync leaves in the folders it publishes to with the journal, and lists
what was published that a restored journal does not know; restore-accept
records the operator's word that it was dealt with, and the publishing
jobs run again. journal copy copies a journal exactly (every row, its
identity and schema version) into a new, empty one, in one transaction:
the move from one store to another, with feesync stopped.

Exit codes: 0 done; 3 done, but some records were rejected (lint-export:
some fees the policy would not have sent); 1 failure; 2 usage.
`

// commands lists the commands by the words that name them.
func commands() map[string]command {
	configFlag := func(m *Main, fs *flag.FlagSet) {
		fs.StringVar(&m.configPath, "config", "", "the config `file` (default $FEEBRIDGE_CONFIG)")
	}
	runFlags := func(m *Main, fs *flag.FlagSet) {
		configFlag(m, fs)
		fs.BoolVar(&m.dryRun, "dry-run", false, "read and check everything, write nothing")
	}
	cs := []command{
		{name: "convert alma-export", usage: "-in FILE.xml -out FILE.dat [-config F] [-as-of YYYY-MM-DD]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.StringVar(&m.in, "in", "", "Alma's bursar export `file` (XML)")
				fs.StringVar(&m.out, "out", "", "the PeopleSoft charge `file` to write")
				fs.StringVar(&m.asOf, "as-of", "", "the `day` (YYYY-MM-DD) that picks the term; default today")
			},
			run: (*Main).convertAlmaExport},
		{name: "convert ps-payments", usage: "-in FILE.csv -out FILE.xml [-config F] [-as-of YYYY-MM-DD]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.StringVar(&m.in, "in", "", "PeopleSoft's payment `file`; the charges it pays are taken from its CHARGE_AMT, REF1_DESCR and ITEM_TYPE")
				fs.StringVar(&m.out, "out", "", "the Alma bursar import `file` (XML) to write")
				fs.StringVar(&m.asOf, "as-of", "", "the `day` (YYYY-MM-DD) the payments are judged on: one dated after the next day is held; default today")
			},
			run: (*Main).convertPSPayments},
		{name: "run charges", usage: "[-config F] [-dry-run]", flags: runFlags, run: runJob("charges"), needsConfig: true},
		{name: "run payments", usage: "[-config F] [-dry-run]", flags: runFlags, run: runJob("payments"), needsConfig: true},
		{name: "run results", usage: "[-config F] [-dry-run]", flags: runFlags, run: runJob("results"), needsConfig: true},
		{name: "run credits", usage: "[-config F] [-dry-run]", flags: runFlags, run: runJob("credits"), needsConfig: true},
		{name: "run report", usage: "[-config F] [-dry-run]", flags: runFlags, run: runJob("report"), needsConfig: true},
		{name: "reconcile", usage: "[-config F] [-all] [-format table|csv|json] [-show-ids]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.BoolVar(&m.all, "all", false, "compare every student the journal knows, also those settled and quiet for 30 days, asking Alma about each (not the Analytics report)")
				fs.StringVar(&m.ops.format, "format", formatTable, "how to write the disagreements: table, csv or json")
				fs.BoolVar(&m.ops.showIDs, "show-ids", false, "show student ids whole (for staff who must look students up); masked by default")
			},
			run: func(m *Main, ctx context.Context) error {
				if err := checkFormat(m.ops.format); err != nil {
					return err
				}
				return runJob("reconcile")(m, ctx)
			}, needsConfig: true},
		{name: "redrive", usage: "[-config F] [-dry-run] [charge|credit|payment|refund...] | event [ID] | KEY...", flags: runFlags, run: (*Main).redrive, needsConfig: true,
			maxArgs: -1},
		{name: "serve", usage: "[-config F] | -config-dir DIR -listen ADDR",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.StringVar(&m.configDir, "config-dir", "", "serve one Alma institution per *.toml in this `folder` (instead of -config)")
				fs.StringVar(&m.listenAddr, "listen", "", "with -config-dir: the `address` of the deployment's listener (webhooks, status, metrics)")
			},
			run: (*Main).serve, needsConfig: true},
		{name: "check-config", usage: "[-config F] [-online]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.BoolVar(&m.online, "online", false, "also log in to every drop, write to every folder, call Alma with the key, and check the journal and the listen address")
			},
			run: (*Main).checkConfig, needsConfig: true},
		{name: "init", usage: "[-config F]", flags: configFlag, run: (*Main).initJournal, needsConfig: true},
		{name: "backup", usage: "-out FILE [-config F]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.StringVar(&m.out, "out", "", "the new `file` to write the copy of the journal to")
			},
			run: (*Main).backup, needsConfig: true},
		{name: "journal copy", usage: "-from JOURNAL -to JOURNAL",
			flags: func(m *Main, fs *flag.FlagSet) {
				fs.StringVar(&m.in, "from", "", "the `journal` to copy (left as it is)")
				fs.StringVar(&m.out, "to", "", "the new, empty `journal` to copy into")
			},
			run: (*Main).copyJournal, noConfig: true},
		{name: "restore-check", usage: "[-config F]", flags: configFlag, run: (*Main).restoreCheck, needsConfig: true},
		{name: "restore-accept", usage: "-reason TEXT [-config F]",
			flags: func(m *Main, fs *flag.FlagSet) {
				configFlag(m, fs)
				fs.StringVar(&m.reason, "reason", "", "why the marks are accepted (`text` kept in the journal)")
			},
			run: (*Main).restoreAccept, needsConfig: true},
		{name: "version", usage: "", flags: func(*Main, *flag.FlagSet) {}, run: (*Main).version, noConfig: true},
	}
	cs = append(cs, lintExportCommand())
	cs = append(cs, heldCommands()...)
	cs = append(cs, showCommands()...)
	byName := make(map[string]command, len(cs))
	for _, c := range cs {
		byName[c.name] = c
	}
	return byName
}

// ParseFlags reads the command and its flags from args (the arguments
// after the program name). It returns a *UsageError for a wrong command
// line and flag.ErrHelp after printing help for -h.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usageText)
		return usagef("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usageText)
		return flag.ErrHelp
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	cs := commands()
	name := args[0]
	rest := args[1:]
	if name == "convert" || name == "run" || name == "show" || name == "journal" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return usagef("%s: which one? see 'feesync help'", name)
		}
		name += " " + rest[0]
		rest = rest[1:]
	}
	cmd, ok := cs[name]
	if !ok {
		return usagef("unknown command %q; see 'feesync help'", name)
	}
	m.cmd = cmd

	fs := newFlagSet(m, name, cmd)
	m.args = nil
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			// The flag package already printed what is wrong, naming the flag
			// and never echoing a value that could be a secret.
			return usagef("%s: bad flags", name)
		}
		rest = fs.Args()
		if len(rest) == 0 || cmd.maxArgs < 0 {
			m.args = append(m.args, rest...)
			break
		}
		// An argument, then maybe more flags (feesync dismiss KEY -reason TEXT).
		m.args = append(m.args, rest[0])
		rest = rest[1:]
	}
	if cmd.maxArgs >= 0 && len(m.args) > cmd.maxArgs {
		return usagef("%s: unexpected argument %q", name, m.args[cmd.maxArgs])
	}
	if cmd.noConfig {
		return nil
	}
	if err := m.checkConfigDirFlags(name); err != nil || m.configDir != "" {
		return err
	}
	if m.configPath == "" && m.Getenv != nil {
		m.configPath = m.Getenv("FEEBRIDGE_CONFIG")
	}
	if cmd.needsConfig && m.configPath == "" {
		return usagef("%s: needs a config file: -config F or FEEBRIDGE_CONFIG", name)
	}
	return nil
}

// newFlagSet returns the flags of command c, bound to m's fields.
func newFlagSet(m *Main, name string, c command) *flag.FlagSet {
	fs := flag.NewFlagSet("feesync "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: feesync %s %s\n", name, c.usage)
		fs.PrintDefaults()
	}
	c.flags(m, fs)
	return fs
}

// Run runs the command ParseFlags read. It returns nil when all is done,
// a *RejectedError when the command finished but rejected records, and any
// other error when it failed.
func (m *Main) Run(ctx context.Context) error {
	if m.cmd.run == nil {
		return errors.New("Run called before ParseFlags")
	}
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.configPath != "" && !m.cmd.noConfig {
		c, err := config.Load(m.configPath)
		if err != nil {
			return err
		}
		m.config = c
	} else {
		m.config = config.Default()
	}
	m.logger = newLogger(m.Stderr, m.config.Log)
	return m.cmd.run(m, ctx)
}

// Close releases what Run opened: drops, the journal, listeners. It is
// safe to call more than once.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) { m.closers = append(m.closers, f) }

// Exit prints err, if any, to Stderr and returns the exit code for it.
func (m *Main) Exit(err error) int {
	var ue *UsageError
	var re *RejectedError
	code := ExitFailure
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		code = ExitUsage
	case errors.As(err, &re):
		code = ExitRejected
	}
	if m.jsonLog() {
		// With format = "json" every line on stderr is a JSON object.
		m.logger.Error("feesync: "+err.Error(), "exit_code", code)
	} else {
		fmt.Fprintf(m.Stderr, "feesync: %v\n", err)
	}
	return code
}

// jsonLog tells whether the log is JSON (format = "json" and Run has made
// the logger): then every line feesync writes on stderr goes through it.
func (m *Main) jsonLog() bool {
	return m.logger != nil && m.config != nil && m.config.Log.Format == "json"
}

// checkConfig loads the config (Run did), then the secrets the jobs need,
// checks every folder of a local drop, and says what it found.
func (m *Main) checkConfig(ctx context.Context) error {
	c := m.config
	var missing []error
	for _, ref := range c.Secrets() {
		if _, err := ref.Load(m.Getenv); err != nil {
			missing = append(missing, err)
		}
	}
	if m.online {
		if err := c.CheckOnline(ctx, &config.Options{Getenv: m.Getenv, Now: m.Now, Logger: m.logger}); err != nil {
			missing = append(missing, err)
		}
	} else if err := c.CheckFolders(); err != nil {
		missing = append(missing, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: config is valid, but: %w", c.Path(), errors.Join(missing...))
	}
	if m.online {
		fmt.Fprintf(m.Stdout, "%s: ok: logged in to both drops, wrote to every folder, Alma accepted the key, the journal and the listen address are usable\n", c.Path())
		return nil
	}
	fmt.Fprintf(m.Stdout, "%s: ok\n", c.Path())
	return nil
}
