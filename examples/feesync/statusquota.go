package main

import (
	"context"
	"fmt"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// quotaState is what the status page shows of Alma's daily quota: the
// calls left and the reserve, whether work waits, and the jobs' quota
// notes of the last day.
type quotaState struct {
	Summary string
	Low     bool
	Notes   []string
}

// quota gathers the page's quota section from the jobs' gate and the
// journal's notes.
func (p *statusPage) quota(ctx context.Context, now time.Time) quotaState {
	loc := p.m.config.Location()
	st := p.m.setup.Quota.Status(ctx)
	var q quotaState
	switch {
	case !st.Paused.IsZero():
		q.Summary = fmt.Sprintf("Spent (429 DAILY_THRESHOLD): feesync calls Alma again at its midnight, %s; lost returns wait in the queue.",
			when(st.Paused, loc))
	case st.Remaining < 0:
		q.Summary = "Not known yet today: no answer from Alma since its midnight."
	default:
		q.Summary = fmt.Sprintf("%d calls left today", st.Remaining)
		if st.Reserve >= 0 {
			q.Summary += fmt.Sprintf("; reserve %d (alma.daily_reserve = %s", st.Reserve, p.m.config.DailyReserve())
			if st.Quota > 0 {
				q.Summary += fmt.Sprintf(", of the last full day's %d", st.Quota)
			}
			q.Summary += ")"
		}
		q.Summary += "."
		if st.Low {
			q.Summary += " Below the reserve: the reconciliation's detail calls and the report's checks wait for tomorrow."
		}
	}
	q.Low = st.Low
	notes, err := p.m.setup.Journal.QuotaNotes(ctx, now.Add(-24*time.Hour))
	if err != nil {
		q.Notes = append(q.Notes, err.Error())
	}
	for _, n := range notes {
		q.Notes = append(q.Notes, reconcile.QuotaWords(n, loc))
	}
	return q
}
