package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/reconcile/config"
)

// jobEndSite is a site whose config names Alma's export job, and whose
// Alma sends JOB_END.
func jobEndSite(t *testing.T) *site {
	t.Helper()
	s := newSite(t)
	b, err := os.ReadFile(s.config)
	s.must(err)
	text := strings.Replace(string(b), "[alma]\n", "[alma]\nexport_job = \""+almatest.ExportJobName("BURSAR")+"\"\n", 1)
	s.must(os.WriteFile(s.config, []byte(text), 0o600))
	s.alma.SubscribeJobEnd()
	return s
}

// dirFiles lists the files of dir (no folders).
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestServeChargesOnJobEnd (issue 18): serve runs the charges job as soon
// as Alma's JOB_END of the export arrives, long before its 18:30 schedule
// (the test's clock stands at 18:00 and the cron never fires); the
// scheduled run, coming second, finds nothing new.
func TestServeChargesOnJobEnd(t *testing.T) {
	s := jobEndSite(t)
	threeFees(t, s)
	r := startServe(t, s)
	s.alma.SetWebhook(r.base+config.DefaultWebhookPath, []byte(webhookSecret))
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	if n := s.alma.RunDue(t.Context()); n != 1 {
		t.Fatalf("%d deliveries, want the JOB_END", n)
	}
	inbound := filepath.Join(s.psDir, "inbound")
	waitFor(t, r.done, "the charge file", func() bool { return len(dirFiles(t, inbound)) == 1 })
	waitFor(t, r.done, "the run's end", func() bool { return strings.Contains(r.stderr.String(), `msg="job done" job=charges`) })
	r.stop(t)
	if !strings.Contains(r.stderr.String(), "job started by Alma") {
		t.Errorf("serve's log does not say Alma started the job:\n%s", r.stderr.String())
	}
	wantRun(t, s.run("run", "charges"), ExitOK, "files=0")
	if got := dirFiles(t, inbound); len(got) != 1 {
		t.Errorf("inbound after the scheduled run: %v", got)
	}
}

// TestServeJobEndCountDisagrees (issue 18): a JOB_END that announces one
// fine more than the file holds sends the file to failed/, with both
// numbers in its reason file, and nothing of it is charged.
func TestServeJobEndCountDisagrees(t *testing.T) {
	s := jobEndSite(t)
	threeFees(t, s)
	r := startServe(t, s)
	s.alma.SetWebhook(r.base+config.DefaultWebhookPath, []byte(webhookSecret))
	s.alma.FailNextExport(almatest.JobEndFault{Records: 1})
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	s.alma.RunDue(t.Context())
	failed := filepath.Join(s.libDir, "exports", "failed")
	waitFor(t, r.done, "the run's end", func() bool { return strings.Contains(r.stderr.String(), `msg="job done" job=charges`) })
	r.stop(t)
	var reason string
	for _, n := range dirFiles(t, failed) {
		if !strings.HasSuffix(n, ".xml") {
			b, err := os.ReadFile(filepath.Join(failed, n))
			s.must(err)
			reason = string(b)
		}
	}
	if !strings.Contains(reason, "exported 4 fines and fees of 2 users") || !strings.Contains(reason, "holds 3 records of 2 users") {
		t.Errorf("reason file: %q", reason)
	}
	if got := dirFiles(t, filepath.Join(s.psDir, "inbound")); len(got) != 0 {
		t.Errorf("charged: %v", got)
	}
}
