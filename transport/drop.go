package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"
)

// Retry is the policy a [Drop] applies to operations that fail with a
// [Transient] error: up to Attempts tries in all, waiting Backoff before the
// second, twice as long before each next one up to MaxBackoff, each wait
// shortened by a random part of up to Jitter (0 to 1) so that several
// clients do not retry in step.
type Retry struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Jitter     float64
}

// DefaultRetry is the policy of a Drop whose options name none: 4 tries,
// waiting about 0.25 s, 0.5 s and 1 s.
var DefaultRetry = Retry{Attempts: 4, Backoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, Jitter: 0.5}

// NoRetry tries every operation once.
var NoRetry = Retry{Attempts: 1}

// wait returns how long to wait after failed try number attempt (1-based).
func (p Retry) wait(attempt int) time.Duration {
	d := p.Backoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if p.MaxBackoff > 0 && d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	if j := min(max(p.Jitter, 0), 1); j > 0 && d > 0 {
		d -= time.Duration(rand.Float64() * j * float64(d))
	}
	return d
}

// DropOptions are the settings of a [Drop]. The zero value (or nil) means
// [DefaultRetry] and no logging.
type DropOptions struct {
	// Retry is the policy for transient failures; nil means DefaultRetry.
	Retry *Retry
	// Logger receives a warning for each retried failure. Nil discards.
	Logger *slog.Logger
	// StaleTemps is how long a temporary upload file ([TempName]) may stay
	// untouched before a Put into its folder removes it, as left by an
	// upload that never finished (a process killed in the middle of one).
	// Zero means 24 hours; a negative value keeps them.
	StaleTemps time.Duration
	// Now is the clock that the age of those files is read against; nil
	// means time.Now. A driver whose files carry another clock's times
	// (a simulated one) passes it.
	Now func() time.Time
}

// Drop is a file drop: a folder tree on a local disk, an FTP server or in
// memory, reached through a [Driver]. Paths are slash-separated and
// relative to the drop's root; every name is checked by [ValidName] first.
//
// Writes are atomic ([Drop.Put]): a reader of the final name sees the old
// file or the whole new one, never a part. Operations that fail with a
// [Transient] error are tried again according to the [Retry] policy. Every
// error is an [*Error]; read its code with [ErrorCode].
//
// A Drop is safe for concurrent use.
type Drop struct {
	drv        Driver
	retry      Retry
	log        *slog.Logger
	staleTemps time.Duration
	now        func() time.Time
}

// NewDrop returns a Drop over the driver d. Driver packages call it from
// their constructors; users rarely need it.
func NewDrop(d Driver, opts *DropOptions) *Drop {
	if opts == nil {
		opts = &DropOptions{}
	}
	drop := &Drop{drv: d, retry: DefaultRetry, log: opts.Logger, staleTemps: opts.StaleTemps, now: opts.Now}
	if drop.staleTemps == 0 {
		drop.staleTemps = 24 * time.Hour
	}
	if drop.now == nil {
		drop.now = time.Now
	}
	if opts.Retry != nil {
		drop.retry = *opts.Retry
	}
	if drop.retry.Attempts < 1 {
		drop.retry.Attempts = 1
	}
	if drop.log == nil {
		drop.log = slog.New(slog.DiscardHandler)
	}
	return drop
}

// do runs f up to the policy's number of attempts while it fails with a
// Transient error, and wraps the final error for op and p.
func (d *Drop) do(ctx context.Context, op, p string, f func(attempt int) error) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return wrap(ctx, op, p, err)
		}
		err := f(attempt)
		if err == nil {
			return nil
		}
		var fe *finalError
		if errors.As(err, &fe) {
			return wrap(ctx, op, p, fe.err)
		}
		if ctx.Err() != nil || ErrorCode(err) != Transient || attempt >= d.retry.Attempts {
			return wrap(ctx, op, p, err)
		}
		wait := d.retry.wait(attempt)
		d.log.LogAttrs(ctx, slog.LevelWarn, "transport: retrying after a transient failure",
			slog.String("op", op), slog.String("path", p), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", cause(err).Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return wrap(ctx, op, p, err)
		case <-t.C:
		}
	}
}

// finalError stops the retries of do and returns err as it is.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

func invalid(op, name string, err error) error {
	return &Error{Code: InvalidName, Op: op, Path: name, Err: err}
}

// List returns the files and folders in dir ("" or "." for the root),
// sorted by name. Temporary names of uploads in progress are left out.
// Returns NotFound if dir does not exist.
func (d *Drop) List(ctx context.Context, dir string) ([]FileInfo, error) {
	dir, err := validDir(dir)
	if err != nil {
		return nil, invalid("list", dir, err)
	}
	var list []FileInfo
	err = d.do(ctx, "list", dir, func(int) error {
		var err error
		list, err = d.drv.List(ctx, dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(fi FileInfo) bool {
		return IsTempName(fi.Name) || fi.Name == "." || fi.Name == ".."
	})
	slices.SortFunc(list, func(a, b FileInfo) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// Stat describes file or folder name. Returns NotFound if it does not exist.
func (d *Drop) Stat(ctx context.Context, name string) (FileInfo, error) {
	if err := ValidName(name); err != nil {
		return FileInfo{}, invalid("stat", name, err)
	}
	var fi FileInfo
	err := d.do(ctx, "stat", name, func(int) error {
		var err error
		fi, err = d.stat(ctx, name)
		return err
	})
	return fi, err
}

func (d *Drop) stat(ctx context.Context, name string) (FileInfo, error) {
	if s, ok := d.drv.(Stater); ok {
		return s.Stat(ctx, name)
	}
	dir, base := path.Split(name)
	list, err := d.drv.List(ctx, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return FileInfo{}, err
	}
	for _, fi := range list {
		if fi.Name == base {
			return fi, nil
		}
	}
	return FileInfo{}, &Error{Code: NotFound, Op: "stat", Path: name, Err: errors.New("no such file")}
}

// Open opens file name for reading; the caller must close the reader. A
// transfer that ends early makes Read or Close fail, never a short clean
// read. Only opening is retried: use [Drop.ReadFile] to have the whole
// read retried. Returns NotFound if name does not exist.
func (d *Drop) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ValidName(name); err != nil {
		return nil, invalid("open", name, err)
	}
	var rc io.ReadCloser
	err := d.do(ctx, "open", name, func(int) error {
		var err error
		rc, err = d.drv.Open(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &reader{rc: rc, ctx: ctx, name: name}, nil
}

// reader wraps a driver's reader so that its errors are *Error too.
type reader struct {
	rc   io.ReadCloser
	ctx  context.Context
	name string
}

// WriteTo copies the rest to w through the driver's reader's own WriteTo
// where it has one (a driver may write its chunks straight to w), else
// through a buffer. Errors of the driver are *Error; once w has failed,
// the error is returned as it is.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	tw := &trackedWriter{w: w}
	n, err := io.Copy(tw, r.rc)
	if err != nil && tw.err == nil {
		err = wrap(r.ctx, "read", r.name, err)
	}
	return n, err
}

// trackedWriter remembers the error of w, to tell it from a read error.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = wrap(r.ctx, "read", r.name, err)
	}
	return n, err
}

func (r *reader) Close() error {
	return wrap(r.ctx, "read", r.name, r.rc.Close())
}

// ReadFile returns the whole content of file name. A transient failure at
// any point, even halfway through, starts the read again.
func (d *Drop) ReadFile(ctx context.Context, name string) ([]byte, error) {
	if err := ValidName(name); err != nil {
		return nil, invalid("read", name, err)
	}
	var data []byte
	err := d.do(ctx, "read", name, func(int) error {
		rc, err := d.drv.Open(ctx, name)
		if err != nil {
			return err
		}
		data, err = io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// WriteFile writes data to file name atomically, as [Drop.Put] does.
func (d *Drop) WriteFile(ctx context.Context, name string, data []byte) error {
	return d.put(ctx, "write", name, bytes.NewReader(data), TempName)
}

// Put writes the content of r to file name atomically: the content goes
// to a temporary name in the same folder (".<name>.tmp-<random>", which
// [Drop.List] hides), which is then renamed to name, replacing any file
// there. Readers of name see the old file or the whole new one; after a
// failure name is untouched and the temporary file is removed where the
// backend still allows it.
//
// A transient failure is retried when nothing was read from r yet, or when
// r is an [io.Seeker] (such as *os.File or *bytes.Reader) that can be
// rewound. The folder must exist: Put returns NotFound otherwise (see
// [Drop.MkdirAll]).
//
// Once name is in place, Put removes the temporary files of its folder
// that no upload has touched for [DropOptions].StaleTemps (a day): a
// process killed in the middle of an upload cannot remove its own.
func (d *Drop) Put(ctx context.Context, name string, r io.Reader) error {
	return d.put(ctx, "put", name, r, TempName)
}

// PutOwned is [Drop.Put] for a caller that alone writes file name (a job
// under its lock): the temporary file has the fixed name
// [OwnedTempName](name) rather than a random one, so that
// [Drop.RemoveTemps] finds what a killed upload of name left even on a
// server whose listings hide names that start with a dot. Two uploads of
// the same name at once must not use it. Drivers that write atomically by
// themselves ([AtomicPutter]) keep their own temporary names, which their
// listings show.
func (d *Drop) PutOwned(ctx context.Context, name string, r io.Reader) error {
	return d.put(ctx, "put", name, r, OwnedTempName)
}

func (d *Drop) put(ctx context.Context, op, name string, r io.Reader, temp func(string) string) error {
	if err := ValidName(name); err != nil {
		return invalid(op, name, err)
	}
	src := newReplay(r)
	var last error
	err := d.do(ctx, op, name, func(attempt int) error {
		if attempt > 1 && !src.rewind() {
			// Part of the input is gone: the caller must start again.
			return &finalError{last}
		}
		last = d.putOnce(ctx, name, src, temp)
		return last
	})
	if err == nil {
		d.removeStaleTemps(ctx, path.Dir(name))
	}
	return err
}

// removeStaleTemps removes the temporary files of dir untouched for
// d.staleTemps. It tries once: what it cannot list or remove stays hidden
// until the next Put into dir.
func (d *Drop) removeStaleTemps(ctx context.Context, dir string) {
	if d.staleTemps < 0 {
		return
	}
	if dir == "." {
		dir = ""
	}
	list, err := d.drv.List(ctx, dir)
	if err != nil {
		return
	}
	before := d.now().Add(-d.staleTemps)
	for _, fi := range list {
		if fi.IsDir || !IsTempName(fi.Name) || fi.ModTime.IsZero() || !fi.ModTime.Before(before) {
			continue
		}
		p := join(dir, fi.Name)
		if err := d.drv.Remove(ctx, p); err != nil && ErrorCode(err) != NotFound {
			d.log.LogAttrs(ctx, slog.LevelWarn, "transport: could not remove a stale temporary file",
				slog.String("path", p), slog.String("error", cause(err).Error()))
			continue
		}
		d.log.LogAttrs(ctx, slog.LevelInfo, "transport: removed a temporary file an unfinished upload left",
			slog.String("path", p), slog.Time("modified", fi.ModTime))
	}
}

// RemoveTemps removes, whatever their age, the temporary files that
// uploads of file name left in its folder, as a process killed in the
// middle of a [Drop.PutOwned] or [Drop.Put] of name leaves them: the one
// named [OwnedTempName](name), removed by name, and every
// ".<base>.tmp-<16 hex digits>" ([TempName]) that the folder's listing
// shows (an FTP server may hide names that start with a dot: vsftpd does
// unless force_dot_files=YES). It returns the paths removed. Only the
// caller knows that no upload of name is under way (a job's lock): it
// must not call RemoveTemps otherwise. A folder that does not exist has
// nothing to remove.
func (d *Drop) RemoveTemps(ctx context.Context, name string) ([]string, error) {
	if err := ValidName(name); err != nil {
		return nil, invalid("remove", name, err)
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	var removed []string
	owned := OwnedTempName(name)
	err := d.do(ctx, "remove", owned, func(int) error { return d.drv.Remove(ctx, owned) })
	switch {
	case err == nil:
		d.log.LogAttrs(ctx, slog.LevelInfo, "transport: removed the temporary file of an unfinished upload",
			slog.String("path", owned))
		removed = append(removed, owned)
	case ErrorCode(err) != NotFound:
		return nil, err
	}
	var list []FileInfo
	err = d.do(ctx, "list", dir, func(int) error {
		var err error
		list, err = d.drv.List(ctx, dir)
		return err
	})
	if ErrorCode(err) == NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, fi := range list {
		if fi.IsDir || !IsTempName(fi.Name) || !strings.HasPrefix(fi.Name, "."+base+tempMarker) ||
			len(fi.Name) != len(base)+1+len(tempMarker)+16 {
			continue
		}
		p := join(dir, fi.Name)
		err := d.do(ctx, "remove", p, func(int) error { return d.drv.Remove(ctx, p) })
		if err != nil && ErrorCode(err) != NotFound {
			return removed, err
		}
		d.log.LogAttrs(ctx, slog.LevelInfo, "transport: removed the temporary file of an unfinished upload",
			slog.String("path", p), slog.Int64("size", fi.Size))
		removed = append(removed, p)
	}
	return removed, nil
}

func (d *Drop) putOnce(ctx context.Context, name string, src io.Reader, temp func(string) string) error {
	if ap, ok := d.drv.(AtomicPutter); ok {
		return ap.Put(ctx, name, src)
	}
	tmp := temp(name)
	if err := d.drv.Create(ctx, tmp, src); err != nil {
		d.cleanup(ctx, tmp)
		return err
	}
	if err := d.rename(ctx, tmp, name, 1); err != nil {
		d.cleanup(ctx, tmp)
		return err
	}
	return nil
}

// cleanup removes a temporary file after a failed upload, even when ctx
// was canceled, with a bounded wait. Failing is harmless: List hides it.
func (d *Drop) cleanup(ctx context.Context, tmp string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := d.drv.Remove(ctx, tmp); err != nil && ErrorCode(err) != NotFound {
		d.log.LogAttrs(ctx, slog.LevelWarn, "transport: could not remove a temporary file",
			slog.String("path", tmp), slog.String("error", cause(err).Error()))
	}
}

// replay counts what was read from a reader so that a retry can tell
// whether it can start again.
type replay struct {
	r     io.Reader
	start int64
	read  int64
	seek  io.Seeker
}

func newReplay(r io.Reader) *replay {
	p := &replay{r: r}
	if s, ok := r.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			p.seek, p.start = s, off
		}
	}
	return p
}

func (p *replay) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	return n, err
}

func (p *replay) rewind() bool {
	if p.read == 0 {
		return true
	}
	if p.seek == nil {
		return false
	}
	if _, err := p.seek.Seek(p.start, io.SeekStart); err != nil {
		return false
	}
	p.read = 0
	return true
}

// Rename moves file from to name to, replacing any file at to. Both must
// be in existing folders. Returns NotFound if from does not exist.
//
// When the backend refuses to replace (some FTP servers), the Drop removes
// the old file at to first: for that instant, to does not exist.
func (d *Drop) Rename(ctx context.Context, from, to string) error {
	if err := ValidName(from); err != nil {
		return invalid("rename", from, err)
	}
	if err := ValidName(to); err != nil {
		return invalid("rename", to, err)
	}
	return d.do(ctx, "rename", from+" -> "+to, func(attempt int) error {
		return d.rename(ctx, from, to, attempt)
	})
}

func (d *Drop) rename(ctx context.Context, from, to string, attempt int) error {
	err := d.drv.Rename(ctx, from, to)
	switch ErrorCode(err) {
	case Exists:
		if rerr := d.drv.Remove(ctx, to); rerr != nil && ErrorCode(rerr) != NotFound {
			return rerr
		}
		return d.drv.Rename(ctx, from, to)
	case NotFound:
		// A retry after a lost reply: the first try may have moved it.
		if attempt > 1 {
			if _, ferr := d.stat(ctx, from); ErrorCode(ferr) == NotFound {
				if _, terr := d.stat(ctx, to); terr == nil {
					return nil
				}
			}
		}
	}
	return err
}

// Remove deletes file name. Returns NotFound if it does not exist.
func (d *Drop) Remove(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return invalid("remove", name, err)
	}
	return d.do(ctx, "remove", name, func(attempt int) error {
		err := d.drv.Remove(ctx, name)
		if attempt > 1 && ErrorCode(err) == NotFound {
			return nil // the first try removed it but its reply was lost
		}
		return err
	})
}

// MkdirAll makes folder dir and any missing parents. A folder that
// already exists is not an error.
func (d *Drop) MkdirAll(ctx context.Context, dir string) error {
	dir, err := validDir(dir)
	if err != nil {
		return invalid("mkdir", dir, err)
	}
	if dir == "" {
		return nil
	}
	return d.mkdirAll(ctx, dir)
}

func (d *Drop) mkdirAll(ctx context.Context, dir string) error {
	err := d.mkdir(ctx, dir)
	if ErrorCode(err) != NotFound {
		return err
	}
	if parent := path.Dir(dir); parent != "." {
		if err := d.mkdirAll(ctx, parent); err != nil {
			return err
		}
	}
	return d.mkdir(ctx, dir)
}

func (d *Drop) mkdir(ctx context.Context, dir string) error {
	return d.do(ctx, "mkdir", dir, func(int) error {
		err := d.drv.Mkdir(ctx, dir)
		if ErrorCode(err) == Exists {
			return nil
		}
		return err
	})
}

// Close releases the driver's resources. The Drop must not be used after.
func (d *Drop) Close() error {
	return wrap(context.Background(), "close", "", d.drv.Close())
}
