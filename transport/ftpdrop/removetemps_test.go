package ftpdrop_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

// Over FTP, RemoveTemps finds and removes the temporary files an upload
// of one name left on the server (a process killed in the middle of a
// Put), and only those (issue 15, case 8).
func TestRemoveTempsOverFTP(t *testing.T) {
	for _, opts := range []*ftptest.Options{nil, {NoEPSV: true, NoMLSD: true}} {
		srv := ftptest.NewServer(t, opts)
		d, err := ftpdrop.Open(t.Context(), srv.Config())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		dir := filepath.Join(srv.Dir, "imports")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{".pay.xml.tmp-0123456789abcdef", ".other.xml.tmp-0123456789abcdef", "pay.xml"} {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("part"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := d.RemoveTemps(t.Context(), "imports/pay.xml")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"imports/.pay.xml.tmp-0123456789abcdef"}, got); diff != "" {
			t.Errorf("removed (-want +got):\n%s", diff)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, e := range ents {
			left = append(left, e.Name())
		}
		slices.Sort(left)
		if diff := cmp.Diff([]string{".other.xml.tmp-0123456789abcdef", "pay.xml"}, left); diff != "" {
			t.Errorf("left on the server (-want +got):\n%s", diff)
		}
	}
}

// On a real vsftpd, whose listings hide names that start with a dot (so
// that a temporary file cannot be found by listing), the temporary file a
// killed PutOwned left has a fixed name and is removed by it. It is
// written through the bare driver (a Drop never writes such a name
// itself).
func TestRemoveTempsVsftpd(t *testing.T) {
	cfg := startVsftpd(t, ftpdrop.TLSNone)
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	drv, err := ftpdrop.NewDriver(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	if err := d.MkdirAll(t.Context(), "imports"); err != nil {
		t.Fatal(err)
	}
	owned := transport.OwnedTempName("imports/pay.xml")
	other := transport.OwnedTempName("imports/other.xml")
	for _, n := range []string{owned, other} {
		if err := drv.Create(t.Context(), n, strings.NewReader("part")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.PutOwned(t.Context(), "imports/done.xml", strings.NewReader("whole")); err != nil {
		t.Fatal(err)
	}
	got, err := d.RemoveTemps(t.Context(), "imports/pay.xml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{owned}, got); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if _, err := drv.Open(t.Context(), owned); transport.ErrorCode(err) != transport.NotFound {
		t.Errorf("open %s after RemoveTemps: %v, want NotFound", owned, err)
	}
	rc, err := drv.Open(t.Context(), other)
	if err != nil {
		t.Fatalf("the temporary file of another name is gone: %v", err)
	}
	rc.Close()
	if b, err := d.ReadFile(t.Context(), "imports/done.xml"); err != nil || string(b) != "whole" {
		t.Errorf("PutOwned wrote %q, %v", b, err)
	}
	// Nothing else to remove: a second call removes nothing.
	if got, err := d.RemoveTemps(t.Context(), "imports/pay.xml"); err != nil || len(got) != 0 {
		t.Errorf("second RemoveTemps = %v, %v", got, err)
	}
}
