package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setConfig appends lines to the site's config file under section.
func (s *site) setConfig(section string, lines ...string) {
	s.t.Helper()
	b, err := os.ReadFile(s.config)
	s.must(err)
	cfg := strings.Replace(string(b), section+"\n", section+"\n"+strings.Join(lines, "\n")+"\n", 1)
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))
}

// A misspelled inbound folder fails the run, naming the key and the path
// (issue 15, case 3); it used to exit 0 with files=0.
func TestRunPaymentsMisspelledFolder(t *testing.T) {
	s := newSite(t)
	s.setConfig("[peoplesoft]", `outbound_folder = "outbund"`)
	r := s.run("run", "payments")
	wantRun(t, r, ExitFailure, `peoplesoft.outbound_folder = "outbund"`, filepath.Join(s.psDir, "outbund")+" does not exist")
	if !strings.Contains(r.stderr, "job failed") {
		t.Errorf("the log does not say the job failed:\n%s", r.stderr)
	}
}

// An inbound path that is a file fails the run (issue 15, case 13).
func TestRunChargesExportsIsAFile(t *testing.T) {
	s := newSite(t)
	exports := filepath.Join(s.libDir, "exports")
	s.must(os.Remove(exports))
	s.must(os.WriteFile(exports, []byte("not a folder\n"), 0o644))
	r := s.run("run", "charges")
	wantRun(t, r, ExitFailure, `library.export_folder = "exports"`, exports+" is not a folder")
}

// check-config lists every folder of a local drop that is missing, not a
// folder, or cannot be written: all at once, each with its key and path.
func TestCheckConfigListsEveryBadFolder(t *testing.T) {
	s := newSite(t)
	s.must(os.MkdirAll(filepath.Join(s.libDir, "reports"), 0o755))
	if r := s.run("check-config"); r.code != ExitOK {
		t.Fatalf("check-config on a good site: exit %d\n%s", r.code, r.stderr)
	}
	s.setConfig("[peoplesoft]", `outbound_folder = "outbund"`)
	s.setConfig("[library]", `credit_folder = "credit"`)
	exports := filepath.Join(s.libDir, "exports")
	s.must(os.Remove(exports))
	s.must(os.WriteFile(exports, []byte("not a folder\n"), 0o644))
	r := s.run("check-config")
	wantRun(t, r, ExitFailure,
		`library.export_folder = "exports": `+exports+" is not a folder",
		`library.credit_folder = "credit": `+filepath.Join(s.libDir, "credit")+" does not exist",
		`peoplesoft.outbound_folder = "outbund": `+filepath.Join(s.psDir, "outbund")+" does not exist")
	if n := strings.Count(r.stderr, "_folder = "); n != 3 {
		t.Errorf("check-config names %d folders, want 3:\n%s", n, r.stderr)
	}
}

// A re-drive into a missing outbound folder fails, naming the key and the
// path, as the jobs do; it used to create the folder silently.
func TestRedriveMissingOutboundFolder(t *testing.T) {
	s := newSite(t)
	inbound := filepath.Join(s.psDir, "inbound")
	s.must(os.Remove(inbound))
	r := s.run("redrive", "charge")
	wantRun(t, r, ExitFailure, `peoplesoft.inbound_folder = "inbound": `+inbound+" does not exist")
	if _, err := os.Stat(inbound); err == nil {
		t.Errorf("redrive created %s", inbound)
	}
}

// A configured taken folder that is missing fails the run as a missing
// outbound folder does, naming its key: a misspelled one would hide the
// files the consumer already took.
func TestRunChargesMissingTakenFolder(t *testing.T) {
	s := newSite(t)
	s.setConfig("[peoplesoft]", `inbound_taken_folder = "inbound/loadd"`)
	r := s.run("run", "charges")
	wantRun(t, r, ExitFailure, `peoplesoft.inbound_taken_folder = "inbound/loadd": `+filepath.Join(s.psDir, "inbound", "loadd")+" does not exist")
	s.must(os.MkdirAll(filepath.Join(s.psDir, "inbound", "loadd"), 0o755))
	if r := s.run("run", "charges"); r.code != ExitOK {
		t.Errorf("run with the taken folder made: exit %d\n%s", r.code, r.stderr)
	}
}
