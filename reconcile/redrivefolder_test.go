package reconcile_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
)

// A re-drive whose outbound folder is missing fails as the jobs do, with
// a *FolderError naming it (issue 15, case 3): it used to create the
// folder silently and publish into it, where no one takes the files.
func TestRedriveMissingOutboundFolder(t *testing.T) {
	e := newEnv(t)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.put(e.library, "exports/x.xml", "fee|T1|S001|F1|DAMAGEDITEMFINE|B1|30.00", "end|1")
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	delete(e.charges.refuse, fees.TypeDamagedItemFine)
	e.opts.Folders.Charges = "inbund"
	res, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	var fe *reconcile.FolderError
	if !errors.As(err, &fe) || fe.Job != reconcile.JobRedriveCharges || fe.Folder != "inbund" || !fe.Outbound || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("redrive into a missing folder = %+v, %v; want a *reconcile.FolderError for outbound folder inbund", res, err)
	}
	if _, err := e.bursar.Stat(t.Context(), "inbund"); transport.ErrorCode(err) != transport.NotFound {
		t.Errorf("the redrive created the missing folder (%v)", err)
	}
	if held, err := e.journal.Held(t.Context(), reconcile.KindCharge); err != nil || len(held) != 1 {
		t.Errorf("held after the failed redrive: %v, %v; want the charge still held", held, err)
	}
	// A taken folder that is configured but missing fails the same way.
	e.opts.Folders.Charges, e.opts.Folders.ChargesTaken = "inbound", "inbound/loaded"
	_, err = e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	if !errors.As(err, &fe) || fe.Folder != "inbound/loaded" || !fe.Outbound {
		t.Fatalf("redrive with a missing taken folder: %v", err)
	}
}
