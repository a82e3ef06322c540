package alma

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/feebridge/feebridge/fees"
)

// Client defaults.
const (
	// DefaultTimeout bounds each HTTP attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultRatePerSecond keeps the client under Alma's threshold of 25
	// calls per second per institution, with room for other programs.
	DefaultRatePerSecond = 20
	// DefaultMaxRetries is how many times a failed call is tried again.
	DefaultMaxRetries = 4
	// DefaultRetryBudget bounds the total time a call spends waiting
	// between its attempts.
	DefaultRetryBudget = 2 * time.Minute
)

// Backoff between attempts: retryBase·2ⁿ with jitter, at most retryCap,
// and never less than a Retry-After header asks for.
const (
	retryBase = 500 * time.Millisecond
	retryCap  = 30 * time.Second
)

// maxBody bounds a successful answer; the largest are Analytics pages.
const maxBody = 32 << 20

// regions maps Alma's region codes to Ex Libris's regional API hosts.
var regions = map[string]string{
	"na":  "https://api-na.hosted.exlibrisgroup.com/almaws/v1",
	"eu":  "https://api-eu.hosted.exlibrisgroup.com/almaws/v1",
	"ap":  "https://api-ap.hosted.exlibrisgroup.com/almaws/v1",
	"aps": "https://api-aps.hosted.exlibrisgroup.com/almaws/v1",
	"ca":  "https://api-ca.hosted.exlibrisgroup.com/almaws/v1",
	"cn":  "https://api-cn.hosted.exlibrisgroup.com.cn/almaws/v1",
}

// RegionURL returns the base URL of Alma's API for a region code: "na"
// (North America), "eu" (Europe), "ap" (Asia Pacific), "aps" (Asia
// Pacific South), "ca" (Canada) or "cn" (China).
func RegionURL(region string) (string, error) {
	u, ok := regions[strings.ToLower(strings.TrimSpace(region))]
	if !ok {
		return "", fmt.Errorf("alma: unknown region %q (want na, eu, ap, aps, ca or cn)", region)
	}
	return u, nil
}

// ClientOptions adjusts a [Client]. The zero value, or nil, gives the
// defaults.
type ClientOptions struct {
	// HTTPClient sends the requests. Default: a new http.Client with
	// Timeout. Never http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds each attempt when HTTPClient is nil. Default
	// DefaultTimeout.
	Timeout time.Duration
	// RatePerSecond is how many calls the client starts per second.
	// Default DefaultRatePerSecond; math.Inf(1) for no limit.
	RatePerSecond float64
	// Burst is how many calls may start at once. Default 1.
	Burst int
	// MaxRetries is how many times a failed call is tried again. Default
	// DefaultMaxRetries; a negative value means none.
	MaxRetries int
	// RetryBudget bounds the total wait between the attempts of one call.
	// Default DefaultRetryBudget.
	RetryBudget time.Duration
	// Currency is the currency of the institution's fees. Alma names it
	// in fee lists but not on a single fee. Default fees.USD.
	Currency fees.Currency
	// Logger receives one line per retry and per failed call, with user
	// ids masked and never the API key. Default: discard.
	Logger *slog.Logger
	// Now tells the time. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done. Tests inject one that does not
	// sleep. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is called once per HTTP attempt sent (a retry is
	// an attempt of its own), after its answer's headers or its transport
	// error, with the context of the call: metrics and run statistics. It
	// must be quick and safe for concurrent use. Default: none.
	Observe func(ctx context.Context, c Call)
	// Location is Alma's time zone: its daily quota starts again at
	// midnight there. After a 429 DAILY_THRESHOLD the client sends
	// nothing until that midnight (see [Client.PausedUntil]). Default
	// time.Local.
	Location *time.Location
}

// Call describes one HTTP attempt to Alma, for [ClientOptions.Observe].
type Call struct {
	// Op names what was asked, from a short fixed list that never holds
	// an id: "get_user", "update_user", "list_fees", "get_fee",
	// "pay_fee", "waive_fee", "restore_fee", "list_loans", "get_loan",
	// "get_item", "run_report".
	Op string
	// Status is the answer's HTTP status; 0 when no answer came (a
	// network error or a timeout).
	Status int
	// Duration is the time from sending the request to its answer's
	// headers, or to the error.
	Duration time.Duration
	// Remaining is the answer's X-Exl-Api-Remaining, the calls left in
	// the institution's daily quota; -1 when the answer had none.
	Remaining int64
}

// Client calls Alma's REST API: fees, users and their blocks, loans, items
// and Analytics reports.
//
// Every call takes a context, is paced by a client-side rate limiter, and
// is retried with backoff and jitter on HTTP 429 (per-second threshold),
// 5xx and network errors, within a retry budget. The daily quota is never
// retried: see [IsQuotaExhausted]. Writes that may have reached Alma
// before failing are not sent twice: see [Client.Pay] and [Client.Waive].
//
// Failures are *[Error] values. A Client is safe for concurrent use.
type Client struct {
	base        *url.URL
	apiKey      string
	redact      redactor
	hc          *http.Client
	limiter     *rate.Limiter
	maxRetries  int
	retryBudget time.Duration
	currency    fees.Currency
	log         *slog.Logger
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	observe     func(ctx context.Context, c Call)
	loc         *time.Location

	remaining atomic.Int64 // last X-Exl-Api-Remaining; -1 before any
	heardAt   atomic.Int64 // when it was heard, by the client's clock (Unix ns)
	pause     quotaPause   // after a 429 DAILY_THRESHOLD
}

// NewClient returns a client for the Alma API at baseURL, such as
// "https://api-na.hosted.exlibrisgroup.com/almaws/v1" (see [RegionURL]) or
// a test server's URL with a path. apiKey is sent as
// "Authorization: apikey …" and must not also be in baseURL.
func NewClient(baseURL, apiKey string, opts *ClientOptions) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("alma: no API key")
	}
	u, err := parseBaseURL(baseURL, apiKey)
	if err != nil {
		return nil, err
	}
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	c := &Client{
		base:        u,
		apiKey:      apiKey,
		redact:      redactor(apiKey),
		hc:          o.HTTPClient,
		limiter:     rate.NewLimiter(rate.Limit(o.RatePerSecond), o.Burst),
		maxRetries:  o.MaxRetries,
		retryBudget: o.RetryBudget,
		currency:    o.Currency,
		log:         o.Logger,
		now:         o.Now,
		sleep:       o.Sleep,
		observe:     o.Observe,
		loc:         o.Location,
	}
	c.remaining.Store(-1)
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.log.Warn("alma: the API is reached over plain HTTP; the API key travels unencrypted", "host", u.Host)
	}
	return c, nil
}

// parseBaseURL checks the API's base URL and returns it without query,
// fragment or trailing slash. The key never shows in its errors.
func parseBaseURL(baseURL, apiKey string) (*url.URL, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("alma: base URL: %w", redactor(apiKey).Error(err))
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("alma: base URL %q: want an absolute http(s) URL", redactor(apiKey).String(baseURL))
	}
	if u.Query().Has("apikey") || u.User != nil {
		return nil, errors.New("alma: base URL carries credentials; pass the API key as apiKey only")
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// setDefaults fills the options left zero with their defaults and checks
// the others.
func (o *ClientOptions) setDefaults() error {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = DefaultRatePerSecond
	}
	if o.RatePerSecond < 0 || math.IsNaN(o.RatePerSecond) {
		return fmt.Errorf("alma: RatePerSecond %v must be positive", o.RatePerSecond)
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.RetryBudget <= 0 {
		o.RetryBudget = DefaultRetryBudget
	}
	if o.Currency == "" {
		o.Currency = fees.USD
	}
	if !o.Currency.Valid() {
		return fmt.Errorf("alma: unknown currency %q", o.Currency)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Remaining returns the number of calls Alma said were left in the
// institution's daily quota (its X-Exl-Api-Remaining header) on the last
// answer, and false before any answer carried it.
func (c *Client) Remaining() (int64, bool) {
	n := c.remaining.Load()
	return n, n >= 0
}

// request is one call to Alma.
type request struct {
	op     string // Call.Op
	method string
	path   []string // path segments below the base URL, unescaped
	query  url.Values
	body   []byte  // JSON body, for PUT
	xml    bool    // ask for and decode XML instead of JSON
	out    any     // decoded from a successful answer, if not nil
	raw    *[]byte // or, if not nil, set to the answer's bytes

	// settled, for writes, is asked before a write is sent again after an
	// attempt that may have reached Alma. It re-reads Alma and reports
	// whether that attempt took effect; if so the call ends there.
	settled func(ctx context.Context) (bool, error)
}

func (r *request) pathString() string {
	esc := make([]string, len(r.path))
	for i, s := range r.path {
		esc[i] = url.PathEscape(s)
	}
	return strings.Join(esc, "/")
}

// errSettled ends a retry loop whose earlier attempt took effect.
var errSettled = errors.New("settled")

// do sends r, retrying as the Client's doc says. It returns errSettled if
// r.settled reported that an earlier attempt took effect.
func (c *Client) do(ctx context.Context, r *request) error {
	for _, s := range r.path {
		if s == "" || s == "." || s == ".." {
			return &Error{Method: r.method, Path: maskPath(r.pathString()), Err: fmt.Errorf("invalid path segment %q", s)}
		}
	}
	var waited time.Duration
	maybeApplied := false
	for attempt := 1; ; attempt++ {
		if err := c.paused(ctx, r); err != nil {
			return err
		}
		if maybeApplied && r.settled != nil {
			done, err := r.settled(ctx)
			if err != nil {
				return err
			}
			if done {
				c.log.InfoContext(ctx, "alma: earlier attempt took effect; not sending again",
					"method", r.method, "path", maskPath(r.pathString()))
				return errSettled
			}
		}
		err := c.once(ctx, r)
		if err == nil {
			return nil
		}
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		e.Attempts = attempt
		retry, applied := e.retryable()
		if e.Code == CodeDailyThreshold && e.Status == http.StatusTooManyRequests {
			c.pauseUntilMidnight(ctx)
		}
		if !retry || ctx.Err() != nil {
			c.log.WarnContext(ctx, "alma: call failed", "method", r.method, "path", e.Path,
				"status", e.Status, "code", e.Code, "attempts", attempt, "error", e.Error())
			return e
		}
		if attempt > c.maxRetries {
			c.log.WarnContext(ctx, "alma: giving up after retries", "method", r.method, "path", e.Path,
				"status", e.Status, "code", e.Code, "attempts", attempt)
			return e
		}
		wait := c.backoff(attempt, e.RetryAfter)
		if waited+wait > c.retryBudget {
			c.log.WarnContext(ctx, "alma: retry budget spent", "method", r.method, "path", e.Path,
				"status", e.Status, "code", e.Code, "attempts", attempt, "waited", waited)
			return e
		}
		c.log.InfoContext(ctx, "alma: retrying", "method", r.method, "path", e.Path,
			"status", e.Status, "code", e.Code, "attempt", attempt, "wait", wait)
		if err := c.sleep(ctx, wait); err != nil {
			e.Err = errors.Join(e.Err, err)
			return e
		}
		waited += wait
		maybeApplied = maybeApplied || applied
	}
}

// backoff returns the wait before attempt+1: exponential with jitter in
// [d/2, d], at least retryAfter.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := retryBase << min(attempt-1, 16)
	if d > retryCap || d <= 0 {
		d = retryCap
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// once sends one attempt of r.
func (c *Client) once(ctx context.Context, r *request) error {
	if err := c.limiter.Wait(ctx); err != nil {
		// The context ends before this call's turn: nothing was sent.
		e := c.callError(r, 0, err)
		e.final = true
		return e
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return c.callError(r, 0, err)
	}
	sent := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observed(ctx, r, 0, sent, -1)
		return c.callError(r, 0, err)
	}
	defer resp.Body.Close()
	left := int64(-1)
	if h := resp.Header.Get("X-Exl-Api-Remaining"); h != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil && n >= 0 {
			c.remaining.Store(n)
			c.heardAt.Store(c.now().UnixNano())
			left = n
		}
	}
	c.observed(ctx, r, resp.StatusCode, sent, left)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.answerError(r, resp)
	}
	return c.readAnswer(r, resp)
}

// observed tells the observer, if any, of one attempt of r.
func (c *Client) observed(ctx context.Context, r *request, status int, sent time.Time, left int64) {
	if c.observe == nil {
		return
	}
	op := r.op
	if op == "" {
		op = "other"
	}
	c.observe(ctx, Call{Op: op, Status: status, Duration: time.Since(sent), Remaining: left})
}

// callError is the *Error of a failed attempt of r, its path masked and
// secrets redacted.
func (c *Client) callError(r *request, status int, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// Its text names the URL, with the user id in it.
		err = &url.Error{Op: ue.Op, URL: maskPath(ue.URL), Err: ue.Err}
	}
	return &Error{Status: status, Method: r.method, Path: maskPath(r.pathString()), Err: c.redact.Error(err)}
}

// newRequest builds the HTTP request of r: its URL under the client's
// base, its query (format=json unless r asks for XML) and its headers.
func (c *Client) newRequest(ctx context.Context, r *request) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + "/" + strings.Join(r.path, "/")
	u.RawPath = c.base.EscapedPath() + "/" + r.pathString()
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	accept := "application/json"
	if r.xml {
		accept = "application/xml"
	} else {
		q.Set("format", "json")
	}
	u.RawQuery = q.Encode()

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "apikey "+c.apiKey)
	req.Header.Set("Accept", accept)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// answerError is the *Error of an answer outside 2xx: Alma's code,
// message and tracking id from its body (read through a size limit, with
// secrets redacted), and the time to wait from Retry-After.
func (c *Client) answerError(r *request, resp *http.Response) *Error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := c.callError(r, resp.StatusCode, nil)
	if err != nil {
		e.Err = c.redact.Error(err)
	}
	e.parseErrorBody(b)
	e.Message = c.redact.String(e.Message)
	e.Code = c.redact.String(e.Code)
	e.TrackingID = c.redact.String(e.TrackingID)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	return e
}

// readAnswer reads a 2xx answer into r.raw or r.out.
func (c *Client) readAnswer(r *request, resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.callError(r, 0, err)
	}
	if len(b) > maxBody {
		return c.callError(r, resp.StatusCode, fmt.Errorf("answer larger than %d bytes", maxBody))
	}
	if r.raw != nil {
		*r.raw = b
		return nil
	}
	if r.out == nil {
		return nil
	}
	if r.xml {
		err = xml.Unmarshal(b, r.out)
	} else {
		err = json.Unmarshal(b, r.out)
	}
	if err != nil {
		// A 200 with a body that does not decode: not retried, since
		// sending the same call again gives the same answer.
		e := c.callError(r, resp.StatusCode, fmt.Errorf("decoding the answer: %w", err))
		e.Message = "malformed answer: " + c.redact.String(snippet(b))
		return e
	}
	return nil
}
