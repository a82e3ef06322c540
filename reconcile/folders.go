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

// FolderError is the error of a job run whose inbound folder does not
// exist or is not a folder: never an empty success, since a misspelled
// folder would otherwise look like a quiet day for ever. Err is the cause:
// a [transport.NotFound] error (errors.Is(err, fs.ErrNotExist)) or
// [ErrNotFolder].
type FolderError struct {
	Job    string // the job, e.g. "payments"
	Folder string // the folder on the drop, e.g. "outbound"
	Err    error
}

func (e *FolderError) Error() string {
	return fmt.Sprintf("reconcile: %s: inbound folder %q: %v", e.Job, e.Folder, e.Err)
}

func (e *FolderError) Unwrap() error { return e.Err }

// checkInbound returns a *FolderError when dir on drop does not exist or
// is not a folder; other errors of the drop are returned as they are.
func checkInbound(ctx context.Context, job string, drop *transport.Drop, dir string) error {
	fi, err := drop.Stat(ctx, dir)
	switch {
	case transport.ErrorCode(err) == transport.NotFound:
		return &FolderError{Job: job, Folder: dir, Err: err}
	case err != nil:
		return fmt.Errorf("reconcile: %s: %w", job, err)
	case !fi.IsDir:
		return &FolderError{Job: job, Folder: dir, Err: ErrNotFolder}
	}
	return nil
}

// WithDefaults returns f with the default name of every folder left empty.
func (f Folders) WithDefaults() Folders { return f.withDefaults() }
