package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/internal/browsertest"
)

// TestStatusPageLayout (issue 16, done when): the status page and its
// search results, rendered in headless Chromium at 1280 and 400 px,
// overflow nowhere and show their runs, held records, webhooks and the
// lookup's three sides. Screenshots go to $FEEBRIDGE_ARTIFACTS.
func TestStatusPageLayout(t *testing.T) {
	s, damaged := statusSite(t)
	r := startServe(t, s)
	defer r.stop(t)
	for _, c := range []struct {
		name, path string
		wants      []string
	}{
		{"status-page", "/", []string{"charges", "credits", "4 min 10 s", "Alma: the daily quota is spent", "feesync redrive", "CET"}},
		{"status-student", "/?student=10067890", []string{"student 10067890", "In Alma", "In the journal", "At the bursar", "LOCKERKEY", "40.00 USD"}},
		{"status-fee", "/?fee=" + damaged.TransactionID, []string{"fee " + damaged.TransactionID, damaged.ID, "40.00 USD"}},
	} {
		code, body := get(t, r.base+c.path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", c.path, code, body)
		}
		for _, p := range browsertest.Check(t, c.name, []byte(body), 1280, 400) {
			for _, w := range c.wants {
				if !strings.Contains(p.Text, w) {
					t.Errorf("%s at %d px does not show %q (screenshot %s)", c.name, p.Width, w, p.Screenshot)
				}
			}
		}
	}
}
