package almatest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"
)

// SignatureHeader is the header that carries a webhook's signature.
const SignatureHeader = "X-Exl-Signature"

// Sign returns the signature Alma puts in X-Exl-Signature: the Base64 of
// the HMAC-SHA256 of the raw body under the secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// The loan events the fake sends (see Options.WebhookEvents).
const (
	EventLoanCreated  = "LOAN_CREATED"
	EventLoanLost     = "LOAN_LOST"
	EventLoanReturned = "LOAN_RETURNED"
)

var eventDescs = map[string]string{
	EventLoanCreated:  "Loan created",
	EventLoanLost:     "Loan lost",
	EventLoanReturned: "Loan returned",
}

// The states of a webhook delivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event and what became of it.
type WebhookDelivery struct {
	ID    string // the event id
	Event string // such as LOAN_RETURNED
	Body  []byte // the exact bytes sent
	// Signature is the X-Exl-Signature sent with Body.
	Signature string
	// State is DeliveryPending, DeliveryDelivered or DeliveryFailed.
	State    string
	Attempts []WebhookAttempt
	// Next is when the next attempt is due, while pending.
	Next time.Time
}

// WebhookAttempt is one try at delivering an event.
type WebhookAttempt struct {
	At     time.Time // simulated time
	Status int       // HTTP status, 0 on a network error
	Err    string    // the network error, if any
}

type delivery struct {
	WebhookDelivery
	inflight bool // an attempt is being made (by a concurrent RunDue)
}

// Webhooks returns every event queued so far, oldest first.
func (s *Server) Webhooks() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]WebhookDelivery, len(s.hooks))
	for i, d := range s.hooks {
		out[i] = d.WebhookDelivery
		out[i].Attempts = append([]WebhookAttempt(nil), d.Attempts...)
	}
	return out
}

// RunDue delivers every pending webhook event that is due by the clock:
// new events at once, failed ones after the retry delays. An event is
// delivered when the receiver answers 2xx; a 5xx or a network error
// schedules the next retry, until Options.WebhookRetryDelays are spent; any
// other status ends it as failed, as Alma does. It returns the number of
// attempts made. Without a WebhookURL it does nothing.
func (s *Server) RunDue(ctx context.Context) int {
	n := 0
	for {
		s.mu.Lock()
		url := s.opts.WebhookURL
		if url == "" {
			s.mu.Unlock()
			return n
		}
		now := s.clock.Now()
		var d *delivery
		for _, h := range s.hooks {
			if h.State == DeliveryPending && !h.inflight && !h.Next.After(now) {
				d = h
				break
			}
		}
		if d == nil {
			s.mu.Unlock()
			return n
		}
		body, sig := d.Body, d.Signature
		d.inflight = true
		s.mu.Unlock()

		if ctx.Err() != nil {
			s.mu.Lock()
			d.inflight = false
			s.mu.Unlock()
			return n
		}
		status, err := s.post(ctx, url, body, sig)
		n++

		s.mu.Lock()
		d.inflight = false
		a := WebhookAttempt{At: now, Status: status}
		if err != nil {
			a.Err = err.Error()
		}
		d.Attempts = append(d.Attempts, a)
		switch {
		case err == nil && status >= 200 && status < 300:
			d.State = DeliveryDelivered
		case err != nil || status >= 500:
			retry := len(d.Attempts) - 1
			if retry < len(s.opts.WebhookRetryDelays) {
				d.Next = now.Add(s.opts.WebhookRetryDelays[retry])
			} else {
				d.State = DeliveryFailed
			}
		default:
			d.State = DeliveryFailed
		}
		s.mu.Unlock()
	}
}

func (s *Server) post(ctx context.Context, url string, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, sig)
	resp, err := s.hook.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// SetWebhook points the webhook at url, signing with secret from the next
// event on. Events already queued keep their signature.
func (s *Server) SetWebhook(url string, secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.WebhookURL, s.opts.WebhookSecret = url, append([]byte(nil), secret...)
}

type codeDesc struct {
	Value string `json:"value"`
	Desc  string `json:"desc"`
}

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type webhookLoan struct {
	Renewable     bool      `json:"renewable"`
	LoanDate      string    `json:"loan_date"`
	LoanStatus    string    `json:"loan_status"`
	DueDate       string    `json:"due_date"`
	ItemBarcode   string    `json:"item_barcode"`
	UserID        string    `json:"user_id"`
	Library       codeDesc  `json:"library"`
	CircDesk      codeDesc  `json:"circ_desk"`
	LoanID        string    `json:"loan_id"`
	ProcessStatus string    `json:"process_status"`
	MMSID         string    `json:"mms_id"`
	ItemID        string    `json:"item_id"`
	Title         string    `json:"title"`
	Author        string    `json:"author"`
	Description   string    `json:"description"`
	LocationCode  nameValue `json:"location_code"`
	ItemPolicy    struct {
		Description string `json:"description"`
		Value       string `json:"value"`
	} `json:"item_policy"`
	CallNumber string `json:"call_number"`
}

type webhookEvent struct {
	Representation any         `json:"representation"`
	Portfolio      any         `json:"portfolio"`
	Item           any         `json:"item"`
	ID             string      `json:"id"`
	Action         string      `json:"action"`
	Institution    codeDesc    `json:"institution"`
	Time           string      `json:"time"`
	Event          codeDesc    `json:"event"`
	ItemLoan       webhookLoan `json:"item_loan"`
	Bib            any         `json:"bib"`
	Holding        any         `json:"holding"`
}

// queueLoanEventLocked records a LOAN event about l for delivery by
// RunDue, if the webhook profile sends that event. For a return, l is the
// loan as it stood before, as Alma sends it: a returned loan still says
// ACTIVE.
func (s *Server) queueLoanEventLocked(event string, l *Loan, now time.Time) {
	if !slices.Contains(s.opts.WebhookEvents, event) {
		return
	}
	desc := eventDescs[event]
	it := s.items[l.Barcode]
	ev := webhookEvent{
		ID:          s.newID(kindEvent),
		Action:      "LOAN",
		Institution: codeDesc{Value: s.opts.Institution, Desc: s.opts.Institution},
		Time:        now.UTC().Format("2006-01-02T15:04:05.000Z"),
		Event:       codeDesc{Value: event, Desc: desc},
		ItemLoan: webhookLoan{
			LoanDate:      l.LoanDate.UTC().Format("2006-01-02T15:04:05.000Z"),
			LoanStatus:    l.Status,
			DueDate:       l.DueDate.UTC().Format(time.RFC3339),
			ItemBarcode:   l.Barcode,
			UserID:        l.UserID,
			Library:       codeDesc{Value: it.Library, Desc: it.Library},
			CircDesk:      codeDesc{Value: "DEFAULT_CIRC_DESK", Desc: "Circulation Desk"},
			LoanID:        l.ID,
			ProcessStatus: l.ProcessStatus,
			MMSID:         it.MMSID,
			ItemID:        it.PID,
			Title:         it.Title,
			Author:        it.Author,
			LocationCode:  nameValue{Name: it.Location, Value: it.Location},
			CallNumber:    it.CallNumber,
		},
	}
	ev.ItemLoan.ItemPolicy.Description, ev.ItemLoan.ItemPolicy.Value = "Regular loan", "01"
	body, err := json.Marshal(ev)
	if err != nil {
		panic(err) // plain strings only: cannot fail
	}
	s.hooks = append(s.hooks, &delivery{WebhookDelivery: WebhookDelivery{
		ID: ev.ID, Event: event, Body: body, Signature: Sign(s.opts.WebhookSecret, body),
		State: DeliveryPending, Next: now,
	}})
}
