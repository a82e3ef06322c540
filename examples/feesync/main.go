package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// main runs one feesync command and exits with its code: 0 done, 3 done
// with rejected records, 1 failure, 2 usage. SIGINT and SIGTERM cancel the
// command's context so that a run stops cleanly between records.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	err := m.ParseFlags(ctx, os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code := m.Exit(err)
	stop()
	os.Exit(code)
}
