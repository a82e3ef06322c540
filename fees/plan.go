package fees

import "fmt"

// StepKind is what one step of a [Plan] asks staff to do.
type StepKind int

// The kinds of step.
const (
	// StepPay: take a payment of the step's amount.
	StepPay StepKind = iota + 1
	// StepWaitForAlma: wait until Alma shows the payment (after its next
	// hourly import of bursar payments).
	StepWaitForAlma
	// StepWaive: waive the step's amount, which is then the whole
	// remaining balance.
	StepWaive
)

// Step is one action of a [Plan].
type Step struct {
	Kind    StepKind
	Amount  Money   // zero for StepWaitForAlma
	Channel Channel // for StepPay: where to take the payment
	Text    string  // the instruction, in words for staff
}

// Plan is the way to settle a fee for less than its balance without
// breaking the full-waive rule (R5).
type Plan struct {
	Fee   string
	Steps []Step
}

// PlanPartialWaive turns "the student and the library agreed that the
// student pays agreed" into steps that keep Alma and PeopleSoft in step.
//
// For a transferred fee: pay agreed at the cashier, wait until Alma shows
// the payment, then waive the rest in full. For a fee not yet transferred
// the payment is taken at the library desk instead. agreed may be zero
// (waive everything) but not negative, and must be below the balance:
// paying the whole balance needs no waiver.
func PlanPartialWaive(f *Fee, agreed Money) (Plan, error) {
	switch f.Status {
	case StatusActive, StatusTransferred:
	default:
		return Plan{}, f.errorf(ESTATE, agreed, "cannot plan a settlement for a fee that is %s", f.Status)
	}
	c, err := agreed.Cmp(f.Balance)
	if err != nil {
		return Plan{}, &Error{Code: ECURRENCY, Fee: f.ID, Amount: agreed, Balance: f.Balance, Message: err.Error()}
	}
	if agreed.IsNegative() {
		return Plan{}, f.errorf(EINVALID, agreed, "agreed amount %s is negative", agreed)
	}
	if c >= 0 {
		return Plan{}, f.errorf(EOVERPAY, agreed, "agreed amount %s is not below the balance %s: nothing to waive", agreed, f.Balance)
	}
	rest := mustSub(f.Balance, agreed)
	plan := Plan{Fee: f.ID}
	if agreed.IsPositive() {
		ch, where := ChannelLibrary, "at the library desk"
		if f.Status == StatusTransferred {
			ch, where = ChannelCashier, "at the cashier (Business Services Office)"
		}
		plan.Steps = append(plan.Steps, Step{Kind: StepPay, Amount: agreed, Channel: ch,
			Text: fmt.Sprintf("Take a payment of %s %s.", agreed, where)})
		if f.Status == StatusTransferred {
			plan.Steps = append(plan.Steps, Step{Kind: StepWaitForAlma,
				Text: fmt.Sprintf("Wait until Alma shows the payment and a balance of %s (Alma imports bursar payments hourly).", rest)})
		}
	}
	plan.Steps = append(plan.Steps, Step{Kind: StepWaive, Amount: rest,
		Text: fmt.Sprintf("Waive the remaining %s in full.", rest)})
	return plan, nil
}
