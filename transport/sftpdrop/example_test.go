package sftpdrop_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/feebridge/feebridge/transport/sftpdrop"
	"github.com/feebridge/feebridge/transport/sftpdrop/sftptest"
)

func ExampleOpen() {
	// A stand-in for the campus SFTP server.
	dir, _ := os.MkdirTemp("", "campus-sftp")
	defer os.RemoveAll(dir)
	_ = os.Mkdir(filepath.Join(dir, "alma"), 0o755)
	srv, err := sftptest.Start(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// The server's key, as ssh-keyscan and the administrator confirm it.
	knownHosts := filepath.Join(dir, "known_hosts")
	_ = os.WriteFile(knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600)

	ctx := context.Background()
	drop, err := sftpdrop.Open(ctx, sftpdrop.Config{
		Address:    srv.Addr(),
		User:       srv.User(),
		Password:   srv.Password(), // in production: a key, from a file or the environment
		KnownHosts: knownHosts,
		Root:       "/alma",
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

// A server whose key is not the one pinned: Open stops before logging in.
func ExampleErrHostKeyChanged() {
	dir, _ := os.MkdirTemp("", "campus-sftp")
	defer os.RemoveAll(dir)
	srv, err := sftptest.Start(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	_, err = sftpdrop.Open(context.Background(), sftpdrop.Config{
		Address:       srv.Addr(),
		User:          srv.User(),
		Password:      srv.Password(),
		HostKeySHA256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	})
	fmt.Println(errors.Is(err, sftpdrop.ErrHostKeyChanged))
	// Output: true
}

func ExampleConfig_String() {
	cfg := sftpdrop.Config{Address: "sftp.example.edu:22", User: "alma", KeyFile: "/etc/feebridge/id_ed25519",
		KeyPassphrase: []byte("correct horse"), HostKeySHA256: "SHA256:abc"}
	fmt.Println(cfg)
	// Output: sftpdrop.Config{Address:"sftp.example.edu:22" User:"alma" Root:"" KnownHosts:"" HostKeySHA256:"SHA256:abc" KeyFile:"/etc/feebridge/id_ed25519" Key:"" KeyPassphrase:[redacted] UseAgent:false Password:""}
}
