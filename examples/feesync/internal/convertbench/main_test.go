//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/config"
)

// TestPythonConvertersWriteFeesyncBytes: each yardstick, the plain
// ElementTree.parse converter and the iterparse one, writes, on a
// generated export, the bytes feesync's conversion writes, so that they
// are measured doing the same work. It skips without python3, unless
// FEEBRIDGE_REQUIRE_PYTHON3 is set.
func TestPythonConvertersWriteFeesyncBytes(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("FEEBRIDGE_REQUIRE_PYTHON3") != "" {
			t.Fatal("python3 is missing and FEEBRIDGE_REQUIRE_PYTHON3 is set")
		}
		t.Skip("python3 is missing")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "export.xml")
	if _, err := writeExport(in, 2000); err != nil {
		t.Fatal(err)
	}
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	goOut := filepath.Join(dir, "feesync.dat")
	res, err := config.ConvertExport(t.Context(), config.Default(), in, goOut,
		&config.ConvertOptions{Now: func() time.Time { return day }, TempDir: dir})
	if err != nil || res.Records != 2000 {
		t.Fatalf("%+v, %v", res, err)
	}
	want, err := os.ReadFile(goOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(pyConverters) != 2 {
		t.Fatalf("%d Python converters, want the plain one and the iterparse one", len(pyConverters))
	}
	for _, c := range pyConverters {
		t.Run(c.name, func(t *testing.T) {
			script := filepath.Join(dir, c.file)
			if err := os.WriteFile(script, c.src, 0o644); err != nil {
				t.Fatal(err)
			}
			pyOut := filepath.Join(dir, c.name+".dat")
			if out, err := exec.Command(python, script, in, pyOut, asOf).CombinedOutput(); err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			got, err := os.ReadFile(pyOut)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s wrote %d bytes, feesync %d; first lines:\n%.300s\n%.300s", c.file, len(got), len(want), got, want)
			}
		})
	}
}
