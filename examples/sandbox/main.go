package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// main runs the sandbox and exits 0 when the week ends reconciled, 1 when
// it does not (or fails), and 2 on a usage error. SIGINT and SIGTERM stop
// the run between two steps of the simulated clock.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s := New(os.Stdout)
	err := s.ParseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		stop()
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		stop()
		os.Exit(2)
	}
	err = s.Run(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "sandbox: interrupted")
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}
