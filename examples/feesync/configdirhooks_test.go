package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma"
)

func TestInstitutionWebhooksUseEachSecret(t *testing.T) {
	got := map[string]int{}
	hook := func(name string) func(context.Context, alma.Event) error {
		return func(context.Context, alma.Event) error { got[name]++; return nil }
	}
	mux := http.NewServeMux()
	handleInstitutionWebhooks(mux, []institutionHook{
		{Name: "arc", Secret: []byte("secret-a"), OnEvent: hook("arc")},
		{Name: "sac", Secret: []byte("secret-s"), OnEvent: hook("sac")},
	}, nil)
	body := `{"id":"9900001","action":"LOAN","institution":{"value":"X"},"time":"2026-03-02T08:00:00.000Z",` +
		`"event":{"value":"LOAN_RETURNED"},"item_loan":{"loan_id":"2300001","user_id":"S1","item_barcode":"B77",` +
		`"loan_status":"ACTIVE","loan_date":"2026-02-02T08:00:00.000Z","due_date":"2026-02-16T08:00:00Z"}}`
	post := func(path, secret string) int {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(alma.SignatureHeader, alma.Sign([]byte(secret), []byte(body)))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post("/webhooks/alma/sac", "secret-a"); code != http.StatusUnauthorized {
		t.Errorf("arc's delivery on sac's path: %d, want 401", code)
	}
	if code := post("/webhooks/alma/arc", "secret-a"); code >= 300 {
		t.Errorf("arc's delivery on arc's path: %d", code)
	}
	if code := post("/webhooks/alma/nope", "secret-a"); code != http.StatusNotFound {
		t.Errorf("unknown institution: %d, want 404", code)
	}
	if got["arc"] != 1 {
		t.Errorf("arc handled %d events, want 1", got["arc"])
	}
	if got["sac"] != 0 {
		t.Errorf("sac handled %d events signed for arc", got["sac"])
	}
}
