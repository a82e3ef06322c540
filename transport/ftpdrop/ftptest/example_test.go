package ftptest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

func ExampleStart() {
	dir, _ := os.MkdirTemp("", "ftp")
	defer os.RemoveAll(dir)
	srv, err := ftptest.Start(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	drop, err := ftpdrop.Open(context.Background(), srv.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drop.Close()
	_ = drop.WriteFile(context.Background(), "hello.txt", []byte("hi"))

	// The file is in the served folder.
	data, _ := os.ReadFile(dir + "/hello.txt")
	fmt.Println(string(data))
	// Output: hi
}

func ExampleProxy() {
	dir, _ := os.MkdirTemp("", "ftp")
	defer os.RemoveAll(dir)
	srv, _ := ftptest.Start(dir, nil)
	defer srv.Close()
	proxy, _ := ftptest.NewProxy(srv.Addr)
	defer proxy.Close()

	cfg := srv.Config()
	cfg.Addr = proxy.Addr // go through the proxy
	ctx := context.Background()
	drop, err := ftpdrop.Open(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drop.Close()

	// Cut every connection once 1 MiB of data has gone through: the
	// upload fails halfway and the drop's retry sends it again.
	proxy.CutAfter(1 << 20)
	err = drop.WriteFile(ctx, "big.dat", make([]byte, 4<<20))
	fmt.Println(transport.ErrorCode(err), proxy.Cuts())
	// Output: ok 1
}
