//go:build !unix

// Command convertbench measures feesync's conversion against a Python
// converter; it needs the rusage of a Unix system.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "convertbench: runs on Unix systems only (it reads each child's rusage)")
	os.Exit(2)
}
