package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// Webhook events are durable: the listener journals each loan return as a
// pending event and answers at once ([Jobs.ReceiveEvent]); feesync then
// handles the events from the journal ([Jobs.HandleEvents], run by
// [Jobs.RunEvents] in a long-running process), with its own retries and
// backoff, until an event is done or fails for good. A failed event is
// listed in the daily report and can be run again ([Jobs.RedriveEvents]).

// ErrPermanent is wrapped by the errors that no later attempt can
// overcome: the library system says the loan, the student or the fee does
// not exist, or refuses the request as invalid. An event that meets one
// fails at once, without retries. Adapters wrap their backend's permanent
// refusals with it (reconcile/almaport does for Alma's).
var ErrPermanent = errors.New("reconcile: permanent failure")

// Permanent returns err marked as permanent (errors.Is(…, ErrPermanent)),
// with the same message; nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{ErrPermanent, e.err} }

// The codes of a failed event (Event.Code).
const (
	// EventPermanent: an error wrapping [ErrPermanent]; retrying would
	// fail the same way.
	EventPermanent = "permanent"
	// EventGaveUp: the attempts kept failing for Options.EventGiveUp.
	EventGaveUp = "gave_up"
)

// Event is a webhook event as the journal keeps it; see [journal.Event].
type Event = journal.Event

// OutcomePending is the outcome of an event journaled and not yet handled
// (or being retried).
const OutcomePending = journal.OutcomePending

// EventsResult is what one [Jobs.HandleEvents] did.
type EventsResult struct {
	Attempts int // events attempted
	Done     int // handled
	Retrying int // failed for now: pending, with a later attempt due
	Failed   int // failed for good: a permanent error, or given up
}

func (r *EventsResult) add(outcome string) {
	r.Attempts++
	switch outcome {
	case OutcomeDone:
		r.Done++
	case OutcomeFailed:
		r.Failed++
	default:
		r.Retrying++
	}
}

// ReceiveEvent journals the loan event ev as pending, for
// [Jobs.HandleEvents] to handle, and wakes [Jobs.RunEvents]. It makes no
// call to the library system, so the webhook listener answers at once. An
// event already journaled (Alma delivering it again) is left as it is and
// added is false. Events other than LOAN_RETURNED are ignored. It fails
// when the journal does, or, wrapping [ErrPermanent], for an event without
// an id. In a dry run nothing is journaled: the event is handled at once,
// deciding without writing.
func (j *Jobs) ReceiveEvent(ctx context.Context, ev LoanEvent) (added bool, err error) {
	if ev.Type != EventLoanReturned {
		return false, nil
	}
	if err := j.missing[JobLostReturns]; err != nil {
		return false, err
	}
	if ev.ID == "" {
		return false, Permanent(fmt.Errorf("reconcile: lost returns: event without an id (loan %s)", ev.LoanID))
	}
	if j.opts.DryRun {
		return false, j.loanReturned(ctx, ev)
	}
	added, err = j.deps.Journal.AddEvent(ctx, Record{Key: ev.ID, UserID: ev.UserID, Barcode: ev.ItemBarcode,
		Ref: ev.LoanID, Payload: eventPayload(ev), Updated: j.opts.Now()})
	if err != nil {
		return false, err
	}
	if added {
		select {
		case j.events <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	return added, nil
}

// LoanReturned journals the loan event ev ([Jobs.ReceiveEvent]) and makes
// an attempt at it now, whether or not an earlier attempt set a later
// time, unless it is done or failed already. It returns the attempt's
// error; the event is then pending with its next attempt set, or failed
// for good (see [Jobs.HandleEvents]). The webhook listener does not call
// it, since it calls Alma: a test or a tool handles one event at once
// with it.
func (j *Jobs) LoanReturned(ctx context.Context, ev LoanEvent) error {
	if _, err := j.ReceiveEvent(ctx, ev); err != nil || j.opts.DryRun || ev.Type != EventLoanReturned {
		return err
	}
	_, err := j.attempt(ctx, ev.ID, false)
	return err
}

// HandleEvents makes an attempt at every pending event that is due by the
// jobs' clock, and returns what became of them. Events of one student are
// handled one at a time, in the order they are due; those of different
// students side by side, Options.EventWorkers at once. An attempt that
// succeeds marks the event done. One that fails with an error wrapping
// [ErrPermanent] fails the event for good (code [EventPermanent]); any
// other failure (Alma down, a 429 or 5xx beyond the client's retries, a
// network error) leaves it pending, due again after a backoff that doubles
// from Options.EventBackoff up to Options.EventMaxBackoff, until it has
// been failing for Options.EventGiveUp since it was received: then it
// fails for good (code [EventGaveUp]). A failed event is in the daily
// report. The returned error is the journal's; an event's own failure is
// journaled and logged, not returned.
func (j *Jobs) HandleEvents(ctx context.Context) (EventsResult, error) {
	var res EventsResult
	if err := j.missing[JobLostReturns]; err != nil {
		return res, err
	}
	if _, paused := j.opts.Quota.PausedUntil(ctx); paused {
		return res, nil // Alma's daily quota is spent: the events wait, due (quota.go)
	}
	const batch = 256
	for {
		due, err := j.deps.Journal.DueEvents(ctx, j.opts.Now(), batch)
		if err != nil || len(due) == 0 {
			return res, err
		}
		var users []string
		byUser := map[string][]string{}
		for _, ev := range due {
			if _, ok := byUser[ev.UserID]; !ok {
				users = append(users, ev.UserID)
			}
			byUser[ev.UserID] = append(byUser[ev.UserID], ev.Key)
		}
		outcomes := make([][]string, len(users))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(j.opts.EventWorkers)
		for i, u := range users {
			g.Go(func() error {
				for _, key := range byUser[u] {
					outcome, err := j.attempt(gctx, key, true)
					if errors.Is(err, errJournal) || gctx.Err() != nil {
						return errors.Join(err, gctx.Err())
					}
					if outcome != "" {
						outcomes[i] = append(outcomes[i], outcome)
					}
				}
				return nil
			})
		}
		err = g.Wait()
		for _, oc := range outcomes {
			for _, o := range oc {
				res.add(o)
			}
		}
		if err != nil || len(due) < batch {
			return res, err
		}
	}
}

// errJournal marks the errors of attempt that are the journal's own: they
// stop HandleEvents, where an event's failure does not.
var errJournal = errors.New("reconcile: journal")

// attempt makes one attempt at the event key, with its student's returns
// held back, and journals the outcome. It does nothing (and returns "")
// when the event is no longer pending, or, if onlyDue, not due. The error
// is the attempt's (nil when done), or the journal's, wrapping errJournal.
func (j *Jobs) attempt(ctx context.Context, key string, onlyDue bool) (outcome string, err error) {
	jr := j.deps.Journal
	cur, ok, err := jr.GetEvent(ctx, key)
	if err != nil || !ok {
		return "", journalErr(err)
	}
	// Alma may deliver an event again while the first delivery is still
	// being handled, and one student may return two lost items at once:
	// the returns of one student are handled one at a time, so that the
	// read of the fees, the waivers and the blocks go together. Returns of
	// different students run side by side, so that one waiting out a 429
	// leaves the call rate to the others.
	unlock := j.returns.lock(cur.UserID)
	defer unlock()
	if cur, ok, err = jr.GetEvent(ctx, key); err != nil || !ok {
		return "", journalErr(err)
	}
	if cur.Outcome == OutcomeFailed && !onlyDue {
		return "", fmt.Errorf("event %s failed: %s", key, cur.Reason)
	}
	if cur.Outcome != OutcomePending || onlyDue && cur.Next.After(j.opts.Now()) {
		return "", nil
	}
	ev := LoanEvent{ID: cur.Key, Type: EventLoanReturned, LoanID: cur.Ref, UserID: cur.UserID, ItemBarcode: cur.Barcode,
		ProcessStatus: payloadProcessStatus(cur.Payload)}
	herr := j.loanReturned(ctx, ev)
	if herr != nil && ctx.Err() != nil {
		// Stopped, not failed: the event stays due as it was.
		return "", herr
	}
	j.settle(ctx, &cur, herr)
	if err := jr.PutEvent(ctx, cur); err != nil {
		return "", journalErr(err)
	}
	j.logAttempt(ctx, cur, herr)
	if herr != nil {
		return cur.Outcome, fmt.Errorf("event %s: %w", key, herr)
	}
	return cur.Outcome, nil
}

func journalErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", errJournal, err)
}

// settle sets what the attempt that ended with err makes of ev: done,
// failed for good, or pending with its next attempt.
func (j *Jobs) settle(ctx context.Context, ev *Event, err error) {
	now := j.opts.Now()
	ev.Attempts++
	ev.Updated, ev.Next, ev.Reason, ev.Code = now, time.Time{}, "", ""
	var quota *DailyQuotaError
	switch {
	case err == nil:
		ev.Outcome = OutcomeDone
	case errors.Is(err, ErrPermanent):
		ev.Outcome, ev.Code, ev.Reason = OutcomeFailed, EventPermanent, err.Error()
	case j.quotaStopped(ctx, JobLostReturns, err, &quota):
		// Alma's daily quota is spent: the event waits, due at Alma's
		// midnight, and is never given up for it.
		ev.Outcome, ev.Reason, ev.Next = OutcomePending, quota.Error(), quota.Until
	case now.Sub(ev.Created) >= j.opts.EventGiveUp:
		ev.Outcome, ev.Code = OutcomeFailed, EventGaveUp
		ev.Reason = fmt.Sprintf("gave up after %d attempts since %s: %v", ev.Attempts,
			ev.Created.Format(time.RFC3339), err)
	default:
		ev.Outcome, ev.Reason = OutcomePending, err.Error()
		ev.Next = now.Add(j.backoff(ev.Attempts))
	}
}

// backoff is the wait after the n-th failed attempt: EventBackoff, doubled
// at each attempt, at most EventMaxBackoff.
func (j *Jobs) backoff(n int) time.Duration {
	d := j.opts.EventBackoff
	for i := 1; i < n && d < j.opts.EventMaxBackoff; i++ {
		d *= 2
	}
	return min(d, j.opts.EventMaxBackoff)
}

func (j *Jobs) logAttempt(ctx context.Context, ev Event, err error) {
	attrs := []slog.Attr{slog.String("event", ev.Key), slog.String("user", j.logID(ev.UserID)),
		slog.Int("attempts", ev.Attempts), slog.String("outcome", ev.Outcome)}
	switch {
	case err == nil:
		j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: lost return handled", attrs...)
	case ev.Outcome == OutcomePending:
		attrs = append(attrs, slog.Time("next", ev.Next), slog.String("error", err.Error()))
		j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: lost return failed; will retry", attrs...)
	default:
		attrs = append(attrs, slog.String("code", ev.Code), slog.String("error", err.Error()))
		j.log.LogAttrs(ctx, slog.LevelError, "reconcile: lost return failed for good; listed in the report", attrs...)
	}
}

// RunEvents handles the pending events ([Jobs.HandleEvents]) until ctx
// ends: those left from before at once, a new one as soon as
// [Jobs.ReceiveEvent] journals it, and each retry when it falls due (by
// the wall clock, timed from the jobs' clock). It also looks at the
// journal every Options.EventPoll for events journaled by another
// process. It returns nil when ctx ends.
func (j *Jobs) RunEvents(ctx context.Context) error {
	if err := j.missing[JobLostReturns]; err != nil {
		return err
	}
	for {
		wait := j.opts.EventPoll
		if _, err := j.HandleEvents(ctx); err != nil && ctx.Err() == nil {
			j.log.LogAttrs(ctx, slog.LevelError, "reconcile: lost returns: handling the events failed",
				slog.String("error", err.Error()))
			wait = min(wait, time.Minute)
		}
		if next, ok, err := j.deps.Journal.NextEvent(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(j.opts.Now()), 0))
		}
		if until, paused := j.opts.Quota.PausedUntil(ctx); paused {
			wait = min(j.opts.EventPoll, max(until.Sub(j.opts.Now()), time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-j.events:
		case <-t.C:
		}
		t.Stop()
	}
}

// RedriveEvents makes the failed events pending again, due now, with
// their attempts counted afresh: the one with the id eventID, or all when
// eventID is empty. They are then handled by the next
// [Jobs.HandleEvents] (in feesync serve, at once). It returns how many it
// changed; none for an unknown id, or one not failed.
func (j *Jobs) RedriveEvents(ctx context.Context, eventID string) (int, error) {
	if j.opts.DryRun {
		evs, err := j.deps.Journal.Records(ctx, KindEvent, OutcomeFailed)
		n := 0
		for _, e := range evs {
			if eventID == "" || e.Key == eventID {
				n++
			}
		}
		return n, err
	}
	n, err := j.deps.Journal.RetryEvents(ctx, eventID, j.opts.Now())
	if n > 0 {
		select {
		case j.events <- struct{}{}:
		default:
		}
	}
	return n, err
}
