package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// statusSite is a site in Europe/Paris whose charges run (made from the
// command line, as cron does) charged two fees and held one (a LOCKERKEY
// fee, a type without a PeopleSoft item type), whose credits run found
// nothing, and whose journal holds a failed reconcile run of 4 min 10 s.
// It returns the site and the damaged-item fee (charged).
func statusSite(t *testing.T) (*site, fees.Fee) {
	t.Helper()
	ctx := t.Context()
	s := newSite(t)
	cfg, err := os.ReadFile(s.config)
	s.must(err)
	s.must(os.WriteFile(s.config, []byte(strings.Replace(string(cfg), `timezone = "UTC"`, `timezone = "Europe/Paris"`, 1)), 0o600))
	damaged := chargeThree(t, s)
	a := s.alma

	j, err := journal.Open(ctx, s.journalPath(), nil)
	s.must(err)
	start := time.Date(2026, 3, 2, 5, 30, 0, 0, time.UTC)
	_, err = j.AddRun(ctx, journal.Run{Job: jobReconcile, Started: start, Ended: start.Add(4*time.Minute + 10*time.Second),
		Outcome: journal.RunFailed, Error: "Alma: the daily quota is spent", Who: "serve"})
	s.must(err)
	s.must(j.Close())
	for _, f := range a.Fees("10067890") {
		if f.ID == damaged.ID {
			damaged = f // with its transaction id, set by the export
		}
	}
	return s, damaged
}

// threeFees gives two students three fees in Alma: an overdue fine of
// 5.00 (returned first), a damaged item fine of 40.00 (returned second)
// and a LOCKERKEY fee of 3.00, a type without a PeopleSoft item type.
func threeFees(t *testing.T, s *site) (overdue, damaged fees.Fee) {
	t.Helper()
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	s.must(a.AddUser(almatest.User{ID: "10067890", FirstName: "Alan", LastName: "Turing"}))
	overdue, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	s.must(err)
	damaged, err = a.AddFee("10067890", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("40.00")})
	s.must(err)
	_, err = a.AddFee("10067890", almatest.FeeSpec{Type: fees.Type("LOCKERKEY"), Amount: usd("3.00")})
	s.must(err)
	return overdue, damaged
}

// chargeThree gives two students three fees in Alma (5.00, a damaged
// item fine of 40.00 and a LOCKERKEY fee of 3.00, a type without a
// PeopleSoft item type), exports them, and runs charges (two charged, one
// held) and credits (nothing) from the command line, as cron does. It
// returns the damaged-item fee.
func chargeThree(t *testing.T, s *site) fees.Fee {
	t.Helper()
	_, damaged := threeFees(t, s)
	_, err := s.alma.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	wantRun(t, s.run("run", "charges"), ExitRejected, "records=2", "rejected=1")
	wantRun(t, s.run("run", "credits"), ExitOK, "files=0")
	return damaged
}

// goDuration matches a duration as Go prints it: "5.29396ms", "0s", "4m10s".
var goDuration = regexp.MustCompile(`>[0-9hm.]+(ns|µs|ms|s)<`)

// getAuth fetches url with the Authorization header auth ("" for none).
func getAuth(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
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

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	if t.Failed() {
		t.Logf("%s:\n%s", what, body)
	}
}

// TestStatusPage (issue 16, the status page): serve's page shows the runs
// made from the command line and the journal's older runs (from the run
// history, not serve's memory), every time in the configured zone with its
// abbreviation (never UTC), human durations, each job's schedule with its
// next and last run, the held records by kind with the command that
// re-sends them (student masked), and the webhooks' state.
func TestStatusPage(t *testing.T) {
	s, _ := statusSite(t)
	r := startServe(t, s)
	defer r.stop(t)
	code, body := get(t, r.base+"/")
	if code != http.StatusOK {
		t.Fatalf("/: %d\n%s", code, body)
	}
	wantIn(t, "status page", body,
		// The last runs: the CLI's charges and credits runs, and the failed reconcile run.
		`<td data-label="Job">charges</td><td data-label="Started">Mon 2 Mar 19:00 CET</td>`,
		`<td data-label="Job">credits</td>`,
		`<td data-label="By">cli</td>`,
		`<td data-label="Held" class="n">1</td>`,
		`<td data-label="Took">4 min 10 s</td>`,
		`<td data-label="Started">Mon 2 Mar 06:30 CET</td>`,
		"Alma: the daily quota is spent",
		// Schedules: next from now (19:00 CET), last per the journal.
		`<td data-label="Next run">Tue 3 Mar 18:30 CET</td><td data-label="Last run">Mon 2 Mar 19:00 CET</td>`,
		`<td data-label="Next run">Mon 2 Mar 19:05 CET</td><td data-label="Last run">never</td>`,
		"Times are in Europe/Paris",
		// Held: by kind, the record, its student masked, the command.
		"Held records (1)", "<li>charge: 1</li>", "<li>payment: 0</li>", fees.MaskID("10067890"), "3.00 USD", "feesync redrive ",
		// Webhooks.
		"The listener is on at <code>"+strings.TrimPrefix(r.base, "http://")+"</code>", "Events received: 0", "Failed for good: 0", "Last event: -",
	)
	for _, not := range []string{"10067890", "10012345", " UTC"} {
		if strings.Contains(body, not) {
			t.Errorf("status page shows %q", not)
		}
	}
	if raw := goDuration.FindString(body); raw != "" {
		t.Errorf("status page shows a Go duration: %q", raw)
	}
}

// TestStatusSearch (issue 16, the status page): the search answers by
// student and by fee (the bursar's fee id) with where it stands in Alma,
// the journal and at the bursar, the student id whole (the operator typed
// it); an unknown student or fee is said not found.
func TestStatusSearch(t *testing.T) {
	s, damaged := statusSite(t)
	r := startServe(t, s)
	defer r.stop(t)

	code, body := get(t, r.base+"/?student=10067890")
	if code != http.StatusOK {
		t.Fatalf("/?student: %d\n%s", code, body)
	}
	wantIn(t, "student search", body, "<h2>student 10067890</h2>", "<h3>In Alma</h3>", "<h3>In the journal</h3>",
		"<h3>At the bursar", "LOCKERKEY", "DAMAGEDITEMFINE", "rejected", "charged", "40.00 USD", `value="10067890"`)
	if strings.Contains(body, "Not found") {
		t.Errorf("a known student is said not found:\n%s", body)
	}

	code, body = get(t, r.base+"/?fee="+damaged.TransactionID)
	if code != http.StatusOK {
		t.Fatalf("/?fee: %d\n%s", code, body)
	}
	wantIn(t, "fee search", body, "fee "+damaged.TransactionID+" of student 10067890", damaged.ID, "40.00 USD")
	if strings.Contains(body, "LOCKERKEY") {
		t.Errorf("the fee search shows another fee:\n%s", body)
	}

	_, body = get(t, r.base+"/?fee=no-such-fee")
	wantIn(t, "unknown fee", body, "Not found.", "The journal knows no fee &#34;no-such-fee&#34;.")
	_, body = get(t, r.base+"/?student=99999999")
	wantIn(t, "unknown student", body, "Not found.", "Neither the journal nor Alma knows a fee of student &#34;99999999&#34;.")
}

// TestStatusToken (issue 16, the status page): with a status token set,
// the page, its search and /metrics answer 401 without it or with a wrong
// one, and 200 with it as a bearer token or as ?token= (which the search
// form then carries); /healthz, /readyz and the webhook path stay open.
func TestStatusToken(t *testing.T) {
	s := newSite(t)
	s.env[config.EnvStatusToken] = "tok-3f9a"
	r := startServe(t, s)
	defer r.stop(t)
	for _, path := range []string{"/", "/?student=10012345", "/metrics"} {
		if code, body := get(t, r.base+path); code != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d %s", path, code, body)
		}
		if code, _ := getAuth(t, r.base+path, "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", path, code)
		}
		if code, _ := getAuth(t, r.base+path, "Bearer tok-3f9a"); code != http.StatusOK {
			t.Errorf("%s with the token: %d", path, code)
		}
	}
	code, body := get(t, r.base+"/?token=tok-3f9a")
	if code != http.StatusOK || !strings.Contains(body, `<input type="hidden" name="token" value="tok-3f9a">`) {
		t.Errorf("/?token=: %d, the form does not carry the token:\n%s", code, body)
	}
	if code, _ := get(t, r.base+"/?token=wrong"); code != http.StatusUnauthorized {
		t.Errorf("/?token=wrong: %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz", config.DefaultWebhookPath + "?challenge=c1"} {
		if code, body := get(t, r.base+path); code != http.StatusOK {
			t.Errorf("%s with a token set: %d %s", path, code, body)
		}
	}
	if strings.Contains(r.stderr.String(), "tok-3f9a") {
		t.Error("the token reached the log")
	}
}
