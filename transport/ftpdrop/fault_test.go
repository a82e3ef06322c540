package ftpdrop_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

var quickRetry = &transport.Retry{Attempts: 5, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// behindProxy starts an embedded server and a cutting proxy in front of it,
// and opens a drop through the proxy.
func behindProxy(t *testing.T, retry *transport.Retry) (*ftptest.Server, *ftptest.Proxy, *transport.Drop) {
	t.Helper()
	srv := ftptest.NewServer(t, nil)
	proxy, err := ftptest.NewProxy(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg := srv.Config()
	cfg.Addr = proxy.Addr
	cfg.Drop = &transport.DropOptions{Retry: retry}
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return srv, proxy, d
}

func content(size int, seed byte) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return b
}

// watch reads the final name on the server's disk until stopped and
// reports any content that is neither of the allowed ones.
func watch(t *testing.T, file string, allowed ...[]byte) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var bad []string
	wg.Go(func() {
		for reads := 0; ; reads++ {
			select {
			case <-done:
				return
			default:
			}
			data, err := os.ReadFile(file)
			if os.IsNotExist(err) {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || bytes.Equal(data, a)
			}
			if !ok && len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("read %d: %d bytes, err %v", reads, len(data), err))
			}
			time.Sleep(time.Millisecond)
		}
	})
	return func() {
		close(done)
		wg.Wait()
		for _, b := range bad {
			t.Errorf("a half file showed under the final name: %s", b)
		}
	}
}

func checkNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if transport.IsTempName(e.Name()) {
			t.Errorf("temporary file left on the server: %s", e.Name())
		}
	}
}

func TestCutMidUpload(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry)
	old, want := []byte("old version\n"), content(8<<20, 1)
	final := filepath.Join(srv.Dir, "charges.dat")
	if err := os.WriteFile(final, old, 0o644); err != nil {
		t.Fatal(err)
	}
	stop := watch(t, final, old, want)
	proxy.CutAfter(2 << 20)
	err := d.WriteFile(t.Context(), "charges.dat", want)
	stop()
	if err != nil {
		t.Fatalf("WriteFile through a cut connection: %v", err)
	}
	if proxy.Cuts() != 1 {
		t.Fatalf("the proxy cut %d times, want 1", proxy.Cuts())
	}
	got, err := os.ReadFile(final)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("after the retry the server holds %d bytes (%v), want %d", len(got), err, len(want))
	}
	checkNoTempFiles(t, srv.Dir)
}

func TestCutMidDownload(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry)
	want := content(8<<20, 2)
	if err := os.WriteFile(filepath.Join(srv.Dir, "export.xml"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	proxy.CutAfter(2 << 20)
	got, err := d.ReadFile(t.Context(), "export.xml")
	if err != nil {
		t.Fatalf("ReadFile through a cut connection: %v", err)
	}
	if proxy.Cuts() != 1 {
		t.Fatalf("the proxy cut %d times, want 1", proxy.Cuts())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("read %d bytes, want %d", len(got), len(want))
	}
}

// A stream cut halfway ends in an error, never in a clean short read.
func TestCutMidStream(t *testing.T) {
	srv, proxy, d := behindProxy(t, &transport.NoRetry)
	want := content(8<<20, 3)
	if err := os.WriteFile(filepath.Join(srv.Dir, "export.xml"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(t.Context(), "export.xml")
	if err != nil {
		t.Fatal(err)
	}
	proxy.CutAfter(1 << 20)
	got, err := io.ReadAll(rc)
	cerr := rc.Close()
	if err == nil && cerr == nil {
		t.Fatalf("read %d of %d bytes without an error", len(got), len(want))
	}
	if err == nil {
		err = cerr
	}
	if code := transport.ErrorCode(err); code != transport.Transient {
		t.Errorf("cut stream: code %v (%v), want Transient", code, err)
	}
	// The drop recovers with new sessions.
	if got, err := d.ReadFile(t.Context(), "export.xml"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile after the cut: %d bytes, %v", len(got), err)
	}
}

// The server restarts (or drops idle sessions): the pooled sessions are
// dead, and the next calls must reconnect.
func TestServerRestart(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	cfg := srv.Config()
	cfg.PoolSize = 3
	cfg.Drop = &transport.DropOptions{Retry: quickRetry}
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	// Fill the pool with several idle sessions.
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := d.WriteFile(ctx, fmt.Sprintf("f%d", i), []byte("before")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	for round, breakIt := range []func() error{srv.Restart, func() error { srv.DropSessions(); return nil }} {
		if err := breakIt(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			name := fmt.Sprintf("f%d", i)
			if got, err := d.ReadFile(ctx, name); err != nil || string(got) != "before" {
				t.Errorf("round %d: ReadFile(%s) = %q, %v", round, name, got, err)
			}
		}
		if err := d.WriteFile(ctx, "after", []byte("after")); err != nil {
			t.Errorf("round %d: WriteFile: %v", round, err)
		}
		if list, err := d.List(ctx, ""); err != nil || len(list) != 4 {
			t.Errorf("round %d: List = %d entries, %v", round, len(list), err)
		}
	}
}

// An upload to a server that stops reading ends after IOTimeout instead
// of hanging: the FTP library alone would wait for ever.
func TestUploadStall(t *testing.T) {
	srv := ftptest.NewServer(t, nil)
	proxy, err := ftptest.NewProxy(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	cfg := srv.Config()
	cfg.Addr = proxy.Addr
	cfg.IOTimeout = 300 * time.Millisecond
	cfg.Drop = &transport.DropOptions{Retry: &transport.NoRetry}
	d, err := ftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	proxy.Stall(true)
	err = d.WriteFile(t.Context(), "big.dat", content(64<<20, 4))
	proxy.Stall(false)
	if code := transport.ErrorCode(err); code != transport.Transient {
		t.Fatalf("upload to a stalled server: code %v (%v), want Transient", code, err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, "big.dat")); !os.IsNotExist(err) {
		t.Errorf("the final name exists after a failed upload: %v", err)
	}
}
