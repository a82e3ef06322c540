package reconcile_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// killDriver is a driver whose process dies once a temporary upload file
// is written, when armed: the upload's rename and its clean-up never
// happen, and every later call fails, as after a SIGKILL in the middle of
// a put. It hides the wrapped driver's atomic put, so that the Drop
// writes a temporary file first, as it does over FTP.
type killDriver struct {
	transport.Driver
	mu    sync.Mutex
	armed bool
	dead  bool
}

var errKilled = errors.New("killed")

func (k *killDriver) check(op, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return &transport.Error{Code: transport.Unknown, Op: op, Path: p, Err: errKilled}
	}
	return nil
}

// restart is a new process over the same storage.
func (k *killDriver) restart() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.armed, k.dead = false, false
}

func (k *killDriver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	if err := k.check("list", dir); err != nil {
		return nil, err
	}
	return k.Driver.List(ctx, dir)
}

func (k *killDriver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := k.check("open", name); err != nil {
		return nil, err
	}
	return k.Driver.Open(ctx, name)
}

func (k *killDriver) Create(ctx context.Context, name string, r io.Reader) error {
	if err := k.check("create", name); err != nil {
		return err
	}
	if err := k.Driver.Create(ctx, name, r); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.armed && transport.IsTempName(path.Base(name)) {
		k.dead = true
		return &transport.Error{Code: transport.Unknown, Op: "create", Path: name, Err: errKilled}
	}
	return nil
}

func (k *killDriver) Rename(ctx context.Context, from, to string) error {
	if err := k.check("rename", from); err != nil {
		return err
	}
	return k.Driver.Rename(ctx, from, to)
}

func (k *killDriver) Remove(ctx context.Context, name string) error {
	if err := k.check("remove", name); err != nil {
		return err
	}
	return k.Driver.Remove(ctx, name)
}

func (k *killDriver) Mkdir(ctx context.Context, dir string) error {
	if err := k.check("mkdir", dir); err != nil {
		return err
	}
	return k.Driver.Mkdir(ctx, dir)
}

// tempsIn lists the temporary upload files of dir on the bare driver.
func tempsIn(t *testing.T, d transport.Driver, dir string) []string {
	t.Helper()
	list, err := d.List(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fi := range list {
		if transport.IsTempName(fi.Name) {
			out = append(out, fi.Name)
		}
	}
	return out
}

// A run killed in the middle of an upload leaves its temporary file in
// the output folder (issue 15, case 8). The next run removes it first,
// before it decides anything, not a day later; then the output is put
// once.
func TestKilledUploadTempRemovedFirstOnRerun(t *testing.T) {
	killedUploadTempRemovedFirstOnRerun(t, newEnv)
}

// TestKilledUploadTempRemovedFirstOnRerunPostgres: the same with the
// journals on PostgreSQL.
func TestKilledUploadTempRemovedFirstOnRerunPostgres(t *testing.T) {
	killedUploadTempRemovedFirstOnRerun(t, onPostgres)
}

// onPostgres is newEnv with its journal in a fresh PostgreSQL database.
func onPostgres(t *testing.T) *env { t.Helper(); return newEnvOn(t, pgtest.DSN(t)) }

func killedUploadTempRemovedFirstOnRerun(t *testing.T, newEnv func(*testing.T) *env) {
	clean := newEnv(t)
	exportA(clean)
	if _, err := clean.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	mem := memdrop.NewDriver(nil)
	kd := &killDriver{Driver: mem}
	e.bursar = transport.NewDrop(kd, &transport.DropOptions{Retry: &transport.NoRetry})
	for _, d := range []string{"inbound", "outbound"} {
		if err := e.bursar.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	exportA(e)
	kd.armed = true
	if _, err := e.jobs(nil).Charges(t.Context()); !errors.Is(err, errKilled) {
		t.Fatalf("run killed in the upload: err = %v", err)
	}
	if got := tempsIn(t, mem, "inbound"); len(got) != 1 {
		t.Fatalf("the killed upload left %v, want one temporary file", got)
	}
	// A new process; its run stops at its first step after start-up.
	kd.restart()
	e.journal.Close()
	e.openJournal()
	stop := errors.New("stop")
	_, err := e.jobs(func(step string) error {
		if step == reconcile.StepDecide {
			return stop
		}
		return nil
	}).Charges(t.Context())
	if !errors.Is(err, stop) {
		t.Fatalf("rerun: err = %v", err)
	}
	if got := tempsIn(t, mem, "inbound"); len(got) != 0 {
		t.Errorf("before the rerun decided anything, the temporary file is still there: %v", got)
	}
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(clean.state(), e.state()); diff != "" {
		t.Errorf("after the kill and the reruns (-clean +got):\n%s", diff)
	}
	if got := tempsIn(t, mem, "inbound"); len(got) != 0 {
		t.Errorf("temporary files left: %v", got)
	}
}

// consumer is a system that takes files from a folder and applies every
// record in them, with no memory of what it applied before (it does not
// skip repeats), as Alma's bursar import or a PeopleSoft load that is not
// told otherwise: it counts the records it applied, by line, and moves
// each file it took to its taken folder, or deletes it when it has none.
type consumer struct {
	drop    *transport.Drop
	dir     string
	taken   string // "" deletes the files taken
	prefix  string // the first field of a record line ("P|", "C|")
	applied map[string]int
}

func (c *consumer) run(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	list, err := c.drop.List(ctx, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range list {
		if fi.IsDir {
			continue
		}
		p := path.Join(c.dir, fi.Name)
		data, err := c.drop.ReadFile(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), c.prefix) {
				c.applied[sc.Text()]++
			}
		}
		if c.taken == "" {
			err = c.drop.Remove(ctx, p)
		} else {
			err = c.drop.Rename(ctx, p, path.Join(c.taken, fi.Name))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A crash after the upload and before the journal marked the file
// published (issue 15, case 8): the consumer takes the file in between
// and applies it; the rerun finds it in the consumer's taken folder, or
// still in the output folder, and does not put it again, so every record
// is applied exactly once. Without a taken folder, a consumer that deletes
// what it took leaves nothing to find: that window stays open, as the
// README says ("Exactly once, drop by drop").
func TestCrashAfterPutAppliedOnce(t *testing.T) { crashAfterPutAppliedOnce(t, newEnv) }

// TestCrashAfterPutAppliedOncePostgres: the same with the journals on
// PostgreSQL.
func TestCrashAfterPutAppliedOncePostgres(t *testing.T) { crashAfterPutAppliedOnce(t, onPostgres) }

func crashAfterPutAppliedOnce(t *testing.T, newEnv func(*testing.T) *env) {
	type job struct {
		name        string
		setup       func(t *testing.T, e *env)
		run         func(j *reconcile.Jobs, ctx context.Context) (reconcile.RunResult, error)
		drop        func(e *env) *transport.Drop
		dir, prefix string
		setTaken    func(e *env, dir string)
	}
	jobs := []job{
		{"payments to Alma's import", func(t *testing.T, e *env) { charged(t, e); paymentsA(e) },
			(*reconcile.Jobs).Payments, func(e *env) *transport.Drop { return e.library }, "imports", "P|",
			func(e *env, dir string) { e.opts.Folders.ImportsTaken = dir }},
		{"charges to PeopleSoft's inbound", func(t *testing.T, e *env) { exportA(e) },
			(*reconcile.Jobs).Charges, func(e *env) *transport.Drop { return e.bursar }, "inbound", "C|",
			func(e *env, dir string) { e.opts.Folders.ChargesTaken = dir }},
	}
	cases := []struct {
		name     string
		taken    bool // the consumer moves what it took to a folder feesync is told
		consumed bool // the consumer runs between the crash and the rerun
		want     int  // times each record is applied in the end
	}{
		{"taken to the configured folder", true, true, 1},
		{"not taken yet", false, false, 1},
		{"deleted by the consumer, no taken folder: the window", false, true, 2},
	}
	for _, jb := range jobs {
		for _, tc := range cases {
			t.Run(jb.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				jb.setup(t, e)
				c := &consumer{drop: jb.drop(e), dir: jb.dir, prefix: jb.prefix, applied: map[string]int{}}
				if tc.taken {
					c.taken = jb.dir + "/taken"
					if err := c.drop.MkdirAll(t.Context(), c.taken); err != nil {
						t.Fatal(err)
					}
					jb.setTaken(e, c.taken)
				}
				crash := errors.New("crash")
				_, err := jb.run(e.jobs(func(step string) error {
					if step == reconcile.StepCommit {
						return crash
					}
					return nil
				}), t.Context())
				if !errors.Is(err, crash) {
					t.Fatalf("run with a crash after the put: err = %v", err)
				}
				e.journal.Close()
				e.openJournal()
				if tc.consumed {
					c.run(t)
					if len(c.applied) == 0 {
						t.Fatal("the consumer found nothing to apply after the put")
					}
				}
				res, err := jb.run(e.jobs(nil), t.Context())
				if err != nil {
					t.Fatal(err)
				}
				c.run(t)
				c.run(t) // a later run of the consumer finds nothing new
				for rec, n := range c.applied {
					if n != tc.want {
						t.Errorf("%s applied %d times, want %d", rec, n, tc.want)
					}
				}
				files, err := e.journal.Files(t.Context(), "")
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if f.Output != "" && f.Status != reconcile.FilePublished {
						t.Errorf("%s %s: status %s after the rerun (%+v)", f.Job, f.Name, f.Status, res)
					}
				}
			})
		}
	}
}
