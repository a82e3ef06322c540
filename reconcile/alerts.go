package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// AlertStore keeps the open problems, so that each is mailed once, not at
// every retry; [journal.Journal] is one.
type AlertStore interface {
	// OpenAlert records that the problem key is seen at at; true when it
	// was not open already.
	OpenAlert(ctx context.Context, key, summary string, at time.Time) (bool, error)
	// CloseAlert removes the open problem key; false when none was open.
	CloseAlert(ctx context.Context, key string) (journal.Alert, bool, error)
}

// Alerter mails staff when a problem starts (a job fails, a run holds
// records, a schedule is overdue) and when it is resolved: once per
// problem, however often it is seen while it lasts. The state is kept in
// an [AlertStore] (the journal), so that a restart or another process
// does not alert again.
type Alerter struct {
	Store  AlertStore
	Mailer Mailer
	To     []string
	Now    func() time.Time // time.Now when nil
	Logger *slog.Logger     // nil discards
}

// RunOutcome is what the alerter needs of one run of a job.
type RunOutcome struct {
	Job string
	// Err is the run's error; nil when it succeeded.
	Err error
	// Held is how many records or files the run held back.
	Held int
}

// AfterRun opens or closes the job's two problems after one of its runs:
// "failed:JOB" while its runs fail and "held:JOB" while they hold records
// (consecutive runs that hold records alert once; a run that holds
// nothing clears it without a mail). A run that succeeds also resolves
// the job's overdue problem. The errors
// of the store and the mailer are joined and returned; a mail that fails
// leaves the problem closed as it was, so the next run tries again.
func (a *Alerter) AfterRun(ctx context.Context, r RunOutcome) error {
	var errs []error
	if r.Err != nil {
		errs = append(errs, a.open(ctx, "failed:"+r.Job, fmt.Sprintf("job %s failed", r.Job),
			fmt.Sprintf("The %s job failed:\n\n%v\n\nfeesync retries it on its schedule; you get one more mail when it succeeds again.\n", r.Job, r.Err)))
	} else {
		errs = append(errs, a.close(ctx, "failed:"+r.Job, fmt.Sprintf("job %s succeeds again", r.Job)))
		errs = append(errs, a.close(ctx, "overdue:"+r.Job, fmt.Sprintf("job %s ran again", r.Job)))
	}
	if r.Held > 0 {
		errs = append(errs, a.open(ctx, "held:"+r.Job, fmt.Sprintf("job %s held back %d records or files", r.Job, r.Held),
			fmt.Sprintf("A run of the %s job held back %d records or files. `feesync held` lists them with their reasons; the daily report does too.\n", r.Job, r.Held)))
	} else if r.Err == nil {
		// Held records stay held until staff act: a run that holds
		// nothing new ends the problem without a "resolved" mail, so
		// that the next run that holds records alerts again.
		_, _, err := a.Store.CloseAlert(ctx, "held:"+r.Job)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Overdue opens the problem "overdue:JOB" when the job has not succeeded
// since last for longer than period plus margin, and closes it otherwise.
// last is zero when the job never succeeded (since from, when the watch
// started).
func (a *Alerter) Overdue(ctx context.Context, job string, last, from time.Time, period, margin time.Duration) error {
	since := last
	if since.IsZero() {
		since = from
	}
	late := a.now().Sub(since) - period - margin
	if late <= 0 {
		return a.close(ctx, "overdue:"+job, fmt.Sprintf("job %s is on time again", job))
	}
	what := "has not succeeded since " + since.Format(time.RFC3339)
	if last.IsZero() {
		what = "has not succeeded since feesync started, " + since.Format(time.RFC3339)
	}
	return a.open(ctx, "overdue:"+job, fmt.Sprintf("job %s is overdue", job),
		fmt.Sprintf("The %s job %s; it should succeed every %s.\nCheck that feesync runs, and the job's last errors in its log.\n", job, what, period))
}

func (a *Alerter) open(ctx context.Context, key, subject, body string) error {
	opened, err := a.Store.OpenAlert(ctx, key, subject, a.now())
	if err != nil || !opened {
		return err
	}
	if err := a.send(ctx, "ALERT: "+subject, body); err != nil {
		// Not mailed: forget it, so that the next sighting tries again.
		_, _, cerr := a.Store.CloseAlert(ctx, key)
		return errors.Join(err, cerr)
	}
	return nil
}

func (a *Alerter) close(ctx context.Context, key, subject string) error {
	al, was, err := a.Store.CloseAlert(ctx, key)
	if err != nil || !was {
		return err
	}
	return a.send(ctx, "RESOLVED: "+subject, fmt.Sprintf("Resolved: %s (open since %s, seen %d times).\n",
		al.Summary, al.Opened.Format(time.RFC3339), al.Count))
}

func (a *Alerter) send(ctx context.Context, subject, body string) error {
	if a.Mailer == nil || len(a.To) == 0 {
		a.log().LogAttrs(ctx, slog.LevelWarn, "alert (no mail configured)", slog.String("subject", subject))
		return nil
	}
	if err := a.Mailer.Send(ctx, Mail{To: a.To, Subject: subject, Text: body}); err != nil {
		return fmt.Errorf("reconcile: alert %q: %w", subject, err)
	}
	a.log().LogAttrs(ctx, slog.LevelInfo, "alert mailed", slog.String("subject", subject))
	return nil
}

func (a *Alerter) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a *Alerter) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}
