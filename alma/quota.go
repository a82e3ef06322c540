package alma

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// RemainingAt is [Client.Remaining] with the time the answer that said
// it came, by the client's clock ([ClientOptions.Now]): a figure heard
// before Alma's midnight is not today's.
func (c *Client) RemainingAt() (int64, time.Time, bool) {
	n, ok := c.Remaining()
	if !ok {
		return n, time.Time{}, false
	}
	return n, time.Unix(0, c.heardAt.Load()), true
}

// quotaPause is the time until which the client sends nothing: the
// midnight, in Alma's zone, after Alma answered 429 DAILY_THRESHOLD.
type quotaPause struct {
	mu    sync.Mutex
	until time.Time
}

// PausedUntil reports whether the client is holding back every call
// because Alma said the institution's daily quota is spent (429
// DAILY_THRESHOLD), and until when: the next midnight in Alma's zone
// ([ClientOptions.Location]), when the quota starts again. A call made
// while paused fails at once with an *[Error] of code
// [CodeDailyThreshold] ([IsQuotaExhausted]), without reaching Alma.
func (c *Client) PausedUntil() (time.Time, bool) {
	c.pause.mu.Lock()
	defer c.pause.mu.Unlock()
	if c.pause.until.IsZero() || !c.now().Before(c.pause.until) {
		return time.Time{}, false
	}
	return c.pause.until, true
}

// pauseUntilMidnight pauses the client until the next midnight in Alma's
// zone, and logs it once per pause.
func (c *Client) pauseUntilMidnight(ctx context.Context) {
	until := NextMidnight(c.now(), c.loc)
	c.pause.mu.Lock()
	changed := !c.pause.until.Equal(until)
	c.pause.until = until
	c.pause.mu.Unlock()
	if changed {
		c.log.WarnContext(ctx, "alma: the institution's daily API quota is spent (429 DAILY_THRESHOLD); no call to Alma until its midnight",
			"until", until.Format(time.RFC3339))
	}
}

// paused returns the error of r when the client is paused, nil otherwise.
func (c *Client) paused(ctx context.Context, r *request) error {
	until, ok := c.PausedUntil()
	if !ok {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return &Error{Status: http.StatusTooManyRequests, Code: CodeDailyThreshold, Method: r.method,
		Path: maskPath(r.pathString()), Err: fmt.Errorf("not sent: Alma's daily quota is spent until %s", until.Format(time.RFC3339)),
		final: true}
}

// NextMidnight returns the first midnight in loc after t: when Alma's
// daily quota starts again, loc being Alma's zone.
func NextMidnight(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.Local
	}
	t = t.In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
