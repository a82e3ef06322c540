package alma

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feebridge/feebridge/fees"
)

// Alma error codes that feebridge acts on. Alma sends many more; they are
// kept as they come in [Error.Code].
const (
	// CodePerSecondThreshold: more calls in one second than Alma allows
	// (HTTP 429). The client waits and tries again.
	CodePerSecondThreshold = "PER_SECOND_THRESHOLD"
	// CodeDailyThreshold: the institution's daily number of calls is used
	// up (HTTP 429). The client stops and reports it; trying again before
	// the quota resets only burns what little is left.
	CodeDailyThreshold = "DAILY_THRESHOLD"
	// CodeUserNotFound: Alma's code for "User with identifier X was not
	// found", sent with HTTP 400.
	CodeUserNotFound = "401861"
	// CodeIdentifierNotFound: "Identifier not found", Alma's answer (HTTP
	// 400) for an unknown user on the fees and loans calls.
	CodeIdentifierNotFound = "401651"
	// CodeFeeNotFound: "Fine not found" (HTTP 400).
	CodeFeeNotFound = "401665"
	// CodeItemNotFound: "No items found for barcode X" (HTTP 400).
	CodeItemNotFound = "401689"
)

// notFoundCodes are the Alma error codes that mean the thing asked for
// does not exist, although Alma sends them with HTTP 400.
var notFoundCodes = map[string]bool{
	CodeUserNotFound:       true,
	CodeIdentifierNotFound: true,
	CodeFeeNotFound:        true,
	CodeItemNotFound:       true,
}

// maxErrorBody is how much of an error response the client reads. Alma's
// error documents are a few hundred bytes; anything longer is cut.
const maxErrorBody = 64 << 10

// Error is a failed call to Alma: an HTTP error answer, or a call that did
// not get an answer at all (Err then holds the network or timeout error).
//
// The API key never appears in it: the key travels only in the
// Authorization header, and any text that came back from the server is
// scrubbed of it before it is stored here.
type Error struct {
	// Status is the HTTP status, or 0 when no answer came back.
	Status int
	// Code is Alma's error code, such as "401861" or
	// [CodePerSecondThreshold]; empty when Alma sent none.
	Code string
	// Message is Alma's error message, or the start of the body when it
	// was not an Alma error document.
	Message string
	// TrackingID is Alma's tracking id for the failed call, which Ex
	// Libris support asks for.
	TrackingID string
	// RetryAfter is the wait Alma asked for in a Retry-After header, if
	// any.
	RetryAfter time.Duration
	// Method and Path name the call; user ids in Path are masked.
	Method string
	Path   string
	// Attempts is how many times the call was tried.
	Attempts int
	// Err is the underlying cause when there was no HTTP answer, or the
	// answer could not be decoded.
	Err error

	final bool // never retried, whatever the status
}

// Error describes the failed call, such as
// `alma: GET users/****/fees: 400 401861: User with identifier ab12 was
// not found. (tracking E01-…)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("alma: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(" ")
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		if e.Code != "" {
			b.WriteString(" ")
			b.WriteString(e.Code)
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		if e.TrackingID != "" {
			b.WriteString(" (tracking ")
			b.WriteString(e.TrackingID)
			b.WriteString(")")
		}
	}
	if e.Err != nil {
		if e.Status != 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the underlying cause, so errors.As finds a net.Error or
// a context error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns Alma's error code from the first *[Error] in err's
// chain, or "" if there is none or Alma sent no code.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsRateLimited reports whether err is Alma refusing a call for going over
// its per-second threshold. The client already retried it within its
// budget.
func IsRateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusTooManyRequests && e.Code != CodeDailyThreshold
}

// IsQuotaExhausted reports whether err is Alma's daily threshold: no more
// calls will succeed until the quota resets, so a job should stop cleanly
// and report it.
func IsQuotaExhausted(err error) bool {
	return ErrorCode(err) == CodeDailyThreshold
}

// IsNotFound reports whether err says the user, fee, loan or item asked
// for does not exist: HTTP 404, or one of Alma's "not found" codes
// ([CodeUserNotFound], [CodeIdentifierNotFound], [CodeFeeNotFound],
// [CodeItemNotFound]), which Alma sends with HTTP 400.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusNotFound || notFoundCodes[e.Code])
}

// retryable reports whether a call that failed with e may be tried again,
// and whether the failed attempt may have taken effect in Alma (so that a
// write must re-read before it is sent again).
func (e *Error) retryable() (retry, maybeApplied bool) {
	switch {
	case e.final:
		return false, false
	case e.Status == 0:
		// No answer: the request may or may not have reached Alma.
		return true, true
	case e.Status == http.StatusTooManyRequests:
		// Refused at the gate, nothing done; the daily quota is final.
		return e.Code != CodeDailyThreshold, false
	case e.Status >= 500:
		return true, true
	}
	return false, false
}

// webServiceResult is Alma's error document, in JSON
// ({"errorsExist":true,"errorList":{"error":[…]}}) and in XML
// (<web_service_result><errorList><error>…).
type webServiceResult struct {
	ErrorsExist bool `json:"errorsExist" xml:"errorsExist"`
	ErrorList   struct {
		Error errorItems `json:"error" xml:"error"`
	} `json:"errorList" xml:"errorList"`
}

type errorItem struct {
	Code       string `json:"errorCode" xml:"errorCode"`
	Message    string `json:"errorMessage" xml:"errorMessage"`
	TrackingID string `json:"trackingId" xml:"trackingId"`
}

// errorItems takes Alma's "error" as a list or, as some answers send it,
// a single object.
type errorItems []errorItem

func (l *errorItems) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one errorItem
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = errorItems{one}
		return nil
	}
	var many []errorItem
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// parseErrorBody fills e's Code, Message and TrackingID from an error
// body in either of Alma's forms. A body that is neither gives its first
// line as the message.
func (e *Error) parseErrorBody(body []byte) {
	body = bytes.TrimSpace(body)
	var r webServiceResult
	var err error
	switch {
	case len(body) == 0:
		return
	case body[0] == '{':
		err = json.Unmarshal(body, &r)
	case body[0] == '<':
		err = xml.Unmarshal(body, &r)
	default:
		err = errors.New("not an Alma error document")
	}
	if err == nil && len(r.ErrorList.Error) > 0 {
		first := r.ErrorList.Error[0]
		e.Code = strings.TrimSpace(first.Code)
		e.Message = strings.TrimSpace(first.Message)
		e.TrackingID = strings.TrimSpace(first.TrackingID)
		if n := len(r.ErrorList.Error); n > 1 {
			e.Message += fmt.Sprintf(" (and %d more errors)", n-1)
		}
		return
	}
	e.Message = snippet(body)
}

// snippet returns the start of a body for an error message: one line, at
// most 200 bytes, valid UTF-8.
func snippet(body []byte) string {
	s := string(body)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += " …"
	}
	return s
}

// parseRetryAfter reads a Retry-After header given in seconds or as an
// HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactor removes the API key from text that may have come from the
// server or from a lower layer.
type redactor string

const redacted = "[REDACTED]"

func (r redactor) String(s string) string {
	if r == "" {
		return s
	}
	return strings.ReplaceAll(s, string(r), redacted)
}

// Error returns err unchanged if its text does not contain the key, or an
// error whose text has it removed and that still unwraps to err.
func (r redactor) Error(err error) error {
	if err == nil || r == "" || !strings.Contains(err.Error(), string(r)) {
		return err
	}
	return &redactedError{msg: r.String(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// maskPath masks the user id in an API path with [fees.MaskID]
// ("users/12345678/fees" → "users/*****678/fees"), so that student ids do
// not reach logs or error strings.
func maskPath(p string) string {
	parts := strings.Split(p, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "users" {
			parts[i+1] = fees.MaskID(parts[i+1])
		}
	}
	return strings.Join(parts, "/")
}
