package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Exit codes of Run.
const (
	ExitOK     = 0 // every size measured and every result right
	ExitFailed = 1 // a job failed or a result was wrong
	ExitUsage  = 2 // bad flags
)

// The paths that -path names.
const (
	PathCharges     = "charges"
	PathPayments    = "payments"
	PathLostReturns = "lost-returns"
	PathReconcile   = "reconcile"
)

// The phases a child process runs (-phase).
const (
	phaseGenExport   = "gen-export"
	phaseCharges     = "charges"
	phaseGenPayments = "gen-payments"
	phasePayments    = "payments"
	phaseLostReturns = "lost-returns"
	// The reconciliation's two paths; runReconcile reads the path from
	// the phase's name after "reconcile-".
	phaseReconcileReport = "reconcile-" + ReconcileReport
	phaseReconcileEach   = "reconcile-" + ReconcilePerStudent
)

// config is what the flags say.
type config struct {
	path      string
	sizes     []int
	dir       string // work folder of one size (children) or parent of them
	journal   string // -journal: the journal of the charges and payments paths; "" is journal.db in the work folder
	keep      bool
	inProcess bool
	phase     string

	rate      float64 // the Alma client's calls per second
	rate429   float64 // share of calls answered 429 whatever the rate
	perSecond int     // the fake Alma's real per-second threshold
	workers   int     // lost-returns events handled at once

	disagree, changed float64 // reconcile: shares of the students
	reconcilePath     string  // reconcile: both, report or per-student

	cpuProfile, memProfile string // of the job phase
}

// Run runs the command with args (without the program name) and returns
// its exit code. The summary goes to stdout, one line per size; failures
// and the children's messages to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintln(stderr, "scale:", err)
		return ExitUsage
	}
	if cfg.phase != "" {
		// A child: run one phase and print its result as JSON.
		res, err := runPhase(ctx, cfg, cfg.sizes[0])
		if err != nil {
			fmt.Fprintf(stderr, "scale: %s: %v\n", cfg.phase, err)
			return ExitFailed
		}
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintln(stderr, "scale:", err)
			return ExitFailed
		}
		return ExitOK
	}
	code := ExitOK
	for _, n := range cfg.sizes {
		line, err := runSize(ctx, cfg, n, stderr)
		if line != "" {
			fmt.Fprintln(stdout, line)
		}
		if err != nil {
			fmt.Fprintf(stderr, "scale: %s n=%d: %v\n", cfg.path, n, err)
			code = ExitFailed
			if ctx.Err() != nil {
				break
			}
		}
	}
	return code
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.path, "path", PathCharges, "the path to measure: charges, payments, lost-returns or reconcile")
	students := fs.Int("students", 0, "reconcile: the number of active students (the size; default 20000)")
	fs.Float64Var(&cfg.disagree, "disagree", 0.01, "reconcile: share of the students whose fees disagree")
	fs.Float64Var(&cfg.changed, "changed", 0.005, "reconcile: share of the students with a journal change after Analytics' refresh")
	fs.StringVar(&cfg.reconcilePath, "reconcile-path", ReconcileBoth, "reconcile: both, report (the open fees report) or per-student")
	n := fs.Int("n", 0, "the number of fees, payments or returned lost items (default 1000000; 300 for lost-returns)")
	sizes := fs.String("sizes", "", "comma-separated sizes to measure one after the other, such as 10000,100000,1000000")
	fs.StringVar(&cfg.dir, "dir", "", "work folder (default: a new temporary folder per size, removed after)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work folders")
	fs.BoolVar(&cfg.inProcess, "inprocess", false, "run every phase in this process instead of a child per phase")
	fs.StringVar(&cfg.phase, "phase", "", "internal: run one phase in this process and print its result as JSON")
	fs.Float64Var(&cfg.rate, "rate", 25, "lost-returns: the Alma client's calls per second")
	fs.Float64Var(&cfg.rate429, "429", 0.1, "lost-returns: share of calls the fake Alma answers 429 whatever the rate")
	fs.IntVar(&cfg.perSecond, "per-second", 25, "lost-returns: the fake Alma's per-second threshold (negative: none)")
	fs.IntVar(&cfg.workers, "workers", 4, "lost-returns: students whose journaled events are handled at once")
	fs.StringVar(&cfg.journal, "journal", "", "charges, payments: the `journal` the jobs use, a new, empty one (a postgres:// DSN, or a SQLite file); one size per run (default: journal.db in the work folder)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the job phase to this file")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write a heap profile of the job phase, taken at its end, to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch cfg.path {
	case PathCharges, PathPayments, PathLostReturns, PathReconcile:
	default:
		return cfg, fmt.Errorf("-path %q: want charges, payments, lost-returns or reconcile", cfg.path)
	}
	switch cfg.reconcilePath {
	case ReconcileBoth, ReconcileReport, ReconcilePerStudent:
	default:
		return cfg, fmt.Errorf("-reconcile-path %q: want both, report or per-student", cfg.reconcilePath)
	}
	if cfg.disagree < 0 || cfg.changed < 0 || cfg.disagree+cfg.changed > 1 {
		return cfg, errors.New("-disagree and -changed must be shares of the students, 0 to 1 together")
	}
	if *students != 0 {
		if *n != 0 {
			return cfg, errors.New("give -students or -n, not both")
		}
		*n = *students
	}
	switch cfg.phase {
	case "", phaseGenExport, phaseCharges, phaseGenPayments, phasePayments, phaseLostReturns, phaseReconcileReport, phaseReconcileEach:
	default:
		return cfg, fmt.Errorf("-phase %q is not a phase", cfg.phase)
	}
	if cfg.phase != "" && cfg.dir == "" {
		return cfg, errors.New("-phase needs -dir")
	}
	switch {
	case *sizes != "" && *n != 0:
		return cfg, errors.New("give -n or -sizes, not both")
	case *sizes != "":
		for s := range strings.SplitSeq(*sizes, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 1 {
				return cfg, fmt.Errorf("-sizes: %q is not a positive number", s)
			}
			cfg.sizes = append(cfg.sizes, v)
		}
	case *n < 0:
		return cfg, fmt.Errorf("-n %d: want a positive number", *n)
	case *n > 0:
		cfg.sizes = []int{*n}
	case cfg.path == PathLostReturns:
		cfg.sizes = []int{300}
	case cfg.path == PathReconcile:
		cfg.sizes = []int{20000}
	default:
		cfg.sizes = []int{1_000_000}
	}
	if cfg.journal != "" && cfg.phase == "" {
		if cfg.path != PathCharges && cfg.path != PathPayments {
			return cfg, fmt.Errorf("-journal is for the charges and payments paths, not %s", cfg.path)
		}
		if len(cfg.sizes) > 1 {
			return cfg, errors.New("-journal names one journal, which a size fills: measure one size per run (-n), each on a new, empty journal")
		}
	}
	if cfg.rate <= 0 || cfg.rate429 < 0 || cfg.rate429 >= 1 || cfg.workers < 1 {
		return cfg, errors.New("-rate must be positive, -429 in [0, 1), -workers at least 1")
	}
	return cfg, nil
}

// runSize measures one size of the configured path and returns its
// summary line.
func runSize(ctx context.Context, cfg config, n int, stderr io.Writer) (string, error) {
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "feebridge-scale-")
		if err != nil {
			return "", err
		}
		dir = d
		if !cfg.keep {
			defer os.RemoveAll(dir)
		}
	}
	cfg.dir = dir
	phase := func(name string) (result, error) {
		c := cfg
		c.phase = name
		if name != phaseCharges && name != phasePayments {
			c.cpuProfile, c.memProfile = "", ""
		}
		if cfg.path == PathPayments && name == phaseCharges {
			c.cpuProfile, c.memProfile = "", ""
		}
		if cfg.inProcess {
			return runPhase(ctx, c, n)
		}
		return runChild(ctx, c, n, stderr)
	}
	switch cfg.path {
	case PathCharges:
		gen, err := phase(phaseGenExport)
		if err != nil {
			return "", err
		}
		job, err := phase(phaseCharges)
		if err != nil {
			return "", err
		}
		return summary(cfg.path, n, gen, job) + storeNote(cfg.journal), job.problem()
	case PathPayments:
		if _, err := phase(phaseGenExport); err != nil {
			return "", err
		}
		ch, err := phase(phaseCharges)
		if err != nil {
			return "", err
		}
		if err := ch.problem(); err != nil {
			return "", fmt.Errorf("charges before the payments: %w", err)
		}
		gen, err := phase(phaseGenPayments)
		if err != nil {
			return "", err
		}
		job, err := phase(phasePayments)
		if err != nil {
			return "", err
		}
		return summary(cfg.path, n, gen, job) + storeNote(cfg.journal), job.problem()
	case PathReconcile:
		var lines []string
		for _, p := range []string{ReconcileReport, ReconcilePerStudent} {
			if cfg.reconcilePath != ReconcileBoth && cfg.reconcilePath != p {
				continue
			}
			job, err := phase("reconcile-" + p)
			if err != nil {
				return strings.Join(lines, "\n"), err
			}
			lines = append(lines, reconcileSummary(n, job))
			if err := job.problem(); err != nil {
				return strings.Join(lines, "\n"), err
			}
		}
		return strings.Join(lines, "\n"), nil
	default:
		job, err := phase(phaseLostReturns)
		if err != nil {
			return "", err
		}
		return summary(cfg.path, n, result{}, job), job.problem()
	}
}

// runChild runs one phase in a child process: this program started again
// with -phase, so that the child's peak resident size is the phase's own.
func runChild(ctx context.Context, cfg config, n int, stderr io.Writer) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	args := []string{"-path", cfg.path, "-phase", cfg.phase, "-dir", cfg.dir, "-n", strconv.Itoa(n),
		"-rate", fmt.Sprint(cfg.rate), "-429", fmt.Sprint(cfg.rate429),
		"-per-second", strconv.Itoa(cfg.perSecond), "-workers", strconv.Itoa(cfg.workers),
		"-disagree", fmt.Sprint(cfg.disagree), "-changed", fmt.Sprint(cfg.changed), "-reconcile-path", cfg.reconcilePath}
	if cfg.cpuProfile != "" {
		args = append(args, "-cpuprofile", cfg.cpuProfile)
	}
	if cfg.memProfile != "" {
		args = append(args, "-memprofile", cfg.memProfile)
	}
	if cfg.journal != "" {
		args = append(args, "-journal", cfg.journal)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("phase %s: %w", cfg.phase, err)
	}
	var res result
	sc := bufio.NewScanner(&out)
	var last []byte
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			last = append(last[:0], sc.Bytes()...)
		}
	}
	if err := json.Unmarshal(last, &res); err != nil {
		return result{}, fmt.Errorf("phase %s: reading its result %q: %w", cfg.phase, last, err)
	}
	return res, nil
}

// result is what one phase measured. Children print it as JSON.
type result struct {
	Phase    string
	N        int
	Wall     time.Duration // the job (or the generation) alone
	CPU      time.Duration // user and system time of the process during Wall
	Records  int
	Total    string
	Lines    int     // lines of the output file(s)
	VmHWM    int64   // peak resident set size of the phase, bytes; -1 if unknown
	HeapPeak uint64  // peak of the Go heap's objects
	GoMem    uint64  // peak of the Go runtime's memory (heap, stacks, metadata)
	Load     float64 // one-minute load average when the phase started

	// lost-returns
	Events     int
	LostFees   int
	Calls      int
	Calls429   int
	Rate       float64 // configured calls per second
	Retried    int     // events that failed at first and were handed in again
	WaivedOnce int     // lost-item fees closed with exactly one waiver
	// CallsPerReturn is the calls answered per return, by operation, and
	// Bound issue 17's bound on them and whether it was met (lostcalls.go).
	CallsPerReturn, Bound string

	// reconcile
	ReconcilePath string
	Students      int
	OpenFees      int            // open fees in Alma: the report's rows
	Disagreeing   int            // students with a disagreement injected
	Changed       int            // students changed in the journal after the refresh
	Found         int            // disagreements the reconciliation found
	CallsByOp     map[string]int // Alma's calls, by route
	LivePeak      uint64         // peak of the live heap (at collections) above the world's

	Problems []string // wrong results; empty when all is right
}

func (r result) problem() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(r.Problems, "; "))
}

func mb(b int64) string {
	if b < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1fMB", float64(b)/(1<<20))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// summary is the one line printed for a size.
func summary(path string, n int, gen, job result) string {
	if path == PathLostReturns {
		achieved := float64(job.Calls) / job.Wall.Seconds()
		ok := float64(job.Calls-job.Calls429) / job.Wall.Seconds()
		return fmt.Sprintf("%s n=%d events=%d lost-fees=%d waived-once=%d calls=%d 429s=%d time=%s calls/s=%.1f (%.0f%% of %.0f) ok-calls/s=%.1f redelivered=%d heap=%s vmhwm=%s load=%.2f calls/return=%s bound(2+waived+2 if blocks lifted)=%s",
			path, n, job.Events, job.LostFees, job.WaivedOnce, job.Calls, job.Calls429, secs(job.Wall),
			achieved, 100*achieved/job.Rate, job.Rate, ok, job.Retried, mb(int64(job.HeapPeak)), mb(job.VmHWM), job.Load,
			job.CallsPerReturn, job.Bound)
	}
	return fmt.Sprintf("%s n=%d gen=%s job=%s cpu=%s records=%d total=%s lines=%d vmhwm=%s heap=%s gomem=%s load=%.2f",
		path, n, secs(gen.Wall), secs(job.Wall), secs(job.CPU), job.Records, job.Total, job.Lines,
		mb(job.VmHWM), mb(int64(job.HeapPeak)), mb(int64(job.GoMem)), job.Load)
}

// storeNote names the journal's store on a summary line when -journal
// chose it: " journal=postgres" or " journal=sqlite".
func storeNote(journal string) string {
	switch {
	case journal == "":
		return ""
	case strings.HasPrefix(journal, "postgres://") || strings.HasPrefix(journal, "postgresql://"):
		return " journal=postgres"
	default:
		return " journal=sqlite"
	}
}
