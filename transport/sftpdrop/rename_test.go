package sftpdrop_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// With posix-rename@openssh.com a rename replaces the target in one step;
// without it the driver says Exists (as the Driver contract asks) and
// leaves both files, and the Drop's Put still replaces the file.
func TestRenameReplaces(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []sftptest.Option
		wantCode transport.Code
	}{
		{"posix-rename", nil, transport.OK},
		{"plain rename", []sftptest.Option{sftptest.WithoutPosixRename()}, transport.Exists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.opts...)
			for name, data := range map[string]string{"a": "new", "b": "old"} {
				if err := os.WriteFile(filepath.Join(srv.Dir(), name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			drv, err := sftpdrop.NewDriver(t.Context(), srv.Config())
			if err != nil {
				t.Fatal(err)
			}
			defer drv.Close()
			err = drv.Rename(t.Context(), "a", "b")
			if code := transport.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("Rename over a file: code %v (%v), want %v", code, err, tc.wantCode)
			}
			want := "new"
			if tc.wantCode == transport.Exists {
				want = "old"
			}
			if got, _ := os.ReadFile(filepath.Join(srv.Dir(), "b")); string(got) != want {
				t.Errorf("b holds %q, want %q", got, want)
			}
			// Put replaces either way.
			if err := drv.Put(t.Context(), "b", strings.NewReader("newest")); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(srv.Dir(), "b")); string(got) != "newest" {
				t.Errorf("after Put b holds %q", got)
			}
			checkNoTempFiles(t, srv.Dir())
		})
	}
}

// Errors name their cause: a missing root, a missing file, a missing
// folder for a write.
func TestErrorCodes(t *testing.T) {
	srv := newServer(t)
	cfg := srv.Config()
	cfg.Root = "nowhere"
	_, err := sftpdrop.Open(t.Context(), cfg)
	if transport.ErrorCode(err) != transport.NotFound || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("Open with a missing root: %v", err)
	}
	if !errors.Is(err, sftpdrop.ErrNoRoot) {
		t.Errorf("Open with a missing root: %v is not ErrNoRoot", err)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir(), "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Root = "afile"
	if _, err := sftpdrop.Open(t.Context(), cfg); !errors.Is(err, sftpdrop.ErrNoRoot) || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("Open with a file as root: %v", err)
	}
	// Nothing listens: a network failure, transient.
	closed := newServer(t)
	cfg = closed.Config()
	closed.Close()
	cfg.Drop = &transport.DropOptions{Retry: &transport.NoRetry}
	if _, err := sftpdrop.Open(t.Context(), cfg); transport.ErrorCode(err) != transport.Transient {
		t.Errorf("Open against a closed port: %v, want Transient", err)
	}
	d, err := sftpdrop.Open(t.Context(), srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ReadFile(t.Context(), "none.xml"); transport.ErrorCode(err) != transport.NotFound {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	if err := d.WriteFile(t.Context(), "no/such/dir.xml", []byte("x")); transport.ErrorCode(err) != transport.NotFound {
		t.Errorf("WriteFile into a missing folder: %v", err)
	}
	if err := os.Chmod(srv.Dir(), 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(srv.Dir(), 0o755)
	if os.Geteuid() != 0 {
		if err := d.WriteFile(t.Context(), "ro.xml", []byte("x")); transport.ErrorCode(err) != transport.Permission {
			t.Errorf("WriteFile into a read-only folder: %v", err)
		}
	}
}
