package ftpdrop_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/feebridge/feebridge/transport"
)

// The data connection of a download ends early while the server's 226
// still arrives: the reader must fail, not end cleanly short.
func TestTruncatedDownloadStream(t *testing.T) {
	srv, proxy, d := behindProxy(t, &transport.NoRetry)
	want := content(4<<20, 5)
	if err := os.WriteFile(filepath.Join(srv.Dir, "export.xml"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	proxy.TruncateAfter(1 << 20)
	rc, err := d.Open(t.Context(), "export.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if proxy.Truncations() != 1 {
		t.Fatalf("the proxy ended %d data connections early, want 1", proxy.Truncations())
	}
	if err == nil {
		t.Fatalf("read %d of %d bytes without an error", len(got), len(want))
	}
	if code := transport.ErrorCode(err); code != transport.Transient {
		t.Errorf("short download: code %v (%v), want Transient", code, err)
	}
	if len(got) != 1<<20 {
		t.Errorf("read %d bytes before the error, want %d", len(got), 1<<20)
	}
	// The session stayed in step: the next read on the pool is whole.
	if got, err := d.ReadFile(t.Context(), "export.xml"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile after the short read: %d bytes, %v", len(got), err)
	}
}

// ReadFile reads the whole file again after a short transfer.
func TestTruncatedDownloadRetried(t *testing.T) {
	for _, size := range []int{1, 64 << 10, 4 << 20} {
		srv, proxy, d := behindProxy(t, quickRetry)
		want := content(size, 6)
		if err := os.WriteFile(filepath.Join(srv.Dir, "export.xml"), want, 0o644); err != nil {
			t.Fatal(err)
		}
		proxy.TruncateAfter(int64(size / 2))
		got, err := d.ReadFile(t.Context(), "export.xml")
		if err != nil {
			t.Fatalf("%d bytes: ReadFile after a short transfer: %v", size, err)
		}
		if proxy.Truncations() != 1 {
			t.Fatalf("%d bytes: the proxy ended %d data connections early, want 1", size, proxy.Truncations())
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes: read %d bytes", size, len(got))
		}
	}
}

// The data connection of an upload ends early and the server stores a
// short temporary file, then says 226: Put uploads again, and the final
// name only ever holds the old file or the whole new one.
func TestTruncatedUpload(t *testing.T) {
	for _, size := range []int{1, 64 << 10, 4 << 20} {
		srv, proxy, d := behindProxy(t, quickRetry)
		old, want := []byte("old version\n"), content(size, 7)
		final := filepath.Join(srv.Dir, "charges.dat")
		if err := os.WriteFile(final, old, 0o644); err != nil {
			t.Fatal(err)
		}
		stop := watch(t, final, old, want)
		proxy.TruncateAfter(int64(size / 2))
		err := d.Put(t.Context(), "charges.dat", bytes.NewReader(want))
		stop()
		if err != nil {
			t.Fatalf("%d bytes: Put after a short transfer: %v", size, err)
		}
		if proxy.Truncations() != 1 {
			t.Fatalf("%d bytes: the proxy ended %d data connections early, want 1", size, proxy.Truncations())
		}
		if got, err := os.ReadFile(final); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: after the retry the server holds %d bytes (%v)", size, len(got), err)
		}
		checkNoTempFiles(t, srv.Dir)
	}
}

// Without retries the short upload is a Transient error, the final name
// keeps the old file and the short temporary file is gone.
func TestTruncatedUploadNoRetry(t *testing.T) {
	srv, proxy, d := behindProxy(t, &transport.NoRetry)
	old, want := []byte("old version\n"), content(1<<20, 8)
	final := filepath.Join(srv.Dir, "charges.dat")
	if err := os.WriteFile(final, old, 0o644); err != nil {
		t.Fatal(err)
	}
	proxy.TruncateAfter(1000)
	err := d.WriteFile(t.Context(), "charges.dat", want)
	if code := transport.ErrorCode(err); code != transport.Transient {
		t.Fatalf("short upload: code %v (%v), want Transient", code, err)
	}
	if got, err := os.ReadFile(final); err != nil || !bytes.Equal(got, old) {
		t.Errorf("the final name holds %d bytes (%v), want the old file", len(got), err)
	}
	checkNoTempFiles(t, srv.Dir)
}
