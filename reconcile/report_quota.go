package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// quotaDeferred returns nil when err is the report's checks deferred
// below the quota's reserve (noted by the gate: the report says it), and
// err otherwise.
func (j *Jobs) quotaDeferred(_ context.Context, err error) error {
	var d *DeferredError
	if errors.As(err, &d) {
		return nil
	}
	return err
}

// quotaNotes are the jobs' quota notes since from, when the Store keeps
// them.
func (j *Jobs) quotaNotes(ctx context.Context, from time.Time) ([]QuotaNote, error) {
	m, ok := j.deps.Journal.(QuotaMemory)
	if !ok {
		return nil, nil
	}
	notes, err := m.QuotaNotes(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("reconcile: report: %w", err)
	}
	return notes, nil
}

// quotaRows are the "needs staff" rows of the jobs that deferred work or
// paused for Alma's daily quota.
func (r Report) quotaRows() []reportRow {
	var out []reportRow
	for _, n := range r.Quota {
		out = append(out, reportRow{Item: "Alma's daily quota", Type: n.Job, What: QuotaWords(n, r.To.Location()),
			Do: "Nothing, unless it happens every day: then raise alma.daily_reserve's share with the other programs " +
				"that use Alma's API, or ask Ex Libris for a higher quota."})
	}
	return out
}

// QuotaWords says a quota note in plain words: "Alma's daily quota was
// low (812 calls left, reserve 1000): the reconciliation checked nothing
// in detail; it runs again tomorrow".
func QuotaWords(n QuotaNote, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	at := n.At.In(loc).Format("Mon 2 Jan 15:04")
	if !n.Until.IsZero() {
		return fmt.Sprintf("Alma's daily quota was spent at %s (429 DAILY_THRESHOLD): no call to Alma until %s; %s; it runs again then",
			at, n.Until.In(loc).Format("Mon 2 Jan 15:04 MST"), n.What)
	}
	return fmt.Sprintf("Alma's daily quota was low at %s (%d calls left, reserve %d): %s; it runs again tomorrow",
		at, n.Remaining, n.Reserve, n.What)
}
