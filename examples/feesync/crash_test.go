package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// The crash test runs the feesync binary as a real process and kills it
// with SIGKILL at seeded random moments of `run charges` and `run
// payments`, rerunning after each kill, then checks that the outputs, the
// journal and Alma's balances equal those of a run that was never killed.

const crashSeed = 20261128

// crashSize is how much the crash test does: FEEBRIDGE_LONG=1 makes it
// bigger.
type crashSize struct {
	exports       int // Alma export files (as many as kills)
	feesPerExport int
	users         int
	kills         int // per job
}

func crashSizes() crashSize {
	if os.Getenv("FEEBRIDGE_LONG") == "1" {
		return crashSize{exports: 100, feesPerExport: 300, users: 3000, kills: 100}
	}
	return crashSize{exports: 20, feesPerExport: 150, users: 400, kills: 20}
}

// crashFeeTypes are the fee types drawn; LOCKERKEY has no PeopleSoft item
// type, so its fees are held and the journal has rejections to compare.
var crashFeeTypes = []fees.Type{
	fees.TypeOverdueFine, fees.TypeOverdueFine, fees.TypeOverdueFine,
	fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee,
	fees.TypeDamagedItemFine, fees.Type("LOCKERKEY"),
}

// newCrashAlma builds a fake Alma holding the test's fees, exporting them
// in size.exports files to dir. Two calls build the same Alma: the same
// seed and calls give the same ids.
func newCrashAlma(t *testing.T, size crashSize, dir string) (*almatest.Server, []string) {
	t.Helper()
	clock := almatest.NewManualClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
	a := almatest.NewServer(&almatest.Options{Clock: clock, Seed: crashSeed})
	t.Cleanup(a.Close)
	drop, err := localdrop.Open(dir, &localdrop.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer drop.Close()
	rng := rand.New(rand.NewPCG(crashSeed, 1))
	for u := range size.users {
		if err := a.AddUser(almatest.User{ID: fmt.Sprintf("100%05d", u), FirstName: "Student", LastName: strconv.Itoa(u)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for range size.exports {
		for range size.feesPerExport {
			user := fmt.Sprintf("100%05d", rng.IntN(size.users))
			cents := 25 + rng.IntN(25000)
			amount := fees.MustParseMoney(fmt.Sprintf("%d.%02d", cents/100, cents%100), fees.USD)
			if _, err := a.AddFee(user, almatest.FeeSpec{Type: crashFeeTypes[rng.IntN(len(crashFeeTypes))], Amount: amount}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := a.RunExport(t.Context(), drop, "exports", "BURSAR")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(res.File))
		clock.Advance(24 * time.Hour)
	}
	return a, names
}

// crashSite is one college's folders, journal and config for the binary.
type crashSite struct {
	t       *testing.T
	bin     string
	dir     string
	config  string
	journal string
	tmp     string
	alma    *almatest.Server
}

// newCrashSite makes a site in dir; its journal is journalPath (a
// postgres:// DSN), or journal.db in dir when journalPath is empty.
func newCrashSite(t *testing.T, bin, dir string, a *almatest.Server, journalPath string) *crashSite {
	t.Helper()
	if journalPath == "" {
		journalPath = filepath.Join(dir, "journal.db")
	}
	s := &crashSite{t: t, bin: bin, dir: dir, journal: journalPath, tmp: filepath.Join(dir, "tmp"), alma: a}
	for _, d := range []string{"library/exports", "library/credits", "library/imports", "peoplesoft/inbound", "peoplesoft/outbound", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.config = filepath.Join(dir, "feesync.toml")
	cfg := fmt.Sprintf(`timezone = "UTC"
journal = %q
[alma]
base_url = %q
[library]
type = "dir"
path = %q
settle = "0s"
[peoplesoft]
type = "dir"
path = %q
# The test writes each file whole before a run: claimed at once.
settle = "0s"
[webhook]
listen = "127.0.0.1:0"
`, s.journal, strings.TrimSuffix(a.URL(), almatest.BasePath), filepath.Join(dir, "library"), filepath.Join(dir, "peoplesoft"))
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// A new site: its journal is created once (feesync init).
	j, err := journal.Create(t.Context(), s.journal, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	return s
}

func (s *crashSite) path(rel string) string { return filepath.Join(s.dir, filepath.FromSlash(rel)) }

// command returns an unstarted `feesync run job` with a small, explicit
// environment: TMPDIR is the site's own, so temporary files a killed run
// leaves behind can be counted.
func (s *crashSite) command(job string, stderr *bytes.Buffer) *exec.Cmd {
	cmd := exec.Command(s.bin, "run", job, "-config", s.config)
	cmd.Env = []string{"TMPDIR=" + s.tmp, "FEEBRIDGE_ALMA_API_KEY=" + s.alma.APIKey(), "TZ=UTC"}
	cmd.Stderr = stderr
	return cmd
}

// run runs job to its end and returns the exit code and stderr.
func (s *crashSite) run(job string) (int, string) {
	s.t.Helper()
	var stderr bytes.Buffer
	err := s.command(job, &stderr).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	s.t.Fatalf("feesync run %s: %v", job, err)
	return 0, ""
}

// runClean runs job and fails the test unless it ends 0 or 3 (done, some
// records held).
func (s *crashSite) runClean(job string) {
	s.t.Helper()
	code, stderr := s.run(job)
	if code != ExitOK && code != ExitRejected {
		s.t.Fatalf("feesync run %s: exit %d\n%s", job, code, stderr)
	}
}

// withJournal opens the site's journal, calls fn with it and closes it.
// Before any run has made the journal it calls nothing: there is nothing
// to read or to break.
func (s *crashSite) withJournal(fn func(j *journal.Journal)) {
	s.t.Helper()
	if _, err := os.Stat(s.journal); err != nil && !journal.IsPostgres(s.journal) {
		return
	}
	j, err := journal.Open(s.t.Context(), s.journal, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() {
		if err := j.Close(); err != nil {
			s.t.Fatal(err)
		}
	}()
	fn(j)
}

// records lists the journal's records by kind and key, each as its kind,
// key, outcome, amount, output and reason joined by tabs.
func (s *crashSite) records() []string {
	s.t.Helper()
	var out []string
	s.withJournal(func(j *journal.Journal) {
		recs, err := j.Records(s.t.Context(), "", "")
		if err != nil {
			s.t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, strings.Join([]string{r.Kind, r.Key, r.Outcome, r.Amount.String(), r.Output, r.Reason}, "\t"))
		}
	})
	return out
}

// journalFiles lists the journal's files by job and name, each as its
// job, name, status, output, record and rejection counts and total joined
// by tabs.
func (s *crashSite) journalFiles() []string {
	s.t.Helper()
	var out []string
	s.withJournal(func(j *journal.Journal) {
		fs, err := j.Files(s.t.Context(), "")
		if err != nil {
			s.t.Fatal(err)
		}
		slices.SortStableFunc(fs, func(a, b journal.FileRecord) int {
			if c := strings.Compare(a.Job, b.Job); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		for _, f := range fs {
			out = append(out, strings.Join([]string{f.Job, f.Name, f.Status, f.Output,
				strconv.Itoa(f.Records), strconv.Itoa(f.Rejected), f.Total.String()}, "\t"))
		}
	})
	return out
}

// leases lists the job locks held in the journal, expired or not.
func (s *crashSite) leases() []journal.Lease {
	s.t.Helper()
	var out []journal.Lease
	s.withJournal(func(j *journal.Journal) {
		var err error
		if out, err = j.Leases(s.t.Context()); err != nil {
			s.t.Fatal(err)
		}
	})
	return out
}

// clearLocks breaks the job locks a killed run left, as reconcile's docs
// tell an operator to do once the process is known to be gone.
func (s *crashSite) clearLocks() {
	s.t.Helper()
	s.withJournal(func(j *journal.Journal) {
		leases, err := j.Leases(s.t.Context())
		if err != nil {
			s.t.Fatal(err)
		}
		for _, l := range leases {
			if err := j.BreakLease(s.t.Context(), l); err != nil {
				s.t.Fatal(err)
			}
		}
	})
}

// files lists the regular files under rel, recursively, as paths relative
// to rel, but the drop marks (reconcile.MarkDir): a consumer that reads
// sub-folders must pass them by, and they name the journal's random id.
func (s *crashSite) files(rel string) []string {
	s.t.Helper()
	root := s.path(rel)
	var out []string
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == reconcile.MarkDir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			r, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// snapshot describes the job's visible state: its folders and the
// journal's row counts. Two equal snapshots mean a run changed nothing.
func (s *crashSite) snapshot(in, out string) string {
	s.t.Helper()
	statuses := map[string]int{}
	for _, f := range s.journalFiles() {
		statuses[strings.Split(f, "\t")[2]]++
	}
	return fmt.Sprint(s.files(in), s.files(out), len(s.records()), statuses)
}

// killStats counts where the kills of one job landed.
type killStats struct {
	Kills        int // SIGKILLs sent to a running process
	NoEffect     int // of those, killed before the run changed anything (startup, lock, listing)
	Working      int // killed while working: a temporary file made, no change visible in folders or journal yet
	MidRun       int // killed after it changed folders or the journal
	Claimed      int // killed after claiming a new input file (moved to processing/)
	Exited       int // the process ended before its kill moment
	StaleLocks   int // a kill left the job's lock behind
	Blocked      int // the next run refused to start because of it
	TempLeftover int // files left in TMPDIR at the end
	HiddenOutput int // temporary (dot) files left in the output folder (none: the reruns remove them)
}

// refLoop runs job to its end n times, calling drop(i) before run i to
// add its new input, and returns how long each run took.
func (s *crashSite) refLoop(job string, n int, drop func(s *crashSite, i int)) []time.Duration {
	s.t.Helper()
	took := make([]time.Duration, n)
	for i := range n {
		drop(s, i)
		start := time.Now()
		s.runClean(job)
		took[i] = time.Since(start)
	}
	return took
}

// killLoop starts `feesync run job` once per entry of took, calling
// drop(i) before start i as refLoop does, and SIGKILLs run i after a delay
// drawn from [0, 1.1×took[i]): took are the reference's run times for the
// same inputs. in and out are the job's input and output folders.
func (s *crashSite) killLoop(job, in, out string, took []time.Duration, drop func(s *crashSite, i int), rng *rand.Rand) killStats {
	s.t.Helper()
	var st killStats
	for i, d := range took {
		drop(s, i)
		delay := time.Duration(rng.Int64N(int64(d) * 11 / 10))
		before := s.snapshot(in, out)
		claimedBefore := s.files(in + "/processing")
		tmpBefore := len(s.files("tmp"))
		var stderr bytes.Buffer
		cmd := s.command(job, &stderr)
		if err := cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			st.Exited++
			var ee *exec.ExitError
			if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != ExitRejected) {
				s.t.Fatalf("run %s ended by itself with %v\n%s", job, err, stderr.String())
			}
			continue
		case <-time.After(delay):
		}
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.t.Fatal(err)
		}
		if err := <-done; err == nil || !strings.Contains(err.Error(), "killed") {
			// It finished between the timer and the signal.
			st.Exited++
			continue
		}
		st.Kills++
		switch {
		case s.snapshot(in, out) != before:
			st.MidRun++
		case len(s.files("tmp")) > tmpBefore:
			st.Working++
		default:
			st.NoEffect++
		}
		for _, f := range s.files(in + "/processing") {
			if !slices.Contains(claimedBefore, f) {
				st.Claimed++
				break
			}
		}
		if len(s.leases()) > 0 {
			st.StaleLocks++
			// The rerun, as an operator or a scheduler would start it.
			code, stderr := s.run(job)
			switch {
			case code == ExitFailure && strings.Contains(stderr, "another run of this job is in progress"):
				st.Blocked++
				s.clearLocks()
			case code != ExitOK && code != ExitRejected:
				s.t.Fatalf("rerun of %s after a kill: exit %d\n%s", job, code, stderr)
			}
		}
	}
	return st
}

// chargeLines reads the reference charge files of the folder as a sorted
// list of "REF1_DESCR amount" (signed), failing on a file without its
// trailer.
func chargeLines(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // a temporary file a killed put left: counted apart
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) < 2 || lines[0][0] != 'H' || lines[len(lines)-1][0] != 'T' {
			t.Fatalf("%s: not a whole charge file", e.Name())
		}
		for i, l := range lines[1 : len(lines)-1] {
			if len(l) < 78 || l[0] != 'D' {
				t.Fatalf("%s:%d: not a detail record: %q", e.Name(), i+2, l)
			}
			out = append(out, strings.TrimSpace(l[48:78])+" "+l[24:25]+strings.TrimLeft(l[25:36], "0"))
		}
	}
	slices.Sort(out)
	return out
}

// importRecords reads the Alma import files of the folder as a sorted
// list of "bursarTransactionId amount".
func importRecords(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // a temporary file a killed put left: counted apart
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dec := alma.NewExportDecoder(f, &alma.DecoderOptions{File: e.Name(), AllowDuplicates: true})
		for {
			r, err := dec.Decode()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				f.Close()
				t.Fatalf("%s: %v", e.Name(), err)
			}
			out = append(out, r.TransactionID+" "+r.Amount.String())
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// duplicates returns the keys (first word) that occur more than once.
func duplicates(lines []string) []string {
	seen := map[string]int{}
	var dup []string
	for _, l := range lines {
		k, _, _ := strings.Cut(l, " ")
		if seen[k]++; seen[k] == 2 {
			dup = append(dup, k)
		}
	}
	return dup
}

// almaState lists every fee of a as "transaction status remaining".
func almaState(a *almatest.Server) []string {
	var out []string
	for _, f := range a.AllFees() {
		out = append(out, fmt.Sprintf("%s %s %s %s", f.TransactionID, f.Status, f.Balance, f.Paid))
	}
	slices.Sort(out)
	return out
}

// buildFeesync builds the binary under test into a temporary folder.
func buildFeesync(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH to build feesync")
	}
	bin := filepath.Join(t.TempDir(), "feesync")
	cmd := exec.CommandContext(t.Context(), goCmd, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hidden returns the names whose last element starts with a dot: the
// temporary names of puts; visible returns the others.
func hidden(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !strings.HasPrefix(filepath.Base(n), ".") })
}

func visible(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.HasPrefix(filepath.Base(n), ".") })
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// copyFiles copies the named files of src into dst.
func copyFiles(t *testing.T, src, dst string, names ...string) {
	t.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrashKill is the process-level crash test: see the top of this
// file. With FEEBRIDGE_LONG=1 it runs bigger inputs and 100 kills a job.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	crashKill(t, "", crashSizes())
}

// TestCrashKillPostgres is TestCrashKill with the killed site's journal on
// PostgreSQL (the reference site's stays on SQLite, so that the comparison
// also holds the stores to the same result). By default it kills each job
// 10 times, not 20; FEEBRIDGE_LONG=1 gives it the long size.
func TestCrashKillPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	size := crashSizes()
	if os.Getenv("FEEBRIDGE_LONG") != "1" {
		// Half the kills of the SQLite run by default: on PostgreSQL the
		// whole test takes about two minutes on a loaded machine.
		size.exports, size.kills = 10, 10
	}
	crashKill(t, pgtest.DSN(t), size)
}

// crashKill runs the crash test with the killed site's journal at
// crashJournal (empty: a SQLite file in its folder).
func crashKill(t *testing.T, crashJournal string, size crashSize) {
	ctx := t.Context()
	bin := buildFeesync(t)
	root := t.TempDir()

	// Alma's exports, and a second Alma with the same fees for the
	// crashed run's imports.
	refAlma, exports := newCrashAlma(t, size, filepath.Join(root, "gen"))
	crashAlma, _ := newCrashAlma(t, size, filepath.Join(root, "gen2"))
	genExports := filepath.Join(root, "gen", "exports")
	for _, n := range exports {
		a, _ := os.ReadFile(filepath.Join(genExports, n))
		b, _ := os.ReadFile(filepath.Join(root, "gen2", "exports", n))
		if !bytes.Equal(a, b) {
			t.Fatalf("the two fake Almas exported different %s", n)
		}
	}
	ref := newCrashSite(t, bin, filepath.Join(root, "ref"), refAlma, "")
	crash := newCrashSite(t, bin, filepath.Join(root, "crash"), crashAlma, crashJournal)
	rng := rand.New(rand.NewPCG(crashSeed, 2))

	// Charges: export i reaches the drop before run i, so that every run
	// has work to be killed in. Halfway, the first export is dropped
	// again under another name: its content must be handled once.
	dupName := strings.TrimSuffix(exports[0], ".xml") + "-again.xml"
	dropExport := func(s *crashSite, i int) {
		copyFiles(t, genExports, s.path("library/exports"), exports[i])
		if i == len(exports)/2 {
			b, _ := os.ReadFile(filepath.Join(genExports, exports[0]))
			if err := os.WriteFile(s.path("library/exports/"+dupName), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	chargesTook := ref.refLoop(jobCharges, len(exports), dropExport)
	chargeStats := crash.killLoop(jobCharges, "library/exports", "peoplesoft/inbound", chargesTook, dropExport, rng)
	crash.runClean(jobCharges)
	chargeStats.TempLeftover = len(crash.files("tmp"))

	// PeopleSoft loads the reference charges and students pay over some
	// days, one payment file a day.
	ledger := pstest.NewLedger(pstest.Options{Seed: crashSeed, Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }})
	for _, n := range ref.files("peoplesoft/inbound") {
		f, err := os.Open(ref.path("peoplesoft/inbound/" + n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.LoadChargeFile(n, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	payFiles := make([][]byte, size.kills)
	for d := range payFiles {
		at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, d)
		if _, err := ledger.SimulateDay(at, pstest.Behavior{EServices: 0.1, Cashier: 0.4}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := ledger.WritePayments(&buf); err != nil {
			t.Fatal(err)
		}
		payFiles[d] = buf.Bytes()
	}
	dropPayments := func(s *crashSite, i int) {
		if err := os.WriteFile(s.path(fmt.Sprintf("peoplesoft/outbound/payments-%03d.csv", i+1)), payFiles[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paymentsTook := ref.refLoop(jobPayments, len(payFiles), dropPayments)
	paymentStats := crash.killLoop(jobPayments, "peoplesoft/outbound", "library/imports", paymentsTook, dropPayments, rng)
	crash.runClean(jobPayments)
	paymentStats.TempLeftover = len(crash.files("tmp")) - chargeStats.TempLeftover
	chargeStats.HiddenOutput = len(hidden(crash.files("peoplesoft/inbound")))
	paymentStats.HiddenOutput = len(hidden(crash.files("library/imports")))
	// A rerun removes the temporary file of its own killed upload first
	// (issue 15, case 8): none is left once the clean reruns are done.
	for _, h := range append(hidden(crash.files("peoplesoft/inbound")), hidden(crash.files("library/imports"))...) {
		t.Errorf("a killed run left the temporary file %s in an output folder after the reruns", h)
	}

	// Each run removes what killed runs left in TMPDIR (reconcile's
	// Options.TempDir).
	if tmp := crash.files("tmp"); len(tmp) > 0 {
		t.Errorf("killed runs left %d files in TMPDIR after the clean reruns, such as %s", len(tmp), tmp[0])
	}
	t.Logf("fees %d in %d exports (+1 duplicate), payments %d in %d files",
		size.exports*size.feesPerExport, size.exports, ledger.Totals().Payments, len(payFiles))
	t.Logf("reference runs: charges %v in all (longest %v), payments %v (longest %v)",
		sum(chargesTook).Round(time.Millisecond), slices.Max(chargesTook).Round(time.Millisecond),
		sum(paymentsTook).Round(time.Millisecond), slices.Max(paymentsTook).Round(time.Millisecond))
	t.Logf("charges kills:  %+v", chargeStats)
	t.Logf("payments kills: %+v", paymentStats)
	// A killed run's lease names a process that no longer runs, so the
	// rerun takes it over (reconcile's docs, "Locks").
	if n := chargeStats.Blocked + paymentStats.Blocked; n > 0 {
		t.Errorf("%d reruns after a kill refused to start because of the killed run's lock", n)
	}

	// The outputs: the same records, none twice, none missing.
	for _, c := range []struct {
		what string
		read func(*testing.T, string) []string
		dir  string
	}{
		{"charge lines", chargeLines, "peoplesoft/inbound"},
		{"Alma import records", importRecords, "library/imports"},
	} {
		want, got := c.read(t, ref.path(c.dir)), c.read(t, crash.path(c.dir))
		if len(want) == 0 {
			t.Fatalf("the reference run wrote no %s", c.what)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s after the kills differ from the reference (-want +got):\n%s", c.what, diff)
		}
		if c.what == "charge lines" {
			if dup := duplicates(got); len(dup) > 0 {
				t.Errorf("%s: keys written twice: %v", c.what, dup)
			}
		}
		if diff := cmp.Diff(visible(ref.files(c.dir)), visible(crash.files(c.dir))); diff != "" {
			t.Errorf("%s: file names differ (-want +got):\n%s", c.what, diff)
		}
	}
	// Every input ended in done/ (or failed/, with its reason: an empty
	// payment file of a day without payments), and nothing is left
	// claimed. A run killed while it wrote a reason file leaves a hidden
	// temporary file beside it, as a killed put does in an output folder.
	for _, in := range []string{"library/exports", "peoplesoft/outbound"} {
		if diff := cmp.Diff(ref.files(in), visible(crash.files(in))); diff != "" {
			t.Errorf("%s differs from the reference (-want +got):\n%s", in, diff)
		}
		for _, h := range hidden(crash.files(in)) {
			t.Logf("a killed run left the temporary file %s in an input folder (hidden)", h)
		}
	}

	// The journal: every record key with the same outcome, amount, output
	// and reason; every file in the same state.
	if len(ref.records()) == 0 || len(ref.journalFiles()) == 0 {
		t.Fatal("the reference journal holds no records or no files")
	}
	if diff := cmp.Diff(ref.records(), crash.records()); diff != "" {
		t.Errorf("journal records differ (-want +got):\n%s", diff)
	}
	// Which of the first export and its copy is published and which is
	// the duplicate depends on the order a run meets them in: kills that
	// leave a backlog have a run meet both at once, and the copy's name
	// sorts first. One of each is what must hold.
	eitherOfFirst := func(files []string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			f = strings.Replace(f, dupName, "(the first export or its copy)", 1)
			out[i] = strings.Replace(f, exports[0], "(the first export or its copy)", 1)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff(eitherOfFirst(ref.journalFiles()), eitherOfFirst(crash.journalFiles())); diff != "" {
		t.Errorf("journal files differ (-want +got):\n%s", diff)
	}
	if got := crash.leases(); len(got) > 0 {
		t.Errorf("locks left after the final runs: %v", got)
	}

	// Alma: each side imports its own import files; every fee ends with
	// the same status and balance.
	for _, s := range []*crashSite{ref, crash} {
		drop, err := localdrop.Open(s.path("library"), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.alma.RunImport(ctx, drop, "imports")
		drop.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rj := res.Rejected(); len(rj) > 0 {
			t.Errorf("%s: Alma refused %d imported payments, first %+v", s.dir, len(rj), rj[0])
		}
	}
	if diff := cmp.Diff(almaState(refAlma), almaState(crashAlma)); diff != "" {
		t.Errorf("Alma's fees differ (-reference +crashed):\n%s", diff)
	}
}
