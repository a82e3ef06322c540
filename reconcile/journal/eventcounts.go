package journal

import (
	"context"
	"fmt"
	"time"
)

// EventCounts sums up the webhook events the journal keeps: how many by
// outcome (pending, done, failed for good) and when the newest arrived.
type EventCounts struct {
	Received int       // every event journaled
	Pending  int       // not yet handled (waiting for an attempt or a retry)
	Done     int       // handled
	Failed   int       // failed for good
	Last     time.Time // when the newest event was journaled; zero if none
}

// EventCounts counts the webhook events by outcome, for the status page.
func (j *Journal) EventCounts(ctx context.Context) (EventCounts, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT outcome, COUNT(*), MAX(created_at)
		FROM records WHERE kind = 'event' GROUP BY outcome`)
	if err != nil {
		return EventCounts{}, fmt.Errorf("journal: event counts: %w", err)
	}
	defer rows.Close()
	var c EventCounts
	for rows.Next() {
		var outcome, last string
		var n int
		if err := rows.Scan(&outcome, &n, &last); err != nil {
			return EventCounts{}, fmt.Errorf("journal: event counts: %w", err)
		}
		c.Received += n
		switch outcome {
		case OutcomePending:
			c.Pending += n
		case OutcomeDone:
			c.Done += n
		case OutcomeFailed:
			c.Failed += n
		}
		if t := parseTime(last); t.After(c.Last) {
			c.Last = t
		}
	}
	if err := rows.Err(); err != nil {
		return EventCounts{}, fmt.Errorf("journal: event counts: %w", err)
	}
	return c, nil
}
