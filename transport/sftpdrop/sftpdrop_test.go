package sftpdrop_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
	"github.com/feebridge/feebridge/transport/transporttest"
)

// newServer starts an embedded server on a temporary folder for one test.
func newServer(t testing.TB, opts ...sftptest.Option) *sftptest.Server {
	t.Helper()
	srv, err := sftptest.Start(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func embedded(opts ...sftptest.Option) transporttest.Harness {
	return transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			srv := newServer(t, opts...)
			d, err := sftpdrop.Open(t.Context(), srv.Config())
			if err != nil {
				t.Fatalf("sftpdrop.Open: %v", err)
			}
			return d
		},
		TimeSlack: 5 * time.Second,
	}
}

func TestConformanceEmbedded(t *testing.T) {
	transporttest.RunConformanceTests(t, embedded())
}

// A server without posix-rename: plain renames, which do not replace.
func TestConformanceEmbeddedPlainRename(t *testing.T) {
	transporttest.RunConformanceTests(t, embedded(sftptest.WithoutPosixRename()))
}

var quickRetry = &transport.Retry{Attempts: 5, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// The Drop's generic steps (Create to a temporary name, then Rename), as
// crash-recovery tests use them through a FaultDriver, which hides the
// driver's own atomic Put and Stat. (On a server without posix-rename,
// the generic steps' single remove-then-rename loses to concurrent
// writers of one name: the driver's own Put tries again, the Drop's
// generic path does not.)
func TestConformanceGenericSteps(t *testing.T) {
	transporttest.RunConformanceTests(t, transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			srv := newServer(t)
			drv, err := sftpdrop.NewDriver(t.Context(), srv.Config())
			if err != nil {
				t.Fatalf("sftpdrop.NewDriver: %v", err)
			}
			return transport.NewDrop(transporttest.NewFaultDriver(drv), nil)
		},
		TimeSlack: 5 * time.Second,
	})
}
