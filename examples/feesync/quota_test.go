package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// TestDailyQuotaFromCLIRun: a reconciliation run from cron meets Alma's
// daily threshold. The run is not a failure (exit 0, recorded partial,
// with the reason); serve, started later the same day, learns the pause
// from the journal and makes no call to Alma; its status page and
// /metrics say until when feesync waits.
func TestDailyQuotaFromCLIRun(t *testing.T) {
	s := newSite(t)
	for _, u := range []string{"10012345", "10012346", "10012347"} {
		s.must(s.alma.AddUser(almatest.User{ID: u, FirstName: "Ada", LastName: u}))
		_, err := s.alma.AddFee(u, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
		s.must(err)
	}
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	wantRun(t, s.run("run", "charges"), ExitOK, "records=3")
	s.alma.SetFaults(almatest.Faults{DailyQuota: 2})
	res := s.run("reconcile")
	if res.code != ExitOK || !strings.Contains(res.stderr, "DAILY_THRESHOLD") {
		t.Fatalf("reconcile: exit %d, want 0 with the quota said\n%s%s", res.code, res.stdout, res.stderr)
	}
	calls := s.alma.APICalls()[""]

	j, err := reconcile.OpenJournal(t.Context(), s.journalPath(), nil)
	s.must(err)
	runs, err := j.Runs(t.Context(), "reconcile", 1)
	s.must(j.Close())
	s.must(err)
	if len(runs) != 1 || runs[0].Outcome != reconcile.RunPartial || !strings.Contains(runs[0].Error, "no call to Alma until") {
		t.Fatalf("the reconciliation's run: %+v; want partial, with the reason", runs)
	}

	r := startServe(t, s)
	defer r.stop(t)
	code, body := get(t, r.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, want := range []string{"feebridge_alma_quota_low 1\n", "feebridge_alma_paused_until_timestamp_seconds 1.772496e+09\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	code, body = get(t, r.base+"/")
	if code != http.StatusOK {
		t.Fatalf("/: %d", code)
	}
	for _, want := range []string{"Alma&#39;s daily quota", "Spent (429 DAILY_THRESHOLD): feesync calls Alma again at its midnight, Tue 3 Mar 00:00 UTC",
		"the reconciliation stopped before it had checked every student"} {
		if !strings.Contains(body, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if got := s.alma.APICalls()[""]; got != calls {
		t.Errorf("serve made %d calls to Alma while paused", got-calls)
	}
}
