package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunResultsRefusalAndRedrive: with peoplesoft.results_folder set,
// `feesync run results` holds the charge PeopleSoft's load refused, with
// the load's message; held and the report list it as sent and refused;
// `feesync redrive KEY` sends it again once, as a new line.
func TestRunResultsRefusalAndRedrive(t *testing.T) {
	s, t1, t2 := heldSite(t)
	cfg, err := os.ReadFile(s.config)
	s.must(err)
	cfg = []byte(strings.Replace(string(cfg), "[peoplesoft]\n", "[peoplesoft]\nresults_folder = \"results\"\n", 1))
	s.must(os.WriteFile(s.config, cfg, 0o600))
	s.must(os.MkdirAll(filepath.Join(s.psDir, "results"), 0o755))
	s.must(os.WriteFile(filepath.Join(s.psDir, "results", "load-1.csv"), []byte("REF1_DESCR,ITEM_TYPE,EMPLID,AMOUNT,STATUS,MESSAGE\n"+
		t1+",300000000001,10012345,40.00,POSTED,\n"+
		t2+",300000000004,10067890,40.00,ERROR,Invalid Employee ID\n"), 0o644))
	s.clock.Advance(time.Hour)
	key := t2 + "/DAMAGEDITEMFINE"
	wantRun(t, s.run("run", "results"), ExitRejected, "job=results", "confirmed=1", "rejected=1",
		"load-1.csv:3: "+key+": sent in feebridge-charges-", "refused by PeopleSoft: Invalid Employee ID")
	if rows := s.heldRows(key); len(rows) != 1 || !strings.Contains(rows[0], "BURSAR_REFUSED") {
		t.Fatalf("held lists %q, want the refused charge", rows)
	}
	if rep := s.report(); !strings.Contains(rep, "Sent, refused by PeopleSoft") || !strings.Contains(rep, "feesync redrive "+key) {
		t.Errorf("the report does not list the refusal:\n%s", rep)
	}
	if got := s.files(filepath.Join(s.psDir, "results", "done")); len(got) != 1 {
		t.Errorf("results/done holds %v", got)
	}
	wantRun(t, s.run("redrive", key), ExitOK, "records=1")
	wantRun(t, s.run("redrive", "charge"), ExitOK, "records=0")
	if rows := s.heldRows(key); len(rows) != 0 {
		t.Errorf("held after the redrive: %q", rows)
	}
}

// Without a results folder, `feesync run results` says what to set.
func TestRunResultsNeedsItsFolder(t *testing.T) {
	s := newSite(t)
	r := s.run("run", "results")
	if r.code == ExitOK || !strings.Contains(r.stderr, "peoplesoft.results_folder is not set") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
