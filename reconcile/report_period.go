package reconcile

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// MaxReportDays bounds a report's period: after a longer pause without
// reports, the next one counts the flows of this many days only.
const MaxReportDays = 31

// runStore is the part of a Store that keeps the run history;
// journal.Journal has it. Without it the report covers the previous day
// and its schedule section says no run is recorded.
type runStore interface {
	Runs(ctx context.Context, job string, limit int) ([]journal.Run, error)
}

// currencyStore is the part of a Store that knows the district's
// currency; journal.Journal has it. Without it the report writes its
// zero totals in USD.
type currencyStore interface {
	Currency(ctx context.Context) (fees.Currency, error)
}

// dayStart is the start of t's day, in t's zone.
func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// reportPeriod is the period of the report written at at, [from, to): to
// is the start of at's day, from the start of the previous day, or the
// start of the day the last report ran (its period ended there) when that
// is earlier: the last report run that did not fail, from the journal's
// run history, before at's day. It goes back MaxReportDays at most.
func (j *Jobs) reportPeriod(ctx context.Context, at time.Time) (from, to time.Time, err error) {
	to = dayStart(at)
	from = to.AddDate(0, 0, -1)
	st, ok := j.deps.Journal.(runStore)
	if !ok {
		return from, to, nil
	}
	runs, err := st.Runs(ctx, JobReport, 100)
	if err != nil {
		return from, to, fmt.Errorf("reconcile: report period: %w", err)
	}
	for _, r := range runs {
		if r.Outcome == journal.RunFailed || !r.Started.Before(to) {
			continue
		}
		if last := dayStart(r.Started.In(at.Location())); last.Before(from) {
			from = last
			if bound := to.AddDate(0, 0, -MaxReportDays); from.Before(bound) {
				from = bound
			}
		}
		break
	}
	return from, to, nil
}

// FlowLine is one line of the report's "what flowed": how many records
// of a flow went through in the period, and their amount.
type FlowLine struct {
	Flow    string // "F2" to "F5" (DESIGN.md)
	What    string // in plain words, e.g. "Charges sent to the bursar"
	Channel string // the payment channel of F3 (ESERVICES, CASHIER); "" for the others
	Count   int
	Amount  fees.Money
}

// paymentChannels are the channels the report always shows, other
// channels seen in the journal after them.
var paymentChannels = []string{"ESERVICES", "CASHIER"}

// flows counts and sums the records of [from, to) per flow: every flow
// and channel is present, with 0 and a zero amount when nothing went
// through.
func (j *Jobs) flows(ctx context.Context, from, to time.Time) (Totals, []FlowLine, error) {
	sums, err := j.deps.Journal.Totals(ctx, from, to)
	if err != nil {
		return Totals{}, nil, fmt.Errorf("reconcile: report totals: %w", err)
	}
	cur := fees.USD
	if cs, ok := j.deps.Journal.(currencyStore); ok {
		c, err := cs.Currency(ctx)
		if err != nil {
			return Totals{}, nil, fmt.Errorf("reconcile: report totals: %w", err)
		}
		if c != "" {
			cur = c
		}
	}
	zero := fees.Zero(cur)
	lines := []FlowLine{
		{Flow: "F2", What: "Charges sent to the bursar", Amount: zero},
		{Flow: "F4", What: "Credits and waivers sent to the bursar", Amount: zero},
		{Flow: "F5", What: "Lost items returned: fees waived in Alma", Amount: zero},
	}
	pay := map[string]*FlowLine{}
	channels := slices.Clone(paymentChannels)
	for _, s := range sums {
		if s.Outcome == OutcomeForwarded && !slices.Contains(channels, s.Channel) {
			channels = append(channels, s.Channel)
		}
	}
	slices.Sort(channels[len(paymentChannels):])
	f3 := make([]FlowLine, len(channels))
	for i, c := range channels {
		f3[i] = FlowLine{Flow: "F3", What: "Payments forwarded to Alma", Channel: c, Amount: zero}
		pay[c] = &f3[i]
	}
	t := Totals{Charged: zero, Credited: zero, Waived: zero, Paid: map[string]fees.Money{}}
	for _, s := range sums {
		var l *FlowLine
		switch s.Outcome {
		case OutcomeCharged:
			l, t.Charged = &lines[0], addMoney(t.Charged, s.Amount)
		case OutcomeCredited:
			l, t.Credited = &lines[1], addMoney(t.Credited, s.Amount)
		case OutcomeWaived:
			l, t.Waived = &lines[2], addMoney(t.Waived, s.Amount)
		case OutcomeForwarded:
			l, t.Paid[s.Channel] = pay[s.Channel], addMoney(t.Paid[s.Channel], s.Amount)
		default:
			continue
		}
		l.Count += s.Count
		l.Amount = addMoney(l.Amount, s.Amount)
	}
	for _, c := range channels {
		if _, ok := t.Paid[c]; !ok {
			t.Paid[c] = zero
		}
	}
	return t, slices.Concat(lines[:1], f3, lines[1:]), nil
}

// ScheduledJob is the last run of one scheduled job, from the journal's
// run history, whoever started it.
type ScheduledJob struct {
	Job  string
	Last journal.Run // zero when no run is recorded
}

// Recorded reports whether the journal has a run of the job.
func (s ScheduledJob) Recorded() bool { return s.Last.ID != 0 }

// scheduledJobs are the jobs the report's schedule lists, in the order of
// a day.
var scheduledJobs = []string{JobCharges, JobPayments, JobCredits, JobReconcile, JobReport}

// schedule reads the last run of each scheduled job; nil when the Store
// keeps no run history.
func (j *Jobs) schedule(ctx context.Context) ([]ScheduledJob, error) {
	st, ok := j.deps.Journal.(runStore)
	if !ok {
		return nil, nil
	}
	out := make([]ScheduledJob, len(scheduledJobs))
	for i, job := range scheduledJobs {
		out[i].Job = job
		runs, err := st.Runs(ctx, job, 1)
		if err != nil {
			return nil, fmt.Errorf("reconcile: report schedule: %w", err)
		}
		if len(runs) > 0 {
			out[i].Last = runs[0]
		}
	}
	return out, nil
}
