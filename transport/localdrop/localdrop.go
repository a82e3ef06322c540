// Package localdrop is a file drop in a folder of the local file system,
// such as a district's inbound and outbound folders on a mounted share.
//
// [Open] returns a [transport.Drop] confined to one folder: every access
// goes through an [os.Root], so neither ".." nor a symbolic link can
// reach outside it. Writes go to a hidden temporary file that is synced to
// disk and renamed into place, then the folder itself is synced, so a file
// under its final name is always whole, even after a power cut.
package localdrop

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/feebridge/feebridge/transport"
)

// Options are the settings of a local drop. Nil means defaults.
type Options struct {
	// Create makes the folder (and its parents) if it does not exist.
	Create bool
	// FileMode is the permission of new files; 0 means 0o644.
	FileMode fs.FileMode
	// DirMode is the permission of new folders; 0 means 0o755.
	DirMode fs.FileMode
	// NoSync skips fsync after writes: faster, but a power cut may leave
	// an empty or partial file under the final name. For tests only.
	NoSync bool
	// Drop are the options of the portable type.
	Drop *transport.DropOptions
}

// Open returns a drop over the folder dir. The folder must exist unless
// opts.Create is set.
func Open(dir string, opts *Options) (*transport.Drop, error) {
	d, err := NewDriver(dir, opts)
	if err != nil {
		return nil, err
	}
	var dopts *transport.DropOptions
	if opts != nil {
		dopts = opts.Drop
	}
	return transport.NewDrop(d, dopts), nil
}

// Driver is the local folder driver. It is safe for concurrent use.
type Driver struct {
	root     *os.Root
	fileMode fs.FileMode
	dirMode  fs.FileMode
	noSync   bool
}

var (
	_ transport.Driver       = (*Driver)(nil)
	_ transport.Stater       = (*Driver)(nil)
	_ transport.AtomicPutter = (*Driver)(nil)
)

// NewDriver returns the bare driver over folder dir, for wrapping before
// [transport.NewDrop]. Most callers want [Open].
func NewDriver(dir string, opts *Options) (*Driver, error) {
	if opts == nil {
		opts = &Options{}
	}
	d := &Driver{fileMode: opts.FileMode, dirMode: opts.DirMode, noSync: opts.NoSync}
	if d.fileMode == 0 {
		d.fileMode = 0o644
	}
	if d.dirMode == 0 {
		d.dirMode = 0o755
	}
	if opts.Create {
		if err := os.MkdirAll(dir, d.dirMode); err != nil {
			return nil, mapErr("open", dir, err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, mapErr("open", dir, err)
	}
	d.root = root
	return d, nil
}

// name turns a drop name into a name for the os.Root; "" is the root.
func name(n string) string {
	if n == "" {
		return "."
	}
	return n
}

// List implements [transport.Driver].
func (d *Driver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := d.root.Open(name(dir))
	if err != nil {
		return nil, mapErr("list", dir, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, mapErr("list", dir, err)
	}
	list := make([]transport.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, mapErr("list", dir, err)
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			continue // sockets, devices, symbolic links: not ours
		}
		list = append(list, info(fi))
	}
	return list, nil
}

func info(fi fs.FileInfo) transport.FileInfo {
	out := transport.FileInfo{Name: fi.Name(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !fi.IsDir() {
		out.Size = fi.Size()
	}
	return out
}

// Stat implements [transport.Stater].
func (d *Driver) Stat(ctx context.Context, n string) (transport.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return transport.FileInfo{}, err
	}
	fi, err := d.root.Stat(n)
	if err != nil {
		return transport.FileInfo{}, mapErr("stat", n, err)
	}
	return info(fi), nil
}

// Open implements [transport.Driver].
func (d *Driver) Open(ctx context.Context, n string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := d.root.Open(n)
	if err != nil {
		return nil, mapErr("open", n, err)
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		if err == nil {
			err = errors.New("is a folder")
		}
		return nil, &transport.Error{Code: transport.NotFound, Op: "open", Path: n, Err: err}
	}
	return f, nil
}

// Create implements [transport.Driver].
func (d *Driver) Create(ctx context.Context, n string, r io.Reader) error {
	f, err := d.root.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, d.fileMode)
	if err != nil {
		return mapErr("create", n, err)
	}
	return d.write(ctx, "create", n, f, r)
}

func (d *Driver) write(ctx context.Context, op, n string, f *os.File, r io.Reader) error {
	_, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil && !d.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return mapErr(op, n, err)
	}
	return nil
}

// Put implements [transport.AtomicPutter]: a synced temporary file renamed
// into place, then a synced folder.
func (d *Driver) Put(ctx context.Context, n string, r io.Reader) error {
	tmp := transport.TempName(n)
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, d.fileMode)
	if err != nil {
		return mapErr("put", n, err)
	}
	if err := d.write(ctx, "put", n, f, r); err != nil {
		_ = d.root.Remove(tmp)
		return err
	}
	if err := d.root.Rename(tmp, n); err != nil {
		_ = d.root.Remove(tmp)
		return mapErr("put", n, err)
	}
	return d.syncDir(path.Dir(n))
}

func (d *Driver) syncDir(dir string) error {
	if d.noSync {
		return nil
	}
	f, err := d.root.Open(dir)
	if err != nil {
		return mapErr("sync", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return mapErr("sync", dir, err)
	}
	return nil
}

// Rename implements [transport.Driver].
func (d *Driver) Rename(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.root.Rename(from, to); err != nil {
		return mapErr("rename", from+" -> "+to, err)
	}
	if err := d.syncDir(path.Dir(to)); err != nil {
		return err
	}
	if path.Dir(from) != path.Dir(to) {
		return d.syncDir(path.Dir(from))
	}
	return nil
}

// Remove implements [transport.Driver]. Only files can be removed.
func (d *Driver) Remove(ctx context.Context, n string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := d.root.Lstat(n)
	if err != nil {
		return mapErr("remove", n, err)
	}
	if fi.IsDir() {
		return &transport.Error{Code: transport.Unsupported, Op: "remove", Path: n, Err: errors.New("is a folder")}
	}
	if err := d.root.Remove(n); err != nil {
		return mapErr("remove", n, err)
	}
	return nil
}

// Mkdir implements [transport.Driver].
func (d *Driver) Mkdir(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.root.Mkdir(dir, d.dirMode); err != nil {
		return mapErr("mkdir", dir, err)
	}
	return nil
}

// Close implements [transport.Driver].
func (d *Driver) Close() error { return d.root.Close() }

// mapErr gives a file system error its transport code.
func mapErr(op, n string, err error) error {
	code := transport.Unknown
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		code = transport.NotFound
	case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EISDIR):
		code = transport.Exists
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		code = transport.Permission
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		code = transport.Transient
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP), isEscape(err):
		code = transport.InvalidName
	}
	return &transport.Error{Code: code, Op: op, Path: n, Err: err}
}

// isEscape reports an os.Root refusal of a path that leads outside it
// (through a symbolic link).
func isEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent"
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
