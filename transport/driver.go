package transport

import (
	"context"
	"io"
	"time"
)

// FileInfo describes one entry of a folder.
type FileInfo struct {
	Name    string    // base name, without folders
	Size    int64     // bytes; 0 for folders
	ModTime time.Time // last modification, as precise as the backend tells (FTP LIST: minutes)
	IsDir   bool      // a folder rather than a file
}

// Driver is what a backend implements to be used through a [Drop]. Drivers
// stay small: the Drop checks names, makes writes atomic, retries transient
// failures and wraps errors, so a driver only talks to its backend.
//
// Names given to a driver are already checked by [ValidName]; folders are
// "" for the root. Every method must be safe for concurrent use and must
// return errors whose [ErrorCode] is meaningful: an [*Error] built at the
// driver's edge (see [Errorf]), or a context error.
type Driver interface {
	// List returns the entries of folder dir in any order. Returns
	// NotFound if dir does not exist.
	List(ctx context.Context, dir string) ([]FileInfo, error)

	// Open opens file name for reading. Returns NotFound if it does not
	// exist. The reader's Close must report a transfer that ended early.
	Open(ctx context.Context, name string) (io.ReadCloser, error)

	// Create writes the content of r to file name, replacing any file of
	// that name. It need not be atomic: the Drop only calls it with a
	// temporary name. Returns NotFound if the folder does not exist.
	Create(ctx context.Context, name string, r io.Reader) error

	// Rename moves file from to name to, replacing a file at to where the
	// backend allows it (else returns Exists). Returns NotFound if from or
	// the folder of to does not exist.
	Rename(ctx context.Context, from, to string) error

	// Remove deletes file name. Returns NotFound if it does not exist.
	Remove(ctx context.Context, name string) error

	// Mkdir makes folder dir, whose parent exists. Returns Exists if dir
	// already exists and NotFound if its parent does not.
	Mkdir(ctx context.Context, dir string) error

	// Close releases the driver's resources (connections).
	Close() error
}

// Optional abilities. A driver implements any of these one-method
// interfaces when it can do better than the Drop's generic way; the Drop
// checks with a type assertion.

// Stater is implemented by drivers that can describe one file without
// listing its folder. Returns NotFound if name does not exist.
type Stater interface {
	Stat(ctx context.Context, name string) (FileInfo, error)
}

// AtomicPutter is implemented by drivers that write a file atomically by
// themselves (for example with a temporary file, fsync and rename on a
// local disk). Put must leave either the old content or the whole new
// content under name, never a part, and nothing visible to List on failure.
type AtomicPutter interface {
	Put(ctx context.Context, name string, r io.Reader) error
}
