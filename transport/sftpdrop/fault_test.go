package sftpdrop_test

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
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// behindProxy starts an embedded server and a cutting proxy in front of
// it, and opens a drop through the proxy.
func behindProxy(t *testing.T, retry *transport.Retry, edit func(*sftpdrop.Config)) (*sftptest.Server, *sftptest.Proxy, *transport.Drop) {
	t.Helper()
	srv := newServer(t)
	proxy, err := sftptest.NewProxy(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg := srv.Config()
	cfg.Address = proxy.Addr
	cfg.Drop = &transport.DropOptions{Retry: retry}
	if edit != nil {
		edit(&cfg)
	}
	d, err := sftpdrop.Open(t.Context(), cfg)
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

// Every connection is cut just before an operation: the pooled
// connection is dead and the next call reconnects.
func TestCutBefore(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry, nil)
	ctx := t.Context()
	want := content(1<<20, 5)
	if err := os.WriteFile(filepath.Join(srv.Dir(), "export.xml"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"read", func() error {
			got, err := d.ReadFile(ctx, "export.xml")
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("read %d bytes, want %d", len(got), len(want))
			}
			return err
		}},
		{"write", func() error { return d.WriteFile(ctx, "payments.xml", want) }},
		{"list", func() error { _, err := d.List(ctx, ""); return err }},
		{"stat", func() error { _, err := d.Stat(ctx, "payments.xml"); return err }},
		{"mkdir", func() error { return d.MkdirAll(ctx, "done") }},
		{"rename", func() error { return d.Rename(ctx, "payments.xml", "done/payments.xml") }},
		{"remove", func() error { return d.Remove(ctx, "done/payments.xml") }},
	}
	for _, s := range steps {
		cuts := proxy.Cuts()
		proxy.CutAll()
		if err := s.do(); err != nil {
			t.Errorf("%s after a cut: %v", s.name, err)
		}
		if proxy.Cuts() != cuts+1 {
			t.Errorf("%s: the proxy cut %d times", s.name, proxy.Cuts()-cuts)
		}
	}
	checkNoTempFiles(t, srv.Dir())
}

func TestCutMidUpload(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry, nil)
	old, want := []byte("old version\n"), content(8<<20, 1)
	final := filepath.Join(srv.Dir(), "charges.dat")
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
	checkNoTempFiles(t, srv.Dir())
}

func TestCutMidDownload(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry, nil)
	want := content(8<<20, 2)
	if err := os.WriteFile(filepath.Join(srv.Dir(), "export.xml"), want, 0o644); err != nil {
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
	srv, proxy, d := behindProxy(t, &transport.NoRetry, nil)
	want := content(8<<20, 3)
	if err := os.WriteFile(filepath.Join(srv.Dir(), "export.xml"), want, 0o644); err != nil {
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
	if got, err := d.ReadFile(t.Context(), "export.xml"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile after the cut: %d bytes, %v", len(got), err)
	}
}

// The server restarts (or drops idle connections): the pooled
// connections are dead, and the next calls must reconnect.
func TestServerRestart(t *testing.T) {
	srv := newServer(t)
	cfg := srv.Config()
	cfg.PoolSize = 3
	cfg.Drop = &transport.DropOptions{Retry: &transport.NoRetry}
	d, err := sftpdrop.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
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
		// No retry by the Drop: the driver itself redials.
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

// An upload to a server that stops answering ends after Timeout with a
// transient error instead of hanging, and leaves the final name alone.
func TestUploadStall(t *testing.T) {
	srv, proxy, d := behindProxy(t, &transport.NoRetry, func(c *sftpdrop.Config) {
		c.Timeout = 300 * time.Millisecond
		c.KeepAlive = -1 // the progress timeout alone
	})
	proxy.Stall(true)
	err := d.WriteFile(t.Context(), "big.dat", content(16<<20, 4))
	proxy.Stall(false)
	if code := transport.ErrorCode(err); code != transport.Transient {
		t.Fatalf("upload to a stalled server: code %v (%v), want Transient", code, err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir(), "big.dat")); !os.IsNotExist(err) {
		t.Errorf("the final name exists after a failed upload: %v", err)
	}
}

// The server stalls in the middle of a transfer and comes back once the
// client gave up on the stalled connection: the Drop retries on a new
// connection and ends with the whole content.
func TestStallThenRetry(t *testing.T) {
	srv, proxy, d := behindProxy(t, quickRetry, func(c *sftpdrop.Config) { c.Timeout = 300 * time.Millisecond })
	want := content(8<<20, 6)
	final := filepath.Join(srv.Dir(), "charges.dat")
	stop := watch(t, final, want)
	proxy.StallUntilCut()
	if err := d.WriteFile(t.Context(), "charges.dat", want); err != nil {
		t.Fatalf("WriteFile through a stall: %v", err)
	}
	stop()
	if got, err := os.ReadFile(final); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the server holds %d bytes (%v), want %d", len(got), err, len(want))
	}
	proxy.StallUntilCut()
	got, err := d.ReadFile(t.Context(), "charges.dat")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadFile through a stall: %d bytes, %v", len(got), err)
	}
	checkNoTempFiles(t, srv.Dir())
}

// An idle connection whose server stopped answering is closed by the
// keep-alives, without any call: the next call does not wait on it.
func TestKeepAliveClosesDeadConnection(t *testing.T) {
	srv, proxy, d := behindProxy(t, &transport.NoRetry, func(c *sftpdrop.Config) {
		c.Timeout = 200 * time.Millisecond
		c.KeepAlive = 20 * time.Millisecond
	})
	proxy.StallUntilCut() // ends when the client closes the connection
	for give := time.Now().Add(20 * time.Second); proxy.Stalled(); {
		if time.Now().After(give) {
			t.Fatal("the idle connection to a stalled server was never closed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir(), "export.xml"), []byte("<x/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadFile(t.Context(), "export.xml"); err != nil || string(got) != "<x/>" {
		t.Errorf("ReadFile after the keep-alive closed the connection: %q, %v", got, err)
	}
}

// Closing a drop whose server stopped answering does not wait for it.
func TestCloseStalled(t *testing.T) {
	_, proxy, d := behindProxy(t, &transport.NoRetry, func(c *sftpdrop.Config) { c.KeepAlive = -1 })
	if _, err := d.List(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	proxy.Stall(true)
	defer proxy.Stall(false)
	closed := make(chan error, 1)
	go func() { closed <- d.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(60 * time.Second): // a hang, not a measure
		t.Fatal("Close of a drop on a stalled server did not return")
	}
}
