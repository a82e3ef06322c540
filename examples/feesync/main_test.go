package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// result is what one run of feesync gave.
type result struct {
	code           int
	stdout, stderr string
}

// runFeesync drives Main as main does, with env as the whole environment
// and a fixed clock.
func runFeesync(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC) },
	}
	err := m.ParseFlags(t.Context(), args)
	if err == nil {
		err = m.Run(t.Context())
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code := m.Exit(err)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// writeFile writes content to name in a new temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
