// Package feebridge keeps library fines and fees in step between Ex Libris
// Alma, the library system, and PeopleSoft Campus Solutions, the bursar
// that students pay through eServices.
//
// This package holds only this overview; the work is done by the packages
// below it, which a college or district imports and wires to its own file
// layouts, file servers and schedules. The examples/feesync binary is such
// a wiring, ready to run; examples/sandbox runs a simulated week at a
// district with no setup at all.
//
// # The flows
//
//   - F1, daily at 16:00 in Alma: lost-item replacement fees are assessed by
//     the loan profiles, and staff may mark items lost by hand.
//   - F2, daily at 18:00: Alma exports every active fee to the library FTP
//     server and marks it Transferred; the charges job turns the export
//     into a PeopleSoft charge file, each fee exactly once.
//   - F3, hourly: the payments job turns PeopleSoft's payment file into an
//     Alma bursar import file, which Alma imports hourly. A partial payment
//     lowers the transferred balance; a full one closes the fee.
//   - F4, hourly: the credits job sends Alma's waivers of transferred fees
//     to PeopleSoft as credit lines. A transferred fee may only be waived
//     in full.
//   - F5, on each loan return: Alma's webhook tells the lost-returns
//     handler, which waives the lost-item fees of the returned item and
//     lifts the related blocks; the waiver then flows by F4.
//   - F6, daily: the report lists items no longer lost that still carry
//     lost-item fees, every rejected record, and every disagreement between
//     Alma and PeopleSoft.
//
// # The packages
//
//   - [github.com/feebridge/feebridge/fees]: the domain. Exact money, the
//     fee lifecycle, payments, waivers, credits and their rules. Imports no
//     other feebridge package.
//   - [github.com/feebridge/feebridge/alma]: Alma's bursar export and
//     import files, its REST API and its webhooks.
//   - github.com/feebridge/feebridge/alma/almatest: a fake Alma for tests
//     and the sandbox.
//   - [github.com/feebridge/feebridge/peoplesoft]: declarative PeopleSoft
//     file layouts, the charge/credit file and the payment file;
//     peoplesoft/pstest simulates the student ledger.
//   - github.com/feebridge/feebridge/transport: file drops on local
//     folders, FTP and FTPS, with one claim protocol for inbound files.
//   - github.com/feebridge/feebridge/reconcile: the jobs, the report and
//     the reconciliation of Alma against PeopleSoft; reconcile/journal is
//     the journal that makes them idempotent and crash-safe (the only
//     package that writes SQL), reconcile/journal/journaltest its
//     conformance suite.
//
// # Getting started
//
// Run the tests with
//
//	go test ./...
//
// The README says what else to run and how to move from the sandbox to a
// real district.
package feebridge
