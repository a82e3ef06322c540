package sftptest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

// A drop through the cutting proxy: the connection is cut halfway through
// an upload, and the drop's retry writes the whole file.
func ExampleNewProxy() {
	dir, _ := os.MkdirTemp("", "sftptest")
	defer os.RemoveAll(dir)
	srv, err := sftptest.Start(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	proxy, err := sftptest.NewProxy(srv.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer proxy.Close()

	cfg := srv.Config() // password login, the server's key pinned
	cfg.Address = proxy.Addr
	ctx := context.Background()
	drop, err := sftpdrop.Open(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drop.Close()

	data := make([]byte, 4<<20)
	proxy.CutAfter(1 << 20)
	err = drop.WriteFile(ctx, "charges.dat", data)
	stored, _ := os.ReadFile(dir + "/charges.dat")
	fmt.Println(err, proxy.Cuts(), len(stored) == len(data), transport.ErrorCode(err))
	// Output: <nil> 1 true ok
}
