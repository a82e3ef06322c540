package transporttest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
	"github.com/feebridge/feebridge/transport/transporttest"
)

func ExampleFaultDriver() {
	ctx := context.Background()
	mem := memdrop.NewDriver(nil)
	faulty := transporttest.NewFaultDriver(mem)
	drop := transport.NewDrop(faulty, &transport.DropOptions{Retry: &transport.NoRetry})

	// A write is two driver calls: the temporary file, then the rename.
	// Stop the "process" between them.
	faulty.CrashAfter(1)
	err := drop.WriteFile(ctx, "charges.dat", []byte("H|0|0.00\n"))
	fmt.Println(errors.Is(err, transporttest.ErrCrashed))

	// The final name was never half written.
	_, err = transport.NewDrop(mem, nil).Stat(ctx, "charges.dat")
	fmt.Println(transport.ErrorCode(err))
	// Output:
	// true
	// not found
}
