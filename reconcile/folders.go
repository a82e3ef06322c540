package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/feebridge/feebridge/transport"
)

// ErrNotFolder is the cause of a [*FolderError] for a path that exists but
// is a file, not a folder.
var ErrNotFolder = errors.New("not a folder")

// FolderError is the error of a job run whose inbound or outbound folder
// does not exist or is not a folder: never an empty success, since a
// misspelled folder would otherwise look like a quiet day for ever, and
// never a folder created silently, since a misspelled one would collect
// files that no one takes. The run stops before it claims a file. Err is
// the cause:
// a [transport.NotFound] error (errors.Is(err, fs.ErrNotExist)) or
// [ErrNotFolder].
type FolderError struct {
	Job    string // the job, e.g. "payments"
	Folder string // the folder on the drop, e.g. "outbound"
	// Outbound is set for the folder the job writes to, unset for the one
	// it reads.
	Outbound bool
	Err      error
}

func (e *FolderError) Error() string {
	dir := "inbound"
	if e.Outbound {
		dir = "outbound"
	}
	return fmt.Sprintf("reconcile: %s: %s folder %q: %v", e.Job, dir, e.Folder, e.Err)
}

func (e *FolderError) Unwrap() error { return e.Err }

// checkFolders returns a *FolderError when the inbound or the outbound
// folder of fj does not exist or is not a folder; other errors of the
// drop are returned as they are.
func checkFolders(ctx context.Context, fj fileJob) error {
	if err := checkFolder(ctx, fj.job, fj.in, fj.inDir, false); err != nil {
		return err
	}
	if fj.out == nil {
		return nil
	}
	return checkOutFolders(ctx, fj)
}

// checkOutFolders is checkFolders for the outbound folder of fj and the
// folder where its consumer moves what it took, when there is one: a
// misspelled one would hide every output already taken.
func checkOutFolders(ctx context.Context, fj fileJob) error {
	if err := checkFolder(ctx, fj.job, fj.out, fj.outDir, true); err != nil {
		return err
	}
	if fj.takenDir == "" {
		return nil
	}
	return checkFolder(ctx, fj.job, fj.out, fj.takenDir, true)
}

func checkFolder(ctx context.Context, job string, drop *transport.Drop, dir string, outbound bool) error {
	fi, err := drop.Stat(ctx, dir)
	switch {
	case transport.ErrorCode(err) == transport.NotFound:
		return &FolderError{Job: job, Folder: dir, Outbound: outbound, Err: err}
	case err != nil:
		return fmt.Errorf("reconcile: %s: %w", job, err)
	case !fi.IsDir:
		return &FolderError{Job: job, Folder: dir, Outbound: outbound, Err: ErrNotFolder}
	}
	return nil
}

// WithDefaults returns f with the default name of every folder left empty.
func (f Folders) WithDefaults() Folders { return f.withDefaults() }
