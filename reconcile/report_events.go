package reconcile

import (
	"fmt"

	"github.com/feebridge/feebridge/fees"
)

// eventAdvice is what the report says of a webhook event that failed for
// good: why, and what staff should do.
func eventAdvice(e Record) string {
	what := "the lost item came back but its fees were not waived: check the return in Alma, waive the student's lost-item fees " +
		"of item " + e.Barcode + " by hand and lift the fee blocks if nothing else is owed"
	switch e.Code {
	case EventPermanent:
		return fmt.Sprintf("Alma refused it for good (%s); %s, or fix the cause and run: feesync redrive event %s", e.Reason, what, e.Key)
	case EventGaveUp:
		return fmt.Sprintf("%s; once Alma answers again run: feesync redrive event %s (or %s)", e.Reason, e.Key, what)
	}
	return fmt.Sprintf("%s; %s, or run: feesync redrive event %s", e.Reason, what, e.Key)
}

// returnedAdvice is what the report says of a lost-item fee whose item is
// back: waive it, or, when it is in dispute, settle the dispute first.
func returnedAdvice(f fees.Fee) string {
	if f.Status == fees.StatusInDispute {
		return "The fee is in dispute: feesync left it for staff and kept the student's lost-item block. " +
			"Settle the dispute in Alma, then waive the fee and lift the block."
	}
	return "Waive the fee in Alma (the item is back); the waiver then reaches the bursar within the hour."
}
