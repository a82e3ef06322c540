// Package transporttest is the conformance suite that every file-drop
// driver of feebridge passes, and tools for testing code that uses drops.
//
// A driver's test builds a [Harness] that hands out fresh, empty drops and
// calls [RunConformanceTests]:
//
//	func TestConformance(t *testing.T) {
//		transporttest.RunConformanceTests(t, transporttest.Harness{
//			NewDrop: func(t *testing.T) *transport.Drop { return memdrop.New() },
//		})
//	}
//
// The suite checks listing, reading, atomic writes and overwrites, rename,
// remove, missing files, bad names, a large file, concurrent readers and
// writers, canceled contexts and the [transport.Inbox] claim protocol.
//
// [FaultDriver] simulates a crash after a chosen number of driver calls,
// for crash-recovery tests of jobs built on drops.
package transporttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/feebridge/feebridge/transport"
)

// Harness tells the suite how to get drops of the driver under test.
type Harness struct {
	// NewDrop returns a new, empty drop for one test, closed by the suite.
	// It reports setup failures with t.Fatal and registers its own cleanup.
	NewDrop func(t *testing.T) *transport.Drop

	// LargeSize is the size of the large file; 0 means 8 MiB, or 64 MiB
	// when FEEBRIDGE_LONG=1 is set.
	LargeSize int64

	// TimeSlack is how far a listed modification time may be from the
	// test's clock; 0 means 2 minutes (FTP LIST has minute precision).
	TimeSlack time.Duration
}

// RunConformanceTests runs the whole suite as subtests of t.
func RunConformanceTests(t *testing.T, h Harness) {
	t.Helper()
	if h.LargeSize == 0 {
		h.LargeSize = 8 << 20
		if os.Getenv("FEEBRIDGE_LONG") == "1" {
			h.LargeSize = 64 << 20
		}
	}
	if h.TimeSlack == 0 {
		h.TimeSlack = 2 * time.Minute
	}
	tests := []struct {
		name string
		fn   func(*testing.T, *transport.Drop, Harness)
	}{
		{"ListEmpty", testListEmpty},
		{"WriteRead", testWriteRead},
		{"Folders", testFolders},
		{"PutStream", testPutStream},
		{"Overwrite", testOverwrite},
		{"EmptyFile", testEmptyFile},
		{"Rename", testRename},
		{"Remove", testRemove},
		{"Missing", testMissing},
		{"BadNames", testBadNames},
		{"UnusualNames", testUnusualNames},
		{"TempHidden", testTempHidden},
		{"LargeFile", testLargeFile},
		{"Concurrent", testConcurrent},
		{"Canceled", testCanceled},
		{"CanceledPut", testCanceledPut},
		{"Claim", testClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drop := h.NewDrop(t)
			t.Cleanup(func() {
				if err := drop.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, drop, h)
		})
	}
}

// names returns the names of a listing, folders with a trailing slash.
func names(list []transport.FileInfo) []string {
	out := []string{}
	for _, fi := range list {
		if fi.IsDir {
			out = append(out, fi.Name+"/")
		} else {
			out = append(out, fi.Name)
		}
	}
	return out
}

func mustList(t *testing.T, d *transport.Drop, dir string) []string {
	t.Helper()
	list, err := d.List(t.Context(), dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return names(list)
}

func mustWrite(t *testing.T, d *transport.Drop, name, content string) {
	t.Helper()
	if err := d.WriteFile(t.Context(), name, []byte(content)); err != nil {
		t.Fatalf("WriteFile(%q): %v", name, err)
	}
}

func mustMkdir(t *testing.T, d *transport.Drop, dir string) {
	t.Helper()
	if err := d.MkdirAll(t.Context(), dir); err != nil {
		t.Fatalf("MkdirAll(%q): %v", dir, err)
	}
}

func checkContent(t *testing.T, d *transport.Drop, name, want string) {
	t.Helper()
	got, err := d.ReadFile(t.Context(), name)
	if err != nil {
		t.Fatalf("ReadFile(%q): %v", name, err)
	}
	if string(got) != want {
		t.Errorf("ReadFile(%q) = %q, want %q", name, truncate(got), truncate([]byte(want)))
	}
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

func checkCode(t *testing.T, what string, err error, want transport.Code) {
	t.Helper()
	if got := transport.ErrorCode(err); got != want {
		t.Errorf("%s: error code %v (err %v), want %v", what, got, err, want)
		return
	}
	var e *transport.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %T is not a *transport.Error", what, err)
	}
}

func testListEmpty(t *testing.T, d *transport.Drop, _ Harness) {
	if diff := cmp.Diff([]string{}, mustList(t, d, "")); diff != "" {
		t.Errorf("List(\"\") of a new drop (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, mustList(t, d, ".")); diff != "" {
		t.Errorf("List(\".\") of a new drop (-want +got):\n%s", diff)
	}
}

func testWriteRead(t *testing.T, d *transport.Drop, h Harness) {
	ctx := t.Context()
	start := time.Now()
	mustWrite(t, d, "b.txt", "second")
	mustWrite(t, d, "a.txt", "hello, bursar\n")
	checkContent(t, d, "a.txt", "hello, bursar\n")

	list, err := d.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a.txt", "b.txt"}, names(list)); diff != "" {
		t.Fatalf("List (-want +got):\n%s", diff)
	}
	if list[0].Size != 14 || list[1].Size != 6 {
		t.Errorf("sizes = %d, %d, want 14, 6", list[0].Size, list[1].Size)
	}
	for _, fi := range list {
		if d := fi.ModTime.Sub(start); d < -h.TimeSlack || d > h.TimeSlack {
			t.Errorf("%s: ModTime %v is %v away from the time of writing %v", fi.Name, fi.ModTime, d, start)
		}
	}

	fi, err := d.Stat(ctx, "a.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if diff := cmp.Diff(list[0], fi); diff != "" {
		t.Errorf("Stat differs from List (-list +stat):\n%s", diff)
	}

	rc, err := d.Open(ctx, "a.txt")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if string(got) != "hello, bursar\n" {
		t.Errorf("Open read %q", got)
	}
}

func testFolders(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustMkdir(t, d, "in/deep/er")
	mustMkdir(t, d, "in/deep/er") // again: no error
	mustMkdir(t, d, "in")
	mustMkdir(t, d, "out")
	mustWrite(t, d, "in/deep/er/x.csv", "x")
	mustWrite(t, d, "in/top.csv", "top")

	if diff := cmp.Diff([]string{"in/", "out/"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List root (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"deep/", "top.csv"}, mustList(t, d, "in")); diff != "" {
		t.Errorf("List in (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x.csv"}, mustList(t, d, "in/deep/er")); diff != "" {
		t.Errorf("List in/deep/er (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, mustList(t, d, "out")); diff != "" {
		t.Errorf("List out (-want +got):\n%s", diff)
	}
	fi, err := d.Stat(ctx, "in/deep")
	if err != nil || !fi.IsDir || fi.Name != "deep" {
		t.Errorf("Stat(in/deep) = %+v, %v; want a folder named deep", fi, err)
	}
	checkContent(t, d, "in/deep/er/x.csv", "x")
}

// onlyReader hides every method of a reader but Read, so that Put cannot
// rewind it.
type onlyReader struct{ io.Reader }

func testPutStream(t *testing.T, d *transport.Drop, _ Harness) {
	want := strings.Repeat("0123456789abcdef", 40_000) // 640 KB, several buffers
	if err := d.Put(t.Context(), "stream.dat", onlyReader{strings.NewReader(want)}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkContent(t, d, "stream.dat", want)
	if diff := cmp.Diff([]string{"stream.dat"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func testOverwrite(t *testing.T, d *transport.Drop, _ Harness) {
	mustWrite(t, d, "f.csv", "a long first version of the file\n")
	mustWrite(t, d, "f.csv", "short\n")
	checkContent(t, d, "f.csv", "short\n")
	fi, err := d.Stat(t.Context(), "f.csv")
	if err != nil || fi.Size != 6 {
		t.Errorf("Stat = %+v, %v; want size 6", fi, err)
	}
	mustWrite(t, d, "f.csv", "third, longer than the second\n")
	checkContent(t, d, "f.csv", "third, longer than the second\n")
	if diff := cmp.Diff([]string{"f.csv"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func testEmptyFile(t *testing.T, d *transport.Drop, _ Harness) {
	mustWrite(t, d, "empty", "")
	checkContent(t, d, "empty", "")
	fi, err := d.Stat(t.Context(), "empty")
	if err != nil || fi.Size != 0 || fi.IsDir {
		t.Errorf("Stat = %+v, %v; want an empty file", fi, err)
	}
}

func testRename(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustMkdir(t, d, "out")
	mustWrite(t, d, "a", "A")
	mustWrite(t, d, "b", "B")

	if err := d.Rename(ctx, "a", "c"); err != nil {
		t.Fatalf("Rename a -> c: %v", err)
	}
	checkContent(t, d, "c", "A")
	if err := d.Rename(ctx, "c", "out/c"); err != nil {
		t.Fatalf("Rename c -> out/c: %v", err)
	}
	if err := d.Rename(ctx, "b", "out/c"); err != nil {
		t.Fatalf("Rename b -> out/c over an existing file: %v", err)
	}
	checkContent(t, d, "out/c", "B")
	if diff := cmp.Diff([]string{"out/"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List root (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c"}, mustList(t, d, "out")); diff != "" {
		t.Errorf("List out (-want +got):\n%s", diff)
	}
	checkCode(t, "Rename of a missing file", d.Rename(ctx, "nothing", "x"), transport.NotFound)
	checkCode(t, "Rename into a missing folder", d.Rename(ctx, "out/c", "nofolder/c"), transport.NotFound)
	checkContent(t, d, "out/c", "B")
}

func testRemove(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustWrite(t, d, "a", "A")
	mustWrite(t, d, "b", "B")
	if err := d.Remove(ctx, "a"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if diff := cmp.Diff([]string{"b"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	checkCode(t, "second Remove", d.Remove(ctx, "a"), transport.NotFound)
}

func testMissing(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustMkdir(t, d, "dir")
	_, err := d.Open(ctx, "missing.csv")
	checkCode(t, "Open", err, transport.NotFound)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open: errors.Is(%v, fs.ErrNotExist) is false", err)
	}
	_, err = d.ReadFile(ctx, "dir/missing.csv")
	checkCode(t, "ReadFile", err, transport.NotFound)
	_, err = d.Stat(ctx, "missing.csv")
	checkCode(t, "Stat", err, transport.NotFound)
	_, err = d.Stat(ctx, "nodir/missing.csv")
	checkCode(t, "Stat in a missing folder", err, transport.NotFound)
	checkCode(t, "Remove", d.Remove(ctx, "missing.csv"), transport.NotFound)
	checkCode(t, "Rename", d.Rename(ctx, "missing.csv", "x.csv"), transport.NotFound)
	_, err = d.List(ctx, "nodir")
	checkCode(t, "List of a missing folder", err, transport.NotFound)
	checkCode(t, "WriteFile into a missing folder", d.WriteFile(ctx, "nodir/x.csv", []byte("x")), transport.NotFound)
	if diff := cmp.Diff([]string{"dir/"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List after the failures (-want +got):\n%s", diff)
	}
}

// BadNames are names every drop refuses with [transport.InvalidName].
var BadNames = []string{
	"/abs.csv", "../up.csv", "a/../../up.csv", "a/./b", "a//b", "dir/", "./a",
	"..", ".", "a\x00b", "a\nRNTO evil", "a\rb", "tab\there", "del\x7f",
	`back\slash`, "bad\xffutf8", ".x.csv.tmp-0123456789abcdef",
}

func testBadNames(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustWrite(t, d, "good.csv", "good")
	for _, name := range BadNames {
		what := func(op string) string { return fmt.Sprintf("%s(%q)", op, name) }
		_, err := d.Open(ctx, name)
		checkCode(t, what("Open"), err, transport.InvalidName)
		_, err = d.ReadFile(ctx, name)
		checkCode(t, what("ReadFile"), err, transport.InvalidName)
		_, err = d.Stat(ctx, name)
		checkCode(t, what("Stat"), err, transport.InvalidName)
		checkCode(t, what("WriteFile"), d.WriteFile(ctx, name, []byte("x")), transport.InvalidName)
		checkCode(t, what("Put"), d.Put(ctx, name, strings.NewReader("x")), transport.InvalidName)
		checkCode(t, what("Rename from"), d.Rename(ctx, name, "x.csv"), transport.InvalidName)
		checkCode(t, what("Rename to"), d.Rename(ctx, "good.csv", name), transport.InvalidName)
		checkCode(t, what("Remove"), d.Remove(ctx, name), transport.InvalidName)
		if name != "." {
			_, err = d.List(ctx, name)
			checkCode(t, what("List"), err, transport.InvalidName)
			checkCode(t, what("MkdirAll"), d.MkdirAll(ctx, name), transport.InvalidName)
		}
	}
	if diff := cmp.Diff([]string{"good.csv"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List after bad names (-want +got):\n%s", diff)
	}
	checkContent(t, d, "good.csv", "good")
}

func testUnusualNames(t *testing.T, d *transport.Drop, _ Harness) {
	// Names the jobs meet in practice: spaces, accents, several dots, a
	// leading dash. (Hidden names are left out: some FTP servers hide them.)
	list := []string{"pay ment 2024.csv", "reçu-élève.xml", "a.b.c.txt", "-dash", "UPPER.CSV"}
	for _, name := range list {
		mustWrite(t, d, name, "content of "+name)
	}
	want := slices.Clone(list)
	slices.Sort(want)
	if diff := cmp.Diff(want, mustList(t, d, "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, name := range list {
		checkContent(t, d, name, "content of "+name)
	}
}

func testTempHidden(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustWrite(t, d, "old.csv", "old")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- d.Put(ctx, "new.csv", pr) }()
	if _, err := pw.Write([]byte("first half,")); err != nil {
		t.Fatalf("writing the first half: %v", err)
	}
	// The upload is under way: its temporary name must not show.
	if diff := cmp.Diff([]string{"old.csv"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List during the upload (-want +got):\n%s", diff)
	}
	_, err := d.Stat(ctx, "new.csv")
	checkCode(t, "Stat of the final name during the upload", err, transport.NotFound)
	if _, err := pw.Write([]byte("second half")); err != nil {
		t.Fatalf("writing the second half: %v", err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkContent(t, d, "new.csv", "first half,second half")
	if diff := cmp.Diff([]string{"new.csv", "old.csv"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List after the upload (-want +got):\n%s", diff)
	}
}

// pattern is a deterministic, non-repeating-looking byte stream.
type pattern struct {
	n, size int64
	seed    byte
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.n >= p.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.size-p.n)]
	for i := range b {
		x := p.n + int64(i)
		b[i] = byte(x) ^ byte(x>>8) ^ byte(x>>16)*7 ^ p.seed
	}
	p.n += int64(len(b))
	return len(b), nil
}

func testLargeFile(t *testing.T, d *transport.Drop, h Harness) {
	ctx := t.Context()
	wantHash := sha256.New()
	if _, err := io.Copy(wantHash, &pattern{size: h.LargeSize, seed: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "large.bin", &pattern{size: h.LargeSize, seed: 1}); err != nil {
		t.Fatalf("Put of %d bytes: %v", h.LargeSize, err)
	}
	fi, err := d.Stat(ctx, "large.bin")
	if err != nil || fi.Size != h.LargeSize {
		t.Fatalf("Stat = %+v, %v; want size %d", fi, err, h.LargeSize)
	}
	rc, err := d.Open(ctx, "large.bin")
	if err != nil {
		t.Fatal(err)
	}
	gotHash := sha256.New()
	n, err := io.Copy(gotHash, rc)
	if err != nil {
		t.Fatalf("reading after %d bytes: %v", n, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("closing: %v", err)
	}
	if n != h.LargeSize || !bytes.Equal(gotHash.Sum(nil), wantHash.Sum(nil)) {
		t.Errorf("read %d bytes with another hash, want %d bytes", n, h.LargeSize)
	}
}

// version returns the content of version v of a shared file: whole
// versions are easy to tell from a mix or a part.
func version(v int) []byte {
	const size = 256 << 10
	b := bytes.Repeat([]byte{byte('A' + v)}, size)
	copy(b, fmt.Sprintf("version %02d\n", v))
	return b
}

func checkVersion(data []byte) error {
	if len(data) != 256<<10 {
		return fmt.Errorf("%d bytes, want %d", len(data), 256<<10)
	}
	v, err := strconv.Atoi(string(data[8:10]))
	if err != nil || !bytes.HasPrefix(data, []byte("version ")) {
		return fmt.Errorf("no version header: %q", data[:11])
	}
	if !bytes.Equal(data, version(v)) {
		return fmt.Errorf("version %d is mixed or partial", v)
	}
	return nil
}

func testConcurrent(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	const writers, readers, rounds = 3, 3, 3
	g, gctx := errgroup.WithContext(ctx)
	var writing sync.WaitGroup
	writing.Add(writers)
	stop := make(chan struct{})
	for w := range writers {
		g.Go(func() error {
			defer writing.Done()
			for r := range rounds {
				v := w*rounds + r
				if err := d.WriteFile(gctx, "shared.dat", version(v)); err != nil {
					return fmt.Errorf("writer %d: %w", w, err)
				}
				own := fmt.Sprintf("own-%d.txt", w)
				if err := d.WriteFile(gctx, own, []byte(fmt.Sprint(r))); err != nil {
					return fmt.Errorf("writer %d: %w", w, err)
				}
			}
			return nil
		})
	}
	for r := range readers {
		g.Go(func() error {
			for reads := 0; ; reads++ {
				select {
				case <-stop:
					return nil
				case <-gctx.Done():
					return nil
				default:
				}
				data, err := d.ReadFile(gctx, "shared.dat")
				if transport.ErrorCode(err) == transport.NotFound {
					continue // not written yet
				}
				if err != nil {
					return fmt.Errorf("reader %d: %w", r, err)
				}
				if err := checkVersion(data); err != nil {
					return fmt.Errorf("reader %d saw a bad file: %w", r, err)
				}
				if _, err := d.List(gctx, ""); err != nil {
					return fmt.Errorf("reader %d: %w", r, err)
				}
			}
		})
	}
	go func() { writing.Wait(); close(stop) }()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := d.ReadFile(ctx, "shared.dat")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkVersion(data); err != nil {
		t.Errorf("final shared.dat: %v", err)
	}
	for w := range writers {
		checkContent(t, d, fmt.Sprintf("own-%d.txt", w), fmt.Sprint(rounds-1))
	}
	if diff := cmp.Diff([]string{"own-0.txt", "own-1.txt", "own-2.txt", "shared.dat"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func testCanceled(t *testing.T, d *transport.Drop, _ Harness) {
	mustWrite(t, d, "a", "A")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		checkCode(t, what, err, transport.Canceled)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: errors.Is(%v, context.Canceled) is false", what, err)
		}
	}
	_, err := d.List(ctx, "")
	check("List", err)
	_, err = d.Open(ctx, "a")
	check("Open", err)
	_, err = d.ReadFile(ctx, "a")
	check("ReadFile", err)
	_, err = d.Stat(ctx, "a")
	check("Stat", err)
	check("WriteFile", d.WriteFile(ctx, "b", []byte("B")))
	check("Put", d.Put(ctx, "b", strings.NewReader("B")))
	check("Rename", d.Rename(ctx, "a", "c"))
	check("Remove", d.Remove(ctx, "a"))
	check("MkdirAll", d.MkdirAll(ctx, "dir"))
	if diff := cmp.Diff([]string{"a"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List after canceled calls (-want +got):\n%s", diff)
	}
}

// cancelingReader gives one chunk, then cancels the context and blocks
// until it is done.
type cancelingReader struct {
	ctx    context.Context
	cancel func()
	sent   bool
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, strings.Repeat("partial ", 1024)), nil
	}
	r.cancel()
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func testCanceledPut(t *testing.T, d *transport.Drop, _ Harness) {
	mustWrite(t, d, "f.csv", "old content")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := d.Put(ctx, "f.csv", &cancelingReader{ctx: ctx, cancel: cancel})
	checkCode(t, "Put canceled halfway", err, transport.Canceled)
	checkContent(t, d, "f.csv", "old content")
	err = d.Put(ctx, "g.csv", strings.NewReader("never"))
	checkCode(t, "Put after cancel", err, transport.Canceled)
	if diff := cmp.Diff([]string{"f.csv"}, mustList(t, d, "")); diff != "" {
		t.Errorf("List after the canceled upload (-want +got):\n%s", diff)
	}
}

func testClaim(t *testing.T, d *transport.Drop, _ Harness) {
	ctx := t.Context()
	mustMkdir(t, d, "in")
	mustWrite(t, d, "in/a.csv", "A")
	mustWrite(t, d, "in/b.csv", "B")
	in := &transport.Inbox{Drop: d, Dir: "in"}

	pending := func() []string {
		t.Helper()
		list, err := in.Pending(ctx)
		if err != nil {
			t.Fatalf("Pending: %v", err)
		}
		return names(list)
	}
	if diff := cmp.Diff([]string{"a.csv", "b.csv"}, pending()); diff != "" {
		t.Errorf("Pending (-want +got):\n%s", diff)
	}

	c, err := in.Claim(ctx, "a.csv")
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if diff := cmp.Diff(transport.Claimed{Name: "a.csv", Path: "in/processing/a.csv"}, c); diff != "" {
		t.Errorf("Claim (-want +got):\n%s", diff)
	}
	checkContent(t, d, c.Path, "A")
	again, err := in.Claim(ctx, "a.csv")
	if err != nil || !again.Resumed || again.Path != c.Path {
		t.Errorf("second Claim = %+v, %v; want the same claim, resumed", again, err)
	}
	// A run that stopped here leaves a.csv in processing/: it comes first.
	if diff := cmp.Diff([]string{"a.csv", "b.csv"}, pending()); diff != "" {
		t.Errorf("Pending with a claimed file (-want +got):\n%s", diff)
	}
	if err := in.Done(ctx, c); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if err := in.Done(ctx, c); err != nil {
		t.Errorf("second Done: %v", err)
	}
	checkContent(t, d, "in/done/a.csv", "A")

	cb, err := in.Claim(ctx, "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Fail(ctx, cb, "control total 12.00 does not match 11.00"); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	if err := in.Fail(ctx, cb, "again"); err != nil {
		t.Errorf("second Fail: %v", err)
	}
	checkContent(t, d, "in/failed/b.csv", "B")
	checkContent(t, d, "in/failed/b.csv.reason.txt", "control total 12.00 does not match 11.00\n")

	// A new file of the same name does not overwrite the earlier one.
	mustWrite(t, d, "in/a.csv", "A2")
	c2, err := in.Claim(ctx, "a.csv")
	if err != nil || c2.Resumed {
		t.Fatalf("Claim of the second a.csv = %+v, %v", c2, err)
	}
	if err := in.Done(ctx, c2); err != nil {
		t.Fatal(err)
	}
	checkContent(t, d, "in/done/a.csv", "A")
	checkContent(t, d, "in/done/a.1.csv", "A2")

	if diff := cmp.Diff([]string{}, pending()); diff != "" {
		t.Errorf("Pending at the end (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"done/", "failed/", "processing/"}, mustList(t, d, "in")); diff != "" {
		t.Errorf("List in (-want +got):\n%s", diff)
	}
	_, err = in.Claim(ctx, "none.csv")
	checkCode(t, "Claim of a missing file", err, transport.NotFound)
	_, err = in.Claim(ctx, "sub/a.csv")
	checkCode(t, "Claim of a name with a folder", err, transport.InvalidName)
}
