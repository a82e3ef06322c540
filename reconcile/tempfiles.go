package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The jobs build each output, and copy each input, in a temporary file of
// Options.TempDir named "feebridge-<pid>-<job>-<what>-<random>", removed
// when the run ends. A process killed in the middle cannot remove its
// own: the next run removes those of processes that no longer run (see
// [Jobs.removeStaleTemps]). TempDir must be on this host, as the pid says
// nothing of another's.
const tempPrefix = "feebridge-"

// createTemp creates a temporary file of this process for job.
func (j *Jobs) createTemp(job, what string) (*os.File, error) {
	return os.CreateTemp(j.opts.TempDir, fmt.Sprintf("%s%d-%s-%s-*", tempPrefix, os.Getpid(), job, what))
}

// removeStaleTemps removes the temporary files that processes which no
// longer run left in TempDir. Files of a live process, of this one, or
// whose name gives no process are left alone.
func (j *Jobs) removeStaleTemps(ctx context.Context) {
	if j.opts.DryRun {
		return
	}
	dir := j.opts.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tempPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processRuns(pid) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if err := os.Remove(name); err == nil {
			j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: removed a temporary file of a process that stopped",
				slog.String("file", name), slog.Int("pid", pid))
		}
	}
}
