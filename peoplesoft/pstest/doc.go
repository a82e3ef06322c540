// Package pstest is a simulated PeopleSoft student-financials ledger, for
// tests and the sandbox: it takes the place of the campus bursar.
//
// A [Ledger] loads charge files the way PeopleSoft's External File Load
// does (the whole file or nothing, each file once, its trailer checked),
// keeps each student's items, takes payments by the bursar's rules, and
// writes payment files for feebridge to read back.
//
// # Payments
//
// [Ledger.PayEServices] is a student paying online: every open item, each
// in full, by credit card, under one receipt. [Ledger.PayCashier] is the
// Business Services Office: any amount up to an item's balance, on the
// item the student picks, by cash, check or card. [Ledger.Pay] is the rule
// check behind both and refuses, with a *fees.Error, a partial eServices
// payment, a payment above the balance, or one on a closed or unknown
// item. Receipt numbers are "E" or "C" and nine digits, drawn from the
// seed, so a run is repeatable given [Options.Seed] and [Options.Now].
//
// # Credits
//
// Items are keyed as PeopleSoft keys them, by REF1_DESCR and ITEM_TYPE:
// the library may give one reference to charges of different types (see
// [fees.ChargeKey]), and each is an item of its own; only the same pair
// twice is an exception. A credit line (a negative amount) lowers the item
// whose REF1_DESCR and ITEM_TYPE it carries, and every payment written
// carries its item's ITEM_TYPE. A credit for an item the ledger does not
// hold, for another
// student's item, or above the balance, is not applied: it is held as an
// [Exception], listed by [Ledger.Exceptions], and the rest of the file is
// loaded.
//
// # Totals
//
// [Ledger.Totals] keeps Charged = Credited + Paid + Outstanding, and
// PaidWritten is the sum of every payment file [Ledger.WritePayments]
// wrote; each payment goes into exactly one file.
package pstest
