package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getAuth(t, url, "")
}

// TestMetricsCountCLIRuns (issue 16): runs made from the command line (as
// cron does) reach serve's /metrics through the journal's run history:
// the charges run's records, amount and held record, the payments run's,
// the held records by kind and the journal's size.
func TestMetricsCountCLIRuns(t *testing.T) {
	s := newSite(t)
	chargeThree(t, s)

	r := startServe(t, s)
	defer r.stop(t)
	code, body := get(t, r.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`feebridge_job_runs_total{job="charges",outcome="held"} 1`,
		`feebridge_job_runs_total{job="credits",outcome="ok"} 1`,
		`feebridge_records_total{job="charges",outcome="ok"} 2`,
		`feebridge_records_total{job="charges",outcome="held"} 1`,
		`feebridge_amount_total{flow="charges"} 45`,
		`feebridge_held_records{kind="charge"} 1`,
		`feebridge_held_records{kind="payment"} 0`,
		`feebridge_job_last_success_timestamp_seconds{job="charges"} `,
		`feebridge_journal_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestReadyzFollowsLastRun (issue 16): /healthz stays 200 while /readyz
// answers 503 naming the job whose last run failed, and 200 again once a
// run of it succeeds, runs made from the command line.
func TestReadyzFollowsLastRun(t *testing.T) {
	s := newSite(t)
	r := startServe(t, s)
	defer r.stop(t)
	if code, body := get(t, r.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before any run: %d %s", code, body)
	}
	exports := filepath.Join(s.libDir, "exports")
	s.must(os.Remove(exports))
	if res := s.run("run", "charges"); res.code != ExitFailure {
		t.Fatalf("charges without its folder: exit %d\n%s", res.code, res.stderr)
	}
	code, body := get(t, r.base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "job charges: its last run") {
		t.Errorf("/readyz after a failed run: %d %q", code, body)
	}
	if code, _ := get(t, r.base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	s.must(os.Mkdir(exports, 0o755))
	wantRun(t, s.run("run", "charges"), ExitOK)
	if code, body := get(t, r.base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a good run: %d %q", code, body)
	}
}
