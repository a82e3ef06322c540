package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMetricsCountCLIRuns (issue 16): runs made from the command line (as
// cron does) reach serve's /metrics through the journal's run history:
// the charges run's records, amount and held record, the payments run's,
// the held records by kind and the journal's size.
func TestMetricsCountCLIRuns(t *testing.T) {
	ctx := t.Context()
	s := newSite(t)
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	s.must(a.AddUser(almatest.User{ID: "10067890", FirstName: "Alan", LastName: "Turing"}))
	_, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	s.must(err)
	_, err = a.AddFee("10067890", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00")})
	s.must(err)
	_, err = a.AddFee("10067890", almatest.FeeSpec{Type: fees.Type("LOCKERKEY"), Amount: usd("3.00")})
	s.must(err)
	_, err = a.RunExport(ctx, s.library, "exports", "BURSAR")
	s.must(err)
	wantRun(t, s.run("run", "charges"), ExitRejected, "records=2", "rejected=1")
	wantRun(t, s.run("run", "credits"), ExitOK, "files=0")

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
