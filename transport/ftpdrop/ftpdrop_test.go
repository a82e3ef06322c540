package ftpdrop_test

import (
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
	"github.com/feebridge/feebridge/transport/transporttest"
)

func embedded(opts *ftptest.Options) transporttest.Harness {
	return transporttest.Harness{
		NewDrop: func(t *testing.T) *transport.Drop {
			srv := ftptest.NewServer(t, opts)
			d, err := ftpdrop.Open(t.Context(), srv.Config())
			if err != nil {
				t.Fatalf("ftpdrop.Open: %v", err)
			}
			return d
		},
	}
}

func TestConformanceEmbedded(t *testing.T) {
	transporttest.RunConformanceTests(t, embedded(nil))
}

func TestConformanceEmbeddedExplicitTLS(t *testing.T) {
	transporttest.RunConformanceTests(t, embedded(&ftptest.Options{TLS: true}))
}

// A server without EPSV and MLSD: the client falls back to PASV and reads
// Unix LIST lines.
func TestConformanceEmbeddedPASVAndLIST(t *testing.T) {
	transporttest.RunConformanceTests(t, embedded(&ftptest.Options{NoEPSV: true, NoMLSD: true}))
}
