package district

import (
	"context"
	"fmt"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/reconcile"
)

// JobEndStarter is a Feesync that follows Alma's JOB_END webhooks, as
// feesync serve does with alma.export_job and alma.credit_export_job set.
type JobEndStarter interface {
	// JobEndStarts returns the jobs (reconcile.JobCharges, JobCredits)
	// that the JOB_END deliveries handled since the last call asked to
	// start, in order.
	JobEndStarts() []string
}

// webhookEvents are the events Alma's webhook profile sends: the loan
// returns, and with Options.JobEnd the end of its jobs.
func (o *Options) webhookEvents() []string {
	if !o.JobEnd {
		return nil // almatest's default: LOAN_RETURNED
	}
	return []string{almatest.EventLoanReturned, almatest.EventJobEnd}
}

// afterAlmaJob, with Options.JobEnd, has Alma deliver the JOB_END of the
// job that just ended at once (Alma sends it when the job ends), and runs
// the feesync jobs it asks for there and then, as feesync serve does: the
// charges job at 18:00, right after the export, instead of at 18:30.
func (d *District) afterAlmaJob(ctx context.Context) error {
	if !d.opt.JobEnd || d.feesync == nil {
		return nil
	}
	d.alma.RunDue(ctx)
	st, ok := d.feesync.(JobEndStarter)
	if !ok {
		return nil
	}
	for _, job := range st.JobEndStarts() {
		var err error
		switch job {
		case reconcile.JobCharges:
			err = d.chargesJob(ctx, d.feesync)
		case reconcile.JobCredits:
			err = d.creditsJob(ctx, d.feesync)
		default:
			err = fmt.Errorf("JOB_END asked for the unknown job %q", job)
		}
		if err != nil {
			return fmt.Errorf("%s job started by JOB_END: %w", job, err)
		}
	}
	return nil
}

// chargesLabel is the time the timeline shows the charges job at: that
// of the run that charged, with Options.JobEnd; else its schedule's.
func (d *District) chargesLabel(t *day) string {
	if d.opt.JobEnd && !t.chargedAt.IsZero() {
		return t.chargedAt.Format("15:04")
	}
	return "18:30"
}
