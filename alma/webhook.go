package alma

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Webhook event types of the LOAN action (the event.value of a delivery).
const (
	EventLoanCreated         = "LOAN_CREATED"
	EventLoanReturned        = "LOAN_RETURNED"
	EventLoanLost            = "LOAN_LOST"
	EventLoanClaimedReturned = "LOAN_CLAIMED_RETURNED"
	EventLoanRenewed         = "LOAN_RENEWED"
	EventLoanDueDate         = "LOAN_DUE_DATE"
)

// ActionLoan is the action of loan webhook deliveries.
const ActionLoan = "LOAN"

// SignatureHeader carries the delivery's signature: Base64 of the
// HMAC-SHA256 of the raw body with the webhook secret.
const SignatureHeader = "X-Exl-Signature"

// Webhook handler defaults.
const (
	DefaultMaxWebhookBody  = 1 << 20
	DefaultCallbackTimeout = 20 * time.Second
)

// ErrRetryLater is what a webhook callback wraps in its error when the
// event could not be handled now but may be later (Alma or the journal
// unreachable, a waiver that failed). The handler then answers 503 and
// Alma delivers the event again (after 1 h, 3 h and 6 h). Build such an
// error with [RetryLater] or fmt.Errorf("…: %w", ErrRetryLater).
var ErrRetryLater = errors.New("retry later")

// RetryLater wraps err so that the webhook handler asks Alma to deliver
// the event again.
func RetryLater(err error) error {
	if err == nil {
		return ErrRetryLater
	}
	return &retryLaterError{err}
}

type retryLaterError struct{ err error }

func (e *retryLaterError) Error() string   { return "retry later: " + e.err.Error() }
func (e *retryLaterError) Unwrap() []error { return []error{ErrRetryLater, e.err} }

// Sign returns the signature Alma puts in the X-Exl-Signature header for
// body: Base64 of its HMAC-SHA256 with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Event is one webhook delivery.
type Event struct {
	ID          string
	Action      string // such as LOAN or JOB_END
	Type        string // event.value, such as LOAN_RETURNED
	Institution string // institution.value
	Time        time.Time
	// Loan is the item_loan of a LOAN delivery. Its Status still says
	// ACTIVE on a return: key on Type.
	Loan *LoanEvent
	// JobEnd is the job_instance of a JOB_END delivery.
	JobEnd *JobEnd
	// Raw is the body exactly as delivered.
	Raw []byte
}

// LoanEvent is the loan that a LOAN delivery concerns.
type LoanEvent struct {
	LoanID        string
	UserID        string
	ItemBarcode   string
	ItemID        string
	MMSID         string
	Title         string
	Status        string // loan_status
	ProcessStatus string // process_status, such as NORMAL or LOST
	LoanDate      time.Time
	DueDate       time.Time
	Library       string
}

type eventJSON struct {
	ID          flexString `json:"id"`
	Action      string     `json:"action"`
	Institution codeValue  `json:"institution"`
	Time        string     `json:"time"`
	Event       codeValue  `json:"event"`
	Loan        *struct {
		loanJSON
	} `json:"item_loan"`
	JobInstance json.RawMessage `json:"job_instance"`
}

// ParseEvent decodes a webhook body. It does not check the signature. A
// JOB_END delivery must carry a job_instance with an id, a status and
// counters that are counts (see [JobEnd]).
func ParseEvent(body []byte) (Event, error) {
	var ej eventJSON
	if err := json.Unmarshal(body, &ej); err != nil {
		return Event{}, err
	}
	ev := Event{
		ID: string(ej.ID), Action: ej.Action, Type: ej.Event.Value,
		Institution: ej.Institution.Value, Raw: body,
	}
	var err error
	if ev.Time, err = almaTime(ej.Time); err != nil {
		return Event{}, err
	}
	if ej.Loan != nil {
		l, err := ej.Loan.loan()
		if err != nil {
			return Event{}, err
		}
		ev.Loan = &LoanEvent{
			LoanID: l.ID, UserID: l.UserID, ItemBarcode: l.ItemBarcode, ItemID: l.ItemID,
			MMSID: l.MMSID, Title: l.Title, Status: l.Status, ProcessStatus: l.ProcessStatus,
			LoanDate: l.LoanDate, DueDate: l.DueDate, Library: l.Library,
		}
	}
	if ev.Action == ActionJobEnd {
		if ev.JobEnd, err = parseJobEnd(ej.JobInstance); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

// WebhookOptions adjusts a [WebhookHandler]. nil gives the defaults.
type WebhookOptions struct {
	// MaxBody is the largest body accepted; larger ones get 413. Default
	// DefaultMaxWebhookBody (1 MiB).
	MaxBody int64
	// CallbackTimeout bounds the callback. Default DefaultCallbackTimeout.
	CallbackTimeout time.Duration
	// Logger receives one line per refused or failed delivery. Default:
	// discard.
	Logger *slog.Logger
}

// WebhookHandler is the http.Handler Alma delivers webhooks to.
//
//   - GET with ?challenge=X (Alma checking the URL): answers
//     {"challenge":"X"}.
//   - POST: reads at most MaxBody bytes (more: 413), checks the
//     X-Exl-Signature header against the raw body in constant time
//     (missing or wrong: 401), decodes the event (malformed: 400).
//     Events of the LOAN action (with a loan) and of the JOB_END action
//     go to the callback; other actions are answered 200 and otherwise
//     ignored.
//   - The callback runs before the answer, under CallbackTimeout and a
//     context that is not cancelled when Alma hangs up. Its result:
//     nil → 200; an error wrapping [ErrRetryLater], or the timeout → 503,
//     and Alma delivers the event again; any other error → logged and
//     200, since delivering the same event again would fail the same way.
//     Callbacks must therefore wrap transient failures (a waiver Alma did
//     not take) with [RetryLater], and be idempotent on [Event.ID], since
//     Alma may deliver an event more than once.
type WebhookHandler struct {
	secret  []byte
	fn      func(ctx context.Context, ev Event) error
	maxBody int64
	timeout time.Duration
	log     *slog.Logger
}

// NewWebhookHandler returns a handler that checks deliveries with secret
// and hands loan and job-end events to fn.
func NewWebhookHandler(secret []byte, fn func(ctx context.Context, ev Event) error, opts *WebhookOptions) *WebhookHandler {
	var o WebhookOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxWebhookBody
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = DefaultCallbackTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &WebhookHandler{
		secret: append([]byte(nil), secret...), fn: fn,
		maxBody: o.MaxBody, timeout: o.CallbackTimeout, log: o.Logger,
	}
}

// ServeHTTP answers one request from Alma.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.challenge(w, r)
	case http.MethodPost:
		h.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *WebhookHandler) challenge(w http.ResponseWriter, r *http.Request) {
	c := r.URL.Query().Get("challenge")
	if c == "" {
		http.Error(w, "missing challenge", http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"challenge": c})
}

func (h *WebhookHandler) deliver(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.WarnContext(r.Context(), "alma webhook: body too large", "limit", h.maxBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading body failed", http.StatusBadRequest)
		return
	}
	if !h.verify(r.Header.Get(SignatureHeader), body) {
		h.log.WarnContext(r.Context(), "alma webhook: missing or bad signature", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		h.log.WarnContext(r.Context(), "alma webhook: malformed event", "error", err)
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	handled := ev.Action == ActionLoan && ev.Loan != nil || ev.Action == ActionJobEnd && ev.JobEnd != nil
	if !handled || h.fn == nil {
		h.log.DebugContext(r.Context(), "alma webhook: event ignored", "id", ev.ID, "action", ev.Action, "event", ev.Type)
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()
	err = h.fn(ctx, ev)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case errors.Is(err, ErrRetryLater) || errors.Is(err, context.DeadlineExceeded):
		h.log.WarnContext(r.Context(), "alma webhook: asking Alma to deliver again", "id", ev.ID, "event", ev.Type, "error", err)
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "temporarily unable to handle the event", http.StatusServiceUnavailable)
	default:
		h.log.ErrorContext(r.Context(), "alma webhook: event failed", "id", ev.ID, "event", ev.Type, "error", err)
		writeJSON(w, http.StatusOK, map[string]string{"status": "failed"})
	}
}

// verify checks sig against body in constant time.
func (h *WebhookHandler) verify(sig string, body []byte) bool {
	if sig == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
