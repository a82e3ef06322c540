package ftpdrop_test

import (
	"context"
	"fmt"
	"os"

	"github.com/feebridge/feebridge/transport/ftpdrop"
	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

func ExampleOpen() {
	// A stand-in for the library's FTP server, with explicit FTPS.
	dir, _ := os.MkdirTemp("", "libraryftp")
	defer os.RemoveAll(dir)
	_ = os.Mkdir(dir+"/alma", 0o755)
	srv, err := ftptest.Start(dir, &ftptest.Options{TLS: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	ctx := context.Background()
	drop, err := ftpdrop.Open(ctx, ftpdrop.Config{
		Addr:      srv.Addr,
		User:      srv.User,
		Password:  srv.Password, // in production: from the environment or a file
		TLS:       ftpdrop.TLSExplicit,
		TLSConfig: srv.ClientTLS,
		Root:      "/alma",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drop.Close()

	_ = drop.MkdirAll(ctx, "bursar/import")
	if err := drop.WriteFile(ctx, "bursar/import/payments.xml", []byte("<xml/>")); err != nil {
		fmt.Println(err)
		return
	}
	list, _ := drop.List(ctx, "bursar/import")
	for _, fi := range list {
		fmt.Println(fi.Name, fi.Size)
	}
	// Output: payments.xml 6
}

func ExampleConfig_String() {
	cfg := ftpdrop.Config{Addr: "127.0.0.1:2121", User: "alma", Password: "hunter2", TLS: ftpdrop.TLSImplicit}
	fmt.Println(cfg)
	// Output: ftpdrop.Config{Addr:"127.0.0.1:2121" User:"alma" Password:[redacted] TLS:implicit Root:""}
}
