package reconcile_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
)

// A configured inbound folder that is missing, or is a file, fails the
// run with a *FolderError naming it: never an empty success (issue 15,
// cases 3 and 13). So does a missing outbound folder, before any file is
// claimed: it is not created silently.
func TestInboundFolderMissingOrAFileFailsTheRun(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *env)
		run    func(j *reconcile.Jobs, ctx context.Context) (reconcile.RunResult, error)
		job    string
		folder string
		cause  error
	}{
		{"payments from a misspelled folder", func(e *env) { e.opts.Folders.Payments = "outbund" },
			(*reconcile.Jobs).Payments, "payments", "outbund", fs.ErrNotExist},
		{"charges from a file", func(e *env) {
			e.opts.Folders.Exports = "exports.txt"
			e.put(e.library, "exports.txt", "not a folder")
		}, (*reconcile.Jobs).Charges, "charges", "exports.txt", reconcile.ErrNotFolder},
		{"credits from a missing folder", func(e *env) { e.opts.Folders.Credits = "credit" },
			(*reconcile.Jobs).Credits, "credits", "credit", fs.ErrNotExist},
		{"payments to a missing folder", func(e *env) {
			e.opts.Folders.Imports = "import"
			paymentsA(e)
		}, (*reconcile.Jobs).Payments, "payments", "import", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(e)
			res, err := tt.run(e.jobs(nil), t.Context())
			var fe *reconcile.FolderError
			if !errors.As(err, &fe) {
				t.Fatalf("run = %+v, %v; want a *reconcile.FolderError", res, err)
			}
			if fe.Job != tt.job || fe.Folder != tt.folder || !errors.Is(err, tt.cause) {
				t.Errorf("error = %+v (%v), want job %q, folder %q, cause %v", fe, err, tt.job, tt.folder, tt.cause)
			}
			if res.Files != 0 {
				t.Errorf("files = %d, want 0", res.Files)
			}
			if want := tt.folder == "import"; fe.Outbound != want {
				t.Errorf("Outbound = %v, want %v", fe.Outbound, want)
			}
			if got := files(t, e.bursar); tt.folder == "import" && got["outbound/pay-0303.csv"] == "" {
				t.Errorf("the payment file was claimed although its output cannot be written: %v", got)
			}
		})
	}
}
