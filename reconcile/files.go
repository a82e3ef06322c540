package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile/internal/process"
	"github.com/feebridge/feebridge/transport"
)

// The jobs build each output, and copy each input, in a temporary file of
// Options.TempDir named "feebridge-<pid>-<job>-<what>-<random>", removed
// when the run ends. A process killed in the middle cannot remove its
// own: the next run removes those of processes that no longer run (see
// runner.removeStaleTemps). TempDir must be on this host, as the pid says
// nothing of another's.
const tempPrefix = "feebridge-"

// createTemp creates a temporary file of this process for job.
func (rn *runner) createTemp(job, what string) (*os.File, error) {
	return os.CreateTemp(rn.opts.TempDir, fmt.Sprintf("%s%d-%s-%s-*", tempPrefix, os.Getpid(), job, what))
}

// removeStaleTemps removes the temporary files that processes which no
// longer run left in TempDir. Files of a live process, of this one, or
// whose name gives no process are left alone.
func (rn *runner) removeStaleTemps(ctx context.Context) {
	if rn.opts.DryRun {
		return
	}
	dir := rn.opts.TempDir
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
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || process.Runs(pid) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if err := os.Remove(name); err == nil {
			rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: removed a temporary file of a process that stopped",
				slog.String("file", name), slog.Int("pid", pid))
		}
	}
}

// fetch copies a file of the drop to a local temporary file and returns it,
// rewound, with the hex SHA-256 of its content.
func (rn *runner) fetch(ctx context.Context, job string, drop *transport.Drop, name string) (*os.File, string, error) {
	// A transfer cut halfway (a dropped FTP data connection) fails with a
	// Transient error after Open succeeded, which the drop cannot retry for
	// a stream: read the whole file again, a few times, before giving up
	// the run. The file stays claimed for the next run either way.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		f, sum, err := rn.fetchOnce(ctx, job, drop, name)
		if err == nil || attempt == attempts || transport.ErrorCode(err) != transport.Transient {
			return f, sum, err
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// fetchOnce copies file name of drop to a temporary file and returns it,
// rewound, with the SHA-256 of its content.
func (rn *runner) fetchOnce(ctx context.Context, job string, drop *transport.Drop, name string) (*os.File, string, error) {
	rc, err := drop.Open(ctx, name)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	tmp, err := rn.createTemp(job, "in")
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), rc); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	if err := rc.Close(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, "", err
	}
	return tmp, hex.EncodeToString(h.Sum(nil)), nil
}
