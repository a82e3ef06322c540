package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version prints the module's version, from the build information the Go
// toolchain embeds, and the Go version that built feesync.
func (m *Main) version(ctx context.Context) error {
	path, version, goVersion, rev := "github.com/feebridge/feebridge", "(unknown)", runtime.Version(), ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			path = bi.Main.Path
		}
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = " " + s.Value
			}
		}
	}
	_, err := fmt.Fprintf(m.Stdout, "feesync %s (%s%s) %s %s/%s\n", version, path, rev, goVersion, runtime.GOOS, runtime.GOARCH)
	return err
}
