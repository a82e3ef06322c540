package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// TestMetricsAlmaFromCLIRun (issue 16): a reconciliation run from the
// command line (as cron does) keeps its Alma calls and the quota Alma
// said was left in the run history, and serve's /metrics shows that quota
// as feebridge_alma_api_remaining although serve itself called nobody.
func TestMetricsAlmaFromCLIRun(t *testing.T) {
	s := newSite(t)
	s.must(s.alma.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	_, err := s.alma.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	s.must(err)
	_, err = s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	wantRun(t, s.run("run", "charges"), ExitOK, "records=1")
	if calls := s.alma.APICalls()[""]; calls != 0 {
		t.Fatalf("the charges run called Alma %d times", calls)
	}
	res := s.run("reconcile")
	if res.code != ExitOK {
		t.Fatalf("reconcile: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	calls := s.alma.APICalls()[""]
	if calls == 0 {
		t.Fatal("the reconciliation made no call to Alma")
	}

	j, err := reconcile.OpenJournal(t.Context(), s.journalPath(), nil)
	s.must(err)
	runs, err := j.Runs(t.Context(), "reconcile", 1)
	s.must(j.Close())
	s.must(err)
	if len(runs) != 1 || runs[0].AlmaCalls != calls || runs[0].AlmaRemaining != int64(1_000_000-calls) || runs[0].Who != "cli" {
		t.Fatalf("the reconciliation's run %+v; want %d Alma calls, %d left, by cli", runs, calls, 1_000_000-calls)
	}

	r := startServe(t, s)
	defer r.stop(t)
	code, body := get(t, r.base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if want := fmt.Sprintf("feebridge_alma_api_remaining %d\n", 1_000_000-calls); !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %q:\n%s", want, body)
	}
	if strings.Contains(body, "feebridge_alma_requests_total{") {
		t.Errorf("serve counts Alma calls it did not make:\n%s", body)
	}
}

// TestMetricsCountServeAlmaCalls (issue 16): the Alma calls that serve's
// events worker makes for a webhook event are counted by operation and
// status in serve's /metrics, with the quota Alma's last answer gave.
func TestMetricsCountServeAlmaCalls(t *testing.T) {
	s := newSite(t)
	a := s.alma
	lostBook(t, s)

	r := startServe(t, s)
	defer r.stop(t)
	a.SetWebhook(r.base+config.DefaultWebhookPath, []byte(webhookSecret))
	_, err := a.Return("B1")
	s.must(err)
	a.RunDue(t.Context())
	done := `feebridge_webhook_events_total{outcome="done",type="loan_returned"} 1`
	var code int
	var body string
	var calls map[string]int
	// The fake counts a call when it comes and the client when its answer
	// is read: wait until the event is done and both have counted the
	// same calls.
	waitFor(t, r.done, "the event handled and its calls counted", func() bool {
		calls = a.APICalls()
		code, body = get(t, r.base+"/metrics")
		remaining := fmt.Sprintf("feebridge_alma_api_remaining %d\n", 1_000_000-calls[""])
		return code != http.StatusOK || strings.Contains(body, done) && strings.Contains(body, remaining)
	})
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if lostFeesOpen(a, "10012345") != 0 {
		t.Fatal("the event is done but the lost-item fees are open")
	}
	for op, route := range map[string]string{"get_loan": "GET users/{user_id}/loans/{loan_id}", "waive_fee": "POST users/{user_id}/fees/{fee_id}"} {
		want := fmt.Sprintf("feebridge_alma_requests_total{op=%q,status=\"200\"} %d\n", op, calls[route])
		if calls[route] == 0 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q (the fake saw %v):\n%s", want, calls, body)
		}
	}
	if want := fmt.Sprintf("feebridge_alma_api_remaining %d\n", 1_000_000-calls[""]); !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %q:\n%s", want, body)
	}
}
