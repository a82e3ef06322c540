package memdrop_test

import (
	"testing"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
	"github.com/feebridge/feebridge/transport/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.RunConformanceTests(t, transporttest.Harness{
		NewDrop: func(*testing.T) *transport.Drop { return memdrop.New() },
	})
}

// The generic path of the Drop (temporary name, then rename) must pass
// too: the fault wrapper hides the driver's own atomic Put.
func TestConformanceGeneric(t *testing.T) {
	transporttest.RunConformanceTests(t, transporttest.Harness{
		NewDrop: func(*testing.T) *transport.Drop {
			return transport.NewDrop(transporttest.NewFaultDriver(memdrop.NewDriver(nil)), nil)
		},
	})
}
