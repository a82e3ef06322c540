// Package memdrop is a file drop kept in memory, for tests and for the
// sandbox.
//
// [New] returns a ready [transport.Drop]. [NewDriver] returns the bare
// [Driver], for tests that wrap it (for instance to inject faults) before
// building a Drop with [transport.NewDrop]. The content lives as long as
// the value; nothing touches the disk.
package memdrop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"sync"
	"time"

	"github.com/feebridge/feebridge/transport"
)

// Options are the settings of a memory drop. Nil means defaults.
type Options struct {
	// Now gives the modification time of written files; nil is time.Now.
	// The sandbox passes its simulated clock.
	Now func() time.Time
	// Drop are the options of the portable type.
	Drop *transport.DropOptions
}

// New returns an empty drop kept in memory.
func New() *transport.Drop {
	return NewWithOptions(nil)
}

// NewWithOptions returns an empty drop kept in memory, with options.
func NewWithOptions(opts *Options) *transport.Drop {
	if opts == nil {
		opts = &Options{}
	}
	dopts := transport.DropOptions{}
	if opts.Drop != nil {
		dopts = *opts.Drop
	}
	if dopts.Now == nil {
		dopts.Now = opts.Now // the files' own clock, for their age
	}
	return transport.NewDrop(NewDriver(opts), &dopts)
}

// Driver is the memory driver. It is safe for concurrent use.
type Driver struct {
	now   func() time.Time
	mu    sync.Mutex
	files map[string]file      // by full name
	dirs  map[string]time.Time // by full name; the root "" is always there
}

type file struct {
	data []byte // never changed once stored: readers share it
	mod  time.Time
}

var (
	_ transport.Driver       = (*Driver)(nil)
	_ transport.Stater       = (*Driver)(nil)
	_ transport.AtomicPutter = (*Driver)(nil)
)

// NewDriver returns an empty memory driver.
func NewDriver(opts *Options) *Driver {
	d := &Driver{now: time.Now, files: map[string]file{}, dirs: map[string]time.Time{"": {}}}
	if opts != nil && opts.Now != nil {
		d.now = opts.Now
	}
	return d
}

func parent(name string) string {
	dir := path.Dir(name)
	if dir == "." {
		return ""
	}
	return dir
}

func notFound(op, name string) error {
	return &transport.Error{Code: transport.NotFound, Op: op, Path: name, Err: errors.New("no such file or folder")}
}

// List implements [transport.Driver].
func (d *Driver) List(ctx context.Context, dir string) ([]transport.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.dirs[dir]; !ok {
		return nil, notFound("list", dir)
	}
	var list []transport.FileInfo
	for name, f := range d.files {
		if name != "" && parent(name) == dir {
			list = append(list, transport.FileInfo{Name: path.Base(name), Size: int64(len(f.data)), ModTime: f.mod})
		}
	}
	for name, mod := range d.dirs {
		if name != "" && parent(name) == dir {
			list = append(list, transport.FileInfo{Name: path.Base(name), ModTime: mod, IsDir: true})
		}
	}
	return list, nil
}

// Stat implements [transport.Stater].
func (d *Driver) Stat(ctx context.Context, name string) (transport.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return transport.FileInfo{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.files[name]; ok {
		return transport.FileInfo{Name: path.Base(name), Size: int64(len(f.data)), ModTime: f.mod}, nil
	}
	if mod, ok := d.dirs[name]; ok {
		return transport.FileInfo{Name: path.Base(name), ModTime: mod, IsDir: true}, nil
	}
	return transport.FileInfo{}, notFound("stat", name)
}

// Open implements [transport.Driver].
func (d *Driver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[name]
	if !ok {
		return nil, notFound("open", name)
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

// Create implements [transport.Driver].
func (d *Driver) Create(ctx context.Context, name string, r io.Reader) error {
	return d.store(ctx, "create", name, r)
}

// Put implements [transport.AtomicPutter]: the file appears whole, in one
// step, once all of r was read.
func (d *Driver) Put(ctx context.Context, name string, r io.Reader) error {
	return d.store(ctx, "put", name, r)
}

func (d *Driver) store(ctx context.Context, op, name string, r io.Reader) error {
	if err := d.writable(op, name); err != nil {
		return err
	}
	data, err := io.ReadAll(ctxReader{ctx, r})
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.writableLocked(op, name); err != nil {
		return err
	}
	d.files[name] = file{data: data, mod: d.now()}
	return nil
}

func (d *Driver) writable(op, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writableLocked(op, name)
}

func (d *Driver) writableLocked(op, name string) error {
	if _, ok := d.dirs[parent(name)]; !ok {
		return notFound(op, parent(name))
	}
	if _, ok := d.dirs[name]; ok {
		return &transport.Error{Code: transport.Exists, Op: op, Path: name, Err: errors.New("a folder has that name")}
	}
	return nil
}

// Rename implements [transport.Driver]. Only files can be renamed.
func (d *Driver) Rename(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[from]
	if !ok {
		if _, isDir := d.dirs[from]; isDir {
			return &transport.Error{Code: transport.Unsupported, Op: "rename", Path: from, Err: errors.New("renaming folders is not supported")}
		}
		return notFound("rename", from)
	}
	if err := d.writableLocked("rename", to); err != nil {
		return err
	}
	delete(d.files, from)
	d.files[to] = f
	return nil
}

// Remove implements [transport.Driver].
func (d *Driver) Remove(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.files[name]; !ok {
		return notFound("remove", name)
	}
	delete(d.files, name)
	return nil
}

// Mkdir implements [transport.Driver].
func (d *Driver) Mkdir(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.dirs[dir]; ok {
		return &transport.Error{Code: transport.Exists, Op: "mkdir", Path: dir, Err: errors.New("folder exists")}
	}
	if _, ok := d.files[dir]; ok {
		return &transport.Error{Code: transport.Exists, Op: "mkdir", Path: dir, Err: errors.New("a file has that name")}
	}
	if _, ok := d.dirs[parent(dir)]; !ok {
		return notFound("mkdir", parent(dir))
	}
	d.dirs[dir] = d.now()
	return nil
}

// Close implements [transport.Driver]. The content stays readable.
func (d *Driver) Close() error { return nil }

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
