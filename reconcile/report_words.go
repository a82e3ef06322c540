package reconcile

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// This file words the report's exception rows for circulation staff:
// what happened, in plain words, and what to do. The reasons the jobs
// journal are written for developers (a file's parse error, a rule's
// refusal); plainReason maps the common ones to plain text, and any
// other reason is shown as it is.

var (
	// reasonPrefix is the place a parse error names ("peoplesoft:
	// payments.csv:7: PAYMENT_DATE: "); the report names file and line
	// in its own words.
	reasonPrefix = regexp.MustCompile(`^(?:peoplesoft|alma): (?:[^:]*:\d+: |line \d+: )?`)
	badDate      = regexp.MustCompile(`(?:(\w+): )?(?:bad header: )?bad date: "([^"]*)": want the layout "([^"]*)"`)
	badAmount    = regexp.MustCompile(`(?:(\w+): )?bad amount: "?([^":]*)"?`)
	missingValue = regexp.MustCompile(`(\w+): missing value`)
)

// codeWords are the fees error codes (fees.Error) in plain words.
var codeWords = map[string]string{
	fees.EINVALID:          "the record is not valid",
	fees.ECURRENCY:         "its amount is in another currency than the fee",
	fees.ENOTFOUND:         "Alma does not know the fee",
	fees.ECLOSED:           "the fee is already closed in Alma (paid or waived in full)",
	fees.EOVERPAY:          "the amount is more than the fee still owes",
	fees.EPARTIALESERVICES: "eServices paid only part of the fee, and eServices must pay a fee in full",
	fees.EPARTIALWAIVE:     "a fee sent to the bursar can only be waived in full (rule R5), and this waiver is partial",
	fees.ENOTTRANSFERRED:   "the fee was never sent to the bursar, so the bursar cannot take a payment for it",
	fees.ESTATE:            "the fee's status in Alma does not allow it",
	fees.EDATE:             "its date cannot be right",
	fees.ECONFLICT:         "it arrived again with other details than the first time",
	fees.EOVERREFUND:       "the refund is more than the bursar took for the fee, less earlier refunds, or more than the refund ratio gives (rule R8)",
	CodeRefundReport:       "a lost item the student paid for came back, and the refund policy for its fee type says staff decide (rule R8)",
}

// layoutWords writes a Go time layout the way people write dates.
var layoutWords = strings.NewReplacer("2006", "YYYY", "01", "MM", "02", "DD", "15", "hh", "04", "mm", "05", "ss")

// plainReason is reason (with its fees error code, when it has one) in
// plain words; a reason it does not know comes back as it is, without
// the parser's name and place.
func plainReason(code, reason string) string {
	if m := badDate.FindStringSubmatch(reason); m != nil {
		return fmt.Sprintf("its date %s is not a date (%s expected)", m[2], layoutWords.Replace(m[3]))
	}
	if m := badAmount.FindStringSubmatch(reason); m != nil && code == "" {
		return fmt.Sprintf("its amount %s is not an amount (such as 12.50)", strings.TrimSpace(m[2]))
	}
	if m := missingValue.FindStringSubmatch(reason); m != nil && code == "" {
		return fmt.Sprintf("the field %s is empty", m[1])
	}
	if w, ok := codeWords[code]; ok {
		detail := strings.TrimPrefix(reasonPrefix.ReplaceAllString(reason, ""), "rule R5: ")
		if code == fees.ECONFLICT || detail == "" {
			return w
		}
		return w + " (" + detail + ")"
	}
	return reasonPrefix.ReplaceAllString(reason, "")
}

// heldAction is what staff do about a held record, by its fees error
// code: fix the cause and re-send it, or close it.
func heldAction(r Record) string {
	redrive := "`feesync redrive " + r.Key + "`"
	dismiss := "`feesync dismiss " + r.Key + " -reason TEXT`"
	switch r.Code {
	case CodeBursarRefused:
		return "Have the cause fixed in PeopleSoft (the student's record, the item type's setup, the term), then run " + redrive +
			" to send it again as a new line (or " + dismiss + " if it must not be sent)."
	case fees.ECONFLICT:
		return "Decide which of the two is right and correct the other at its source, then close this one with " + dismiss + "."
	case fees.ENOTFOUND, fees.ECLOSED, fees.ESTATE:
		return "Look the fee up in Alma; if nothing is left to send, close this with " + dismiss + ", else fix the fee and run " + redrive + "."
	case fees.EOVERPAY, fees.EPARTIALESERVICES, fees.ENOTTRANSFERRED:
		return "Ask the bursar office to correct or refund the payment, then close this with " + dismiss + "."
	case fees.EPARTIALWAIVE:
		return "Waive the whole fee in Alma (or undo the partial waiver), then run " + redrive + "."
	case CodeRefundReport:
		return "Refund the student the amount due back (at the bursar office or from the library), then close this with " + dismiss +
			"; or set the fee type's refund policy to \"refund\" and run " + redrive + "."
	case fees.EOVERREFUND:
		return "Check the refund ratio in Alma's terms of use against feesync's [refunds]; refund by hand what is due, then close this with " + dismiss + "."
	}
	if r.Code == "" && r.File != "" && r.Kind == KindPayment {
		return "Have the file fixed at the bursar office, then run " + redrive + "."
	}
	return "Fix the cause, then run " + redrive + " (or " + dismiss + " if it must not be sent)."
}

// kindWords names a record's kind for a row.
func kindWords(kind string) string {
	switch kind {
	case KindCharge:
		return "Fee"
	case KindCredit:
		return "Credit"
	case KindPayment:
		return "Payment"
	case KindWaiver:
		return "Waiver"
	case KindEvent:
		return "Lost item return"
	case KindRefund:
		return "Refund"
	case KindResult:
		return "Load result"
	}
	return kind
}

// where names the file and line of a record, or "" when it has none.
func where(file string, line int) string {
	switch {
	case file == "":
		return ""
	case line > 0:
		return fmt.Sprintf(" in %s line %d", file, line)
	}
	return " in " + file
}

// heldWords is what happened to a held record, in plain words: "Payment
// of 12.50 for fee 123 (student S001) in ps_payments.csv line 7 was held:
// its date 2026/12/04 is not a date (YYYY-MM-DD expected)."
func heldWords(r Record) string {
	var b strings.Builder
	b.WriteString(kindWords(r.Kind))
	if r.Kind == KindCharge && r.FeeID != "" {
		fmt.Fprintf(&b, " %s", r.FeeID)
	}
	if r.Amount.Valid() {
		fmt.Fprintf(&b, " of %s", r.Amount.Amount())
	}
	if r.Kind != KindCharge && r.FeeID != "" {
		fmt.Fprintf(&b, " for fee %s", r.FeeID)
	}
	if r.FeeType != "" {
		fmt.Fprintf(&b, " (%s", r.FeeType)
		if r.UserID != "" {
			fmt.Fprintf(&b, ", student %s", r.UserID)
		}
		b.WriteString(")")
	} else if r.UserID != "" {
		fmt.Fprintf(&b, " (student %s)", r.UserID)
	}
	b.WriteString(where(r.File, r.Line))
	switch {
	case r.Code == CodeBursarRefused:
		// Sent, then refused by the load: not the same as never sent.
		b.WriteString(" was sent, refused by PeopleSoft")
		if r.Output != "" {
			b.WriteString(" (sent in " + path.Base(r.Output) + ")")
		}
		if _, msg, ok := strings.Cut(r.Reason, "refused by PeopleSoft: "); ok {
			b.WriteString(": " + msg)
		}
		return b.String() + "."
	case r.Kind == KindCharge:
		b.WriteString(" was not sent to the bursar")
	default:
		b.WriteString(" was held")
	}
	if reason := plainReason(r.Code, r.Reason); reason != "" {
		b.WriteString(": " + reason)
	}
	return b.String() + "."
}
