package ftpdrop_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
