package reconcile_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// cuttingDriver cuts the first cuts reads of files under prefix halfway,
// as a dropped FTP data connection does: Open succeeds, then the read
// fails with a Transient error.
type cuttingDriver struct {
	transport.Driver
	prefix string
	mu     sync.Mutex
	cuts   int
}

func (d *cuttingDriver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := d.Driver.Open(ctx, name)
	if err != nil || !strings.HasPrefix(name, d.prefix) {
		return rc, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cuts == 0 {
		return rc, nil
	}
	d.cuts--
	return cutReader{rc}, nil
}

type cutReader struct{ io.ReadCloser }

func (r cutReader) Read(p []byte) (int, error) {
	if len(p) > 8 {
		p = p[:8]
	}
	n, _ := r.ReadCloser.Read(p)
	return n, &transport.Error{Code: transport.Transient, Op: "read", Err: io.ErrUnexpectedEOF}
}

// TestChargesReadAgainAfterACutTransfer shows that an export whose
// transfer is cut after it was opened is read again within the run,
// rather than failing the run.
func TestChargesReadAgainAfterACutTransfer(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	// The same content, behind a driver that cuts the next two reads.
	cut := &cuttingDriver{Driver: memdrop.NewDriver(nil), prefix: "exports/processing/", cuts: 2}
	lib := transport.NewDrop(cut, nil)
	for _, d := range []string{"exports", "imports", "credits"} {
		if err := lib.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files(t, e.library) {
		if err := lib.WriteFile(t.Context(), name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	e.library = lib
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatalf("run failed on a cut transfer: %v", err)
	}
	if res.Records != 3 || !res.Clean() {
		t.Fatalf("result = %+v", res)
	}
	if cut.cuts != 0 {
		t.Fatalf("%d cuts left: the export was not read through the cutting driver", cut.cuts)
	}
}
