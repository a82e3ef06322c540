// Package almatest is a fake Alma that feebridge's tests and sandbox run
// against, since no test can use a real Alma.
//
// [NewServer] starts an HTTP server on 127.0.0.1 that answers Alma's REST
// calls under [BasePath] with Alma's JSON shapes and error forms, over an
// in-memory model of users, items, loans, fees (each a [fees.Fee] with
// Alma's list of transactions beside it) and user blocks. Go methods set
// the model up, play the library staff, and run Alma's scheduled jobs on
// demand: the lost-item job, the bursar export, the credit export and the
// bursar import. Webhook events are signed and delivered as Alma delivers
// them, and faults (429s, a daily quota, 5xx, slow answers, dropped
// connections) can be switched on for reliability tests.
//
// Everything is dated by an injectable [Clock] ([NewManualClock] in tests),
// so a test or the sandbox runs days in seconds, and every id and fault
// decision comes from counters and a seeded source: a run is repeatable
// given [Options.Seed] and the same sequence of calls.
//
// # The REST API
//
// Calls need the key of [Server.APIKey], in "Authorization: apikey <key>"
// or in the apikey query parameter; a wrong or missing key gets HTTP 400
// UNAUTHORIZED, as from Alma. Errors come as Alma's web_service_result, in JSON or XML
// as asked (Accept: application/json or format=json; XML by default, as
// in Alma). Success bodies are JSON only, since the fake does not write
// Alma's objects in XML: a read that does not ask for JSON gets 406
// instead, and a write that does not is refused before it takes effect.
// Analytics answers in XML, as Alma does. Every answer carries
// X-Exl-Api-Remaining.
//
//	GET  users/{user_id}                    user with user_block; expand=fees,loans
//	PUT  users/{user_id}                    replaces names and user_block (a body without it clears the blocks)
//	GET  users/{user_id}/fees?status=       ACTIVE (default), INDISPUTE, EXPORTED or CLOSED
//	POST users/{user_id}/fees               creates a fee (type, original_amount, owner, barcode, comment)
//	GET  users/{user_id}/fees/{fee_id}      one fee, with its transaction list
//	POST users/{user_id}/fees/{fee_id}?op=  pay (amount, method, comment, external_transaction_id),
//	                                        waive (amount, reason, comment), dispute, restore
//	GET  users/{user_id}/loans              loan_status Active (default) or Complete; limit, offset
//	GET  users/{user_id}/loans/{loan_id}
//	GET  items?item_barcode=                redirects (302) to the item, as Alma does
//	GET  bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}
//	GET  analytics/reports?path=&limit=&token=
//
// A missing amount (or amount=ALL) pays or waives the whole balance. The
// error codes are the [CodeUserNotFound] … [CodeUnauthorized] constants;
// the numeric ones are those Alma documents for the same calls, and each
// constant says where the fake had to choose one.
//
// The Analytics call serves the open lost-item fees whose item is no
// longer lost (see [ReportColumns]) at any path, except the path of
// [Options].Analytics: there it serves the open fees report
// ([FeesReportColumns]) as Alma Analytics would, from a copy of the state
// taken at the daily refresh time (02:00 by default), not the live state.
// The first call takes a snapshot and answers with a ResumptionToken;
// later calls with that token read the next pages until IsFinished.
//
// # Circulation and fees
//
// [Server.CheckOut] loans an item. [Server.DeclareLost] (staff) and
// [Server.RunLostItemJob] (the daily 16:00 job of flow F1, for loans
// overdue by [LostPolicy.LostAfterDays]) turn a loan lost: the item's
// process type becomes LOST_LOAN, a LOSTITEMREPLACEMENTFEE (the item's
// ReplacementCost or the policy's fee) and a LOSTITEMPROCESSFEE are
// assessed, and the user gets a block coded [BlockLostItem].
// [Server.Return] completes the loan, puts the item back on the shelf,
// charges overdue days not yet charged, and queues a LOAN_RETURNED event;
// it leaves lost-item fees and blocks as they are, as Alma does: waiving
// them and lifting the blocks is feebridge's job (flow F5).
// [Server.AssessOverdueFines] charges OVERDUEFINE per whole day overdue.
//
// Payments, waivers, disputes and restores, by the REST API or by
// [Server.PayAtDesk], [Server.Waive], [Server.Dispute] and
// [Server.Restore], go through the methods of [fees.Fee], so the domain
// rules apply: nothing above the balance, nothing on a closed fee, and a
// Transferred fee is waived in full only (R5). Each adds a transaction to
// the fee, as Alma lists them.
//
// # Bursar jobs
//
// Every fee gets its bursarTransactionId when it is created (a numeric id
// like Alma's, its own). Real Alma may give one id to several fees of a
// user and item that differ in type; [FeeSpec.TransactionID] builds such
// fees, and [Server.FeeByChargeKey] finds a fee by the pair (id, type),
// its charge key ([fees.ChargeKey]). [Server.RunExport] writes every Active fee that the
// profile selects into one file <profile>-<jobid>-<millis>.xml, in the
// structure of Alma's real export (namespace, exportNumber element, user
// groups, the misspelt itemCallNumebr, xsi:nil for empty fields, amounts
// without fixed decimals), through a [Folder] such as a transport.Drop; once the file is
// written, those fees become Transferred (EXPORTED) and their balance the
// transferred balance. No fee, no file.
//
// [Server.RunCreditExport] writes one credit record per waiver of a fee
// that was Transferred when waived: the ORIGINAL fee's
// bursarTransactionId, its fineFeeType and item fields, and a NEGATIVE sum
// equal to the amount waived. Each waiver is exported once.
//
// [Server.RunImport] reads the .xml files of a folder, in name order, and
// treats each record with a positive compositeSum as a payment of that
// sum on the fee with that bursarTransactionId and fineFeeType, taken at
// the bursar's cashier ([fees.ChannelCashier]): partial payments lower the
// balance, a full payment closes the fee. When the id is one fee's alone
// the id is enough; when it is shared, a record without a type, or with a
// type none of its fees has, is unmatched. A sum that is not positive, a
// payment above the balance (both refused by [fees.Fee.Pay]), an unknown id,
// another user's fee, a closed fee or one never transferred is reported in
// the [ImportResult] and nothing is guessed. A file is imported once: one
// whose name, or whose content's SHA-256, was imported before is skipped.
// Files are left where they are, as Alma leaves them; a file that cannot
// be read or parsed is reported and tried again on the next run. The
// fake reads and writes these files with its own code, not package alma's,
// so that tests of one against the other mean something.
//
// # Webhooks
//
// Events are queued when they happen and delivered by [Server.RunDue]
// to [Options.WebhookURL], signed in X-Exl-Signature (Base64 of the
// HMAC-SHA256 of the raw body, see [Sign]). A LOAN_RETURNED event carries
// the loan as it stood before the return, so its loan_status still says
// ACTIVE and its process_status says LOST for a lost item, as in real
// deliveries. A 2xx answer delivers the event; a 5xx or a network error
// schedules a retry after [Options.WebhookRetryDelays] of simulated time
// (Alma's 1 h, 3 h, 6 h by default), each due at the next RunDue after the
// clock has passed it; any other status fails the event. See
// [Server.Webhooks].
//
// # Faults
//
// [Faults] (in [Options] or by [Server.SetFaults]) add, each with its own
// rate, 429 PER_SECOND_THRESHOLD, 5xx answers, slow answers, dropped
// connections, and lost answers (the call takes effect, then the
// connection drops); a daily quota per simulated day (429 DAILY_THRESHOLD);
// and the real per-second threshold, counted per wall-clock second (25 by
// default). [Server.APICalls] counts the calls per route; [Server.CallStats]
// counts them per operation, per simulated day and at their peak per
// wall-clock second.
//
// # What is not modelled
//
//   - XML request and success bodies; the user object beyond names, group,
//     e-mail and blocks (a PUT keeps nothing else); user_id_type (users are
//     found by primary id only); VAT (always 0).
//   - Alma's partial waivers of transferred fees: the fake refuses them by
//     rule R5, which feebridge keeps; Alma would take them.
//   - Credit records as fees (type CREDIT) in the REST API, refunds made
//     by staff by hand, and payments made in the library on transferred
//     fees going out in the credit export: only waivers do, and the
//     refunds of a terms of use's refund ratio when a lost item comes back
//     (LostPolicy.RefundRatios; what is documented and what is assumed is
//     in refunds.go).
//   - Fine accrual while overdue: overdue days are charged as separate
//     OVERDUEFINE fees when AssessOverdueFines runs and at return. Loan
//     renewals, requests, recalls, fee limits and the blocks Alma computes
//     from them; blocks other than the fake's lost-item block.
//   - Webhooks other than the loan events LOAN_CREATED, LOAN_LOST and
//     LOAN_RETURNED (only the last is sent unless
//     [Options.WebhookEvents] says otherwise); the challenge handshake
//     (the receiver's side, tested in package alma).
//   - Analytics reports other than the two above, and their filters.
//   - Dates in bursar files follow [Options.BursarLocation] (UTC without a
//     suffix by default); the import reads no dates.
package almatest
