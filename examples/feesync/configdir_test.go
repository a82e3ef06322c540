package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckInstitutionName(t *testing.T) {
	for _, ok := range []string{"sac", "crc-2", "0a"} {
		if err := checkInstitutionName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "SAC", "-x", "a_b", "a.b", "a/b", "é"} {
		if err := checkInstitutionName(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestReadConfigDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sac.toml", minimalConfig)
	write("arc.toml", minimalConfig)
	write("_deployment.toml", "not = a site")
	write("notes.txt", "ignored")
	insts, err := readConfigDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 || insts[0].Name != "arc" || insts[1].Name != "sac" || insts[0].Config == nil {
		t.Fatalf("got %+v", insts)
	}

	write("Bad_Name.toml", minimalConfig)
	write("broken.toml", minimalConfig+"\nno_such_key = 1\n")
	_, err = readConfigDir(dir)
	if err == nil {
		t.Fatal("bad files accepted")
	}
	for _, want := range []string{"Bad_Name.toml", "broken.toml", "no_such_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	if _, err := readConfigDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no institution config") {
		t.Errorf("empty dir: %v", err)
	}
}
