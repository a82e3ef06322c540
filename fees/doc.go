// Package fees is the domain of feebridge: exact money, library fees and
// their lifecycle, payments, waivers and credits, and the rules that keep
// the library system (Alma) and the bursar (PeopleSoft) in step.
//
// It imports no other feebridge package and knows nothing of files,
// servers or APIs; the adapters translate to and from these types.
//
// # Money
//
// [Money] is an exact decimal amount in a [Currency]. [ParseMoney] is
// strict (R1): an amount never carries more decimal places than its
// currency has, and malformed text is an error, never a rounding. Sums and
// comparisons across currencies fail with [ECURRENCY].
//
// # Fees
//
// A [Fee] moves Active → Transferred → Closed (R2) and always keeps
// Original = Paid + Waived + Balance − Refunded with Balance ≥ 0 (R3;
// Refunded is zero until a refund). [Fee.Pay]
// applies the payment rules (R4): eServices pays a fee in full or not at
// all, the cashier takes any positive amount up to the balance, and
// nothing is taken on a closed fee or above the balance. [Fee.Waive]
// applies the full-waive rule (R5) and [PlanPartialWaive] gives staff the
// two-step path when a student and the library settle for less.
// [Fee.Refund] gives back paid money when a paid lost item comes back
// (R8), never more than was paid less earlier refunds ([CheckRefund],
// [EOVERREFUND]); [Fee.RefundDue] gives the amount a [RefundRatio] makes
// due.
//
// The rules are decided once, here: [CheckPayment] (R4) and [CheckCredit]
// (R5 for the credit of a transferred fee) judge an amount against what is
// left of a fee, and [Fee.Pay], [Policy.Waive] and the jobs that hold
// records against the journal all call them.
//
// # Errors
//
// Every refusal is an *[Error] with a code callers can test with
// [ErrorCode] or errors.As, and a message that names the fee and the
// amounts.
package fees
