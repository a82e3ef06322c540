package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
	"github.com/feebridge/feebridge/transport/transporttest"
)

func TestValidName(t *testing.T) {
	good := []string{"a", "a.csv", "in/a.csv", "in/processing/a b.csv", "élève.xml", ".hidden", "a..b", "...", "x.tmp-zz"}
	for _, name := range good {
		if err := transport.ValidName(name); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range append([]string{""}, transporttest.BadNames...) {
		if err := transport.ValidName(name); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", name)
		}
	}
}

func TestTempName(t *testing.T) {
	a, b := transport.TempName("in/pay.csv"), transport.TempName("in/pay.csv")
	if a == b {
		t.Errorf("two temporary names are equal: %q", a)
	}
	if !strings.HasPrefix(a, "in/.pay.csv.tmp-") {
		t.Errorf("TempName = %q, want it in the same folder, hidden", a)
	}
	if !transport.IsTempName(a[len("in/"):]) {
		t.Errorf("IsTempName(%q) = false", a)
	}
	for _, name := range []string{"pay.csv", ".pay.csv", ".pay.csv.tmp-123", ".pay.csv.tmp-0123456789abcdeg"} {
		if transport.IsTempName(name) {
			t.Errorf("IsTempName(%q) = true", name)
		}
	}
}

func TestErrorCode(t *testing.T) {
	base := errors.New("550 No such file")
	tests := []struct {
		err  error
		want transport.Code
	}{
		{nil, transport.OK},
		{base, transport.Unknown},
		{&transport.Error{Code: transport.NotFound, Op: "open", Path: "a", Err: base}, transport.NotFound},
		{fmt.Errorf("job: %w", &transport.Error{Code: transport.Transient}), transport.Transient},
		{context.Canceled, transport.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), transport.Canceled},
	}
	for _, tt := range tests {
		if got := transport.ErrorCode(tt.err); got != tt.want {
			t.Errorf("ErrorCode(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	err := &transport.Error{Code: transport.NotFound, Op: "open", Path: "in/a.csv", Err: base}
	if got, want := err.Error(), "transport: open in/a.csv: not found: 550 No such file"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) || !errors.Is(err, base) {
		t.Errorf("errors.Is does not match the code and the cause")
	}
}

func TestNumbered(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"pay.csv", 1, "pay.1.csv"},
		{"pay", 2, "pay.2"},
		{"a.tar.gz", 3, "a.tar.3.gz"},
		{".profile", 1, ".profile.1"},
	}
	for _, tt := range tests {
		if got := transport.Numbered(tt.name, tt.n); got != tt.want {
			t.Errorf("Numbered(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
}

// flaky fails chosen calls of a driver with a transient error.
type flaky struct {
	transport.Driver
	mu sync.Mutex
	// fail[op] is how many of the next calls of op fail.
	fail map[string]int
	// lost[op]: the call is done, but reports a transient failure, as when
	// the server's reply is lost.
	lost  map[string]int
	calls map[string]int
}

func newFlaky() *flaky {
	return &flaky{Driver: memdrop.NewDriver(nil), fail: map[string]int{}, lost: map[string]int{}, calls: map[string]int{}}
}

var errReset = errors.New("connection reset by peer")

func (f *flaky) check(op string) (fail, lost bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if f.fail[op] > 0 {
		f.fail[op]--
		return true, false
	}
	if f.lost[op] > 0 {
		f.lost[op]--
		return false, true
	}
	return false, false
}

func transient(op string) error {
	return &transport.Error{Code: transport.Transient, Op: op, Err: errReset}
}

func (f *flaky) do(op string, fn func() error) error {
	fail, lost := f.check(op)
	if fail {
		return transient(op)
	}
	err := fn()
	if lost && err == nil {
		return transient(op)
	}
	return err
}

func (f *flaky) List(ctx context.Context, dir string) (list []transport.FileInfo, err error) {
	err = f.do("list", func() error { list, err = f.Driver.List(ctx, dir); return err })
	return list, err
}

func (f *flaky) Open(ctx context.Context, name string) (rc io.ReadCloser, err error) {
	err = f.do("open", func() error { rc, err = f.Driver.Open(ctx, name); return err })
	return rc, err
}

func (f *flaky) Create(ctx context.Context, name string, r io.Reader) error {
	return f.do("create", func() error {
		if f.fail["create-midway"] > 0 {
			f.fail["create-midway"]--
			_, _ = io.CopyN(io.Discard, r, 3)
			return transient("create")
		}
		return f.Driver.Create(ctx, name, r)
	})
}

func (f *flaky) Rename(ctx context.Context, from, to string) error {
	return f.do("rename", func() error { return f.Driver.Rename(ctx, from, to) })
}

func (f *flaky) Remove(ctx context.Context, name string) error {
	return f.do("remove", func() error { return f.Driver.Remove(ctx, name) })
}

var fast = &transport.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Jitter: 0.5}

func TestRetry(t *testing.T) {
	ctx := t.Context()
	f := newFlaky()
	d := transport.NewDrop(f, &transport.DropOptions{Retry: fast})
	if err := d.WriteFile(ctx, "a", []byte("A")); err != nil {
		t.Fatal(err)
	}

	f.fail["list"] = 2
	if _, err := d.List(ctx, ""); err != nil {
		t.Errorf("List after 2 transient failures: %v", err)
	}
	f.fail["list"] = 3
	_, err := d.List(ctx, "")
	if transport.ErrorCode(err) != transport.Transient || !errors.Is(err, errReset) {
		t.Errorf("List after 3 transient failures = %v, want the transient error", err)
	}

	f.fail["open"] = 2
	if got, err := d.ReadFile(ctx, "a"); err != nil || string(got) != "A" {
		t.Errorf("ReadFile = %q, %v", got, err)
	}

	// The reply to a rename or a remove is lost: the retry must see that
	// the work was done.
	f.lost["rename"] = 1
	if err := d.Rename(ctx, "a", "b"); err != nil {
		t.Errorf("Rename with a lost reply: %v", err)
	}
	f.lost["remove"] = 1
	if err := d.Remove(ctx, "b"); err != nil {
		t.Errorf("Remove with a lost reply: %v", err)
	}

	// An upload that fails halfway is retried when the input rewinds...
	f.fail["create-midway"] = 1
	if err := d.WriteFile(ctx, "c", []byte("content")); err != nil {
		t.Errorf("WriteFile after a failure halfway: %v", err)
	}
	// ...and not when it cannot.
	f.fail["create-midway"] = 1
	err = d.Put(ctx, "d", io.MultiReader(strings.NewReader("content")))
	if transport.ErrorCode(err) != transport.Transient {
		t.Errorf("Put of a stream after a failure halfway = %v, want the transient error", err)
	}

	list, err := d.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fi := range list {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff([]string{"c"}, got); diff != "" {
		t.Errorf("List at the end (-want +got):\n%s", diff)
	}
	all, _ := f.Driver.List(ctx, "")
	if len(all) != 1 {
		t.Errorf("temporary files left behind: %+v", all)
	}
}

func TestNoRetryOnPermanentErrors(t *testing.T) {
	f := newFlaky()
	d := transport.NewDrop(f, &transport.DropOptions{Retry: fast})
	_, err := d.ReadFile(t.Context(), "missing")
	if transport.ErrorCode(err) != transport.NotFound {
		t.Fatalf("ReadFile = %v", err)
	}
	if f.calls["open"] != 1 {
		t.Errorf("open called %d times for a NotFound, want 1", f.calls["open"])
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	f := newFlaky()
	slow := &transport.Retry{Attempts: 5, Backoff: time.Hour}
	d := transport.NewDrop(f, &transport.DropOptions{Retry: slow})
	ctx, cancel := context.WithCancel(t.Context())
	f.fail["list"] = 1
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err := d.List(ctx, "")
	if transport.ErrorCode(err) != transport.Canceled {
		t.Errorf("List canceled during the backoff = %v, want Canceled", err)
	}
}

// job is what every inbound job does with an inbox: claim each pending
// file, process it, and finish it. Files whose content starts with "bad"
// fail.
func job(ctx context.Context, d *transport.Drop) error {
	in := &transport.Inbox{Drop: d, Dir: "in"}
	pending, err := in.Pending(ctx)
	if err != nil {
		return err
	}
	for _, fi := range pending {
		c, err := in.Claim(ctx, fi.Name)
		if err != nil {
			return err
		}
		data, err := d.ReadFile(ctx, c.Path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, []byte("bad")) {
			err = in.Fail(ctx, c, "bad content")
		} else {
			err = in.Done(ctx, c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestClaimCrash stops the job after every possible number of driver calls,
// runs it again, and checks that every file ends exactly once in done/ or
// failed/, with nothing left behind.
func TestClaimCrash(t *testing.T) {
	ctx := t.Context()
	seed := map[string]string{"a.csv": "good a", "b.csv": "bad b", "c.csv": "good c"}
	want := map[string]string{
		"in/done/a.csv":              "good a",
		"in/done/c.csv":              "good c",
		"in/done/old.csv":            "earlier",
		"in/failed/b.csv":            "bad b",
		"in/failed/b.csv.reason.txt": "bad content\n",
	}
	for n := 0; ; n++ {
		mem := memdrop.NewDriver(nil)
		setup := transport.NewDrop(mem, nil)
		if err := setup.MkdirAll(ctx, "in/done"); err != nil {
			t.Fatal(err)
		}
		for name, content := range seed {
			if err := setup.WriteFile(ctx, "in/"+name, []byte(content)); err != nil {
				t.Fatal(err)
			}
		}
		if err := setup.WriteFile(ctx, "in/done/old.csv", []byte("earlier")); err != nil {
			t.Fatal(err)
		}

		fd := transporttest.NewFaultDriver(mem)
		fd.CrashAfter(n)
		err := job(ctx, transport.NewDrop(fd, &transport.DropOptions{Retry: &transport.NoRetry}))
		crashed := fd.Crashed()
		if err != nil && !errors.Is(err, transporttest.ErrCrashed) {
			t.Fatalf("crash after %d calls: unexpected error %v", n, err)
		}
		if err := job(ctx, setup); err != nil {
			t.Fatalf("crash after %d calls: the second run failed: %v", n, err)
		}
		if got := contents(t, setup, "in"); !cmp.Equal(want, got) {
			t.Fatalf("crash after %d calls: end state (-want +got):\n%s", n, cmp.Diff(want, got))
		}
		if !crashed {
			t.Logf("the job makes %d driver calls; a crash after each was recovered", n)
			return
		}
	}
}

// contents returns every file under dir with its content.
func contents(t *testing.T, d *transport.Drop, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, err := d.List(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range list {
		name := dir + "/" + fi.Name
		if fi.IsDir {
			for k, v := range contents(t, d, name) {
				out[k] = v
			}
			continue
		}
		data, err := d.ReadFile(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(data)
	}
	return out
}

// TestPutRemovesStaleTemps: a Put removes the temporary files of its
// folder that no upload touched for a day (left by a process killed in
// the middle of an upload), and leaves the recent ones, the other
// folders' and any other file alone.
func TestPutRemovesStaleTemps(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	mem := memdrop.NewDriver(&memdrop.Options{Now: clock})
	d := transport.NewDrop(mem, &transport.DropOptions{Now: clock})
	if err := d.MkdirAll(ctx, "out/sub"); err != nil {
		t.Fatal(err)
	}
	raw := func(name string) {
		if err := mem.Create(ctx, name, strings.NewReader("part")); err != nil {
			t.Fatal(err)
		}
	}
	raw("out/.a.csv.tmp-0123456789abcdef")     // two days old by the Put
	raw("out/sub/.b.csv.tmp-0123456789abcdef") // another folder
	raw("out/.a.csv.tmp")                      // not a temporary name
	now = now.Add(47 * time.Hour)
	raw("out/.c.csv.tmp-fedcba9876543210") // an hour old by the Put: may still be written
	now = now.Add(time.Hour)
	if err := d.WriteFile(ctx, "out/x.csv", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, dir := range []string{"out", "out/sub"} {
		list, err := mem.List(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fi := range list {
			if !fi.IsDir {
				got = append(got, dir+"/"+fi.Name)
			}
		}
	}
	slices.Sort(got)
	want := []string{"out/.a.csv.tmp", "out/.c.csv.tmp-fedcba9876543210", "out/sub/.b.csv.tmp-0123456789abcdef", "out/x.csv"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files after the Put (-want +got):\n%s", diff)
	}
	// StaleTemps < 0 keeps them all.
	raw("out/.d.csv.tmp-0123456789abcdef")
	now = now.Add(72 * time.Hour)
	keep := transport.NewDrop(mem, &transport.DropOptions{Now: clock, StaleTemps: -1})
	if err := keep.WriteFile(ctx, "out/y.csv", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Stat(ctx, "out/.d.csv.tmp-0123456789abcdef"); err != nil {
		t.Errorf("StaleTemps -1 removed a temporary file: %v", err)
	}
}

// TestRemoveTemps: RemoveTemps removes the temporary files of one name at
// once, whatever their age (a killed upload of that name left them), and
// leaves the temporary files of other names, the file itself and other
// files alone.
func TestRemoveTemps(t *testing.T) {
	ctx := t.Context()
	mem := memdrop.NewDriver(nil)
	d := transport.NewDrop(mem, nil)
	if err := d.MkdirAll(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	raw := func(name string) {
		if err := mem.Create(ctx, name, strings.NewReader("part")); err != nil {
			t.Fatal(err)
		}
	}
	raw("out/.a.csv.tmp-0123456789abcdef")  // a's: removed
	raw("out/.a.csv.tmp-fedcba9876543210")  // a's: removed
	raw("out/.xa.csv.tmp-0123456789abcdef") // another name's
	raw("out/.a.csv.x.tmp-0123456789abcdef")
	raw("out/.a.csv.tmp") // not a temporary name
	raw("out/a.csv")
	got, err := d.RemoveTemps(ctx, "out/a.csv")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got) // in the order the driver lists them
	if diff := cmp.Diff([]string{"out/.a.csv.tmp-0123456789abcdef", "out/.a.csv.tmp-fedcba9876543210"}, got); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	list, err := mem.List(ctx, "out")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, fi := range list {
		left = append(left, fi.Name)
	}
	slices.Sort(left)
	want := []string{".a.csv.tmp", ".a.csv.x.tmp-0123456789abcdef", ".xa.csv.tmp-0123456789abcdef", "a.csv"}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
	if got, err := d.RemoveTemps(ctx, "missing/a.csv"); err != nil || len(got) != 0 {
		t.Errorf("RemoveTemps in a missing folder = %v, %v", got, err)
	}
}

// dotHider lists no name that starts with a dot, as vsftpd's LIST does by
// default, and hides the driver's atomic put.
type dotHider struct{ transport.Driver }

func (h dotHider) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	list, err := h.Driver.List(ctx, dir)
	return slices.DeleteFunc(list, func(fi transport.FileInfo) bool { return strings.HasPrefix(fi.Name, ".") }), err
}

// TestPutOwnedTempRemovedUnlisted: PutOwned writes under the fixed name
// OwnedTempName, which RemoveTemps removes without listing it.
func TestPutOwnedTempRemovedUnlisted(t *testing.T) {
	ctx := t.Context()
	mem := memdrop.NewDriver(nil)
	d := transport.NewDrop(dotHider{mem}, &transport.DropOptions{Retry: &transport.NoRetry})
	if err := d.MkdirAll(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	// An upload that dies in the middle: the reader fails, the clean-up
	// is what a killed process never does, so the file is put back.
	owned := transport.OwnedTempName("out/a.csv")
	if !transport.IsTempName(path.Base(owned)) || owned != transport.OwnedTempName("out/a.csv") {
		t.Fatalf("OwnedTempName = %q", owned)
	}
	if err := d.PutOwned(ctx, "out/a.csv", iotest.ErrReader(errors.New("cut"))); err == nil {
		t.Fatal("PutOwned of a failing reader succeeded")
	}
	if err := mem.Create(ctx, owned, strings.NewReader("part")); err != nil {
		t.Fatal(err)
	}
	got, err := d.RemoveTemps(ctx, "out/a.csv")
	if err != nil || !slices.Equal(got, []string{owned}) {
		t.Errorf("RemoveTemps = %v, %v; want [%s]", got, err, owned)
	}
	if _, err := mem.Stat(ctx, owned); transport.ErrorCode(err) != transport.NotFound {
		t.Errorf("%s still there: %v", owned, err)
	}
	if err := d.PutOwned(ctx, "out/a.csv", strings.NewReader("whole")); err != nil {
		t.Fatal(err)
	}
	if b, err := d.ReadFile(ctx, "out/a.csv"); err != nil || string(b) != "whole" {
		t.Errorf("after PutOwned: %q, %v", b, err)
	}
}
