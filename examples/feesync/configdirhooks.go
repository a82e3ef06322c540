package main

import (
	"context"
	"net/http"

	"github.com/feebridge/feebridge/alma"
)

// institutionHook is what the deployment's listener needs of one
// institution to take its webhooks: its secret and where its events go.
type institutionHook struct {
	Name    string
	Secret  []byte
	OnEvent func(context.Context, alma.Event) error
}

// handleInstitutionWebhooks adds /webhooks/alma/<name> to mux for each
// institution, each checked with that institution's own secret, so a
// delivery signed for one institution is refused on another's path.
func handleInstitutionWebhooks(mux *http.ServeMux, hooks []institutionHook, opts *alma.WebhookOptions) {
	for _, h := range hooks {
		mux.Handle("/webhooks/alma/"+h.Name, alma.NewWebhookHandler(h.Secret, h.OnEvent, opts))
	}
}
