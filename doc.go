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
//     into a PeopleSoft charge file, each fee exactly once. In a district
//     of several colleges, each fee goes to the business unit of the
//     college whose library owns it; a fee of a library no college lists
//     is held (peoplesoft.College). When PeopleSoft writes the results of
//     its load, the results job reads them: a line the load refused is
//     held with its message ("sent, refused by PeopleSoft") and re-driven
//     once the cause is fixed.
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
//   - github.com/feebridge/feebridge/fees: the domain: exact money, the fee
//     lifecycle, payments, waivers and credits, and the rules R1–R5 decided
//     once (CheckPayment, CheckCredit); imports no other package of the
//     module.
//   - github.com/feebridge/feebridge/alma: Alma's bursar export and import
//     files, its REST API client and its webhook handler.
//   - github.com/feebridge/feebridge/alma/almatest: a fake Alma over HTTP
//     for tests, the sandbox and the simulator: circulation, the lost-item
//     job, export and import jobs, webhooks, faults.
//   - github.com/feebridge/feebridge/alma/exportlint: checks a sample of
//     Alma's bursar export against the district's export policy and names
//     each fee the policy would not have sent, with the profile option to
//     fix; it only reads (feesync lint-export).
//   - github.com/feebridge/feebridge/alma/internal/xmlscan: the streaming
//     XML tokenizer under alma's export decoder, with hostile-input limits,
//     fuzzed against encoding/xml.
//   - github.com/feebridge/feebridge/peoplesoft: declarative file layouts,
//     the charge/credit file, the payment file and the item-type mapping,
//     with built-in layouts and mappings for PeopleSoft, Ellucian Banner
//     and Ellucian Colleague (BuiltinBursar).
//   - github.com/feebridge/feebridge/peoplesoft/pstest: a simulated
//     PeopleSoft student ledger that loads charge files and writes payment
//     files.
//   - github.com/feebridge/feebridge/transport: file drops and the claim
//     protocol for inbound files: atomic writes, retries and name checks
//     over small drivers.
//   - github.com/feebridge/feebridge/transport/localdrop: a file drop in a
//     local folder.
//   - github.com/feebridge/feebridge/transport/memdrop: a file drop in
//     memory, for tests and the sandbox.
//   - github.com/feebridge/feebridge/transport/ftpdrop: a file drop on an
//     FTP or FTPS server.
//   - github.com/feebridge/feebridge/transport/ftpdrop/ftptest: an FTP
//     server inside the process, on 127.0.0.1, with a fault-injecting proxy.
//   - github.com/feebridge/feebridge/transport/sftpdrop: a file drop on an
//     SFTP server, its host key always checked.
//   - github.com/feebridge/feebridge/transport/sftpdrop/sftptest: an SFTP
//     server inside the process, on 127.0.0.1, with a cutting and stalling
//     proxy.
//   - github.com/feebridge/feebridge/transport/sftpdrop/internal/wire: buffered
//     reads and batched writes under the SFTP driver's SSH connections.
//   - github.com/feebridge/feebridge/transport/internal/remote: what the FTP
//     and SFTP drivers share beyond their protocols (the root folder, the
//     upload source, errors of a known cause, redaction of secrets).
//   - github.com/feebridge/feebridge/transport/transporttest: the
//     conformance suite every drop driver passes.
//   - github.com/feebridge/feebridge/reconcile: the jobs (charges, credits,
//     payments, lost returns, redrive, report, reconciliation), the crash-
//     safe file sequence they share, and the ports they need.
//   - github.com/feebridge/feebridge/reconcile/journal: the journal that
//     makes the jobs idempotent and crash-safe (SQLite on disk or in
//     memory): the only package that writes SQL.
//   - github.com/feebridge/feebridge/reconcile/journal/journaltest: the
//     conformance suite every journal (reconcile.Store) passes.
//   - github.com/feebridge/feebridge/reconcile/internal/process: tells
//     whether a process of this host still runs, for lock takeover and the
//     cleanup of temporary files.
//   - github.com/feebridge/feebridge/reconcile/almaport: Alma's side of the
//     jobs: the export reader, the import writer, the REST client and the
//     webhook callback as reconcile's ports.
//   - github.com/feebridge/feebridge/reconcile/psport: PeopleSoft's side of
//     the jobs: the charge file writer and the payment file reader as
//     reconcile's ports.
//   - github.com/feebridge/feebridge/reconcile/metrics: feebridge's
//     Prometheus metrics: the journal's run history, held records, webhook
//     events and size read at scrape time, and a process's calls to Alma.
//   - github.com/feebridge/feebridge/reconcile/institutions: many Alma
//     institutions served by one deployment (feesync serve -config-dir):
//     the folder of config files, each institution run on its own, the
//     webhook routes by name, the metrics' college label, and reloads.
//   - github.com/feebridge/feebridge/reconcile/instance: one of several
//     instances over one journal, active while it holds the active lease,
//     a standby that takes it over at the holder's expiry otherwise.
//   - github.com/feebridge/feebridge/reconcile/config: the one way from a
//     configuration to running jobs: the config file, its validation, the
//     default schedules, secrets, Open, and the offline conversions.
//   - github.com/feebridge/feebridge/internal/sshdtest: runs a real OpenSSH
//     sshd on 127.0.0.1 for one test (generated keys, public-key login,
//     internal-sftp, no chroot), for the SFTP driver's tests.
//   - github.com/feebridge/feebridge/internal/pgtest: gives a test a fresh,
//     empty PostgreSQL database of its own, on the server
//     FEEBRIDGE_TEST_POSTGRES names or on a throwaway cluster (initdb, a
//     free port of 127.0.0.1) started once per test process.
//   - github.com/feebridge/feebridge/internal/browsertest: renders HTML in a
//     real headless Chromium for tests (chromedp): overflow at each width,
//     the page's text, screenshots as artifacts.
//   - github.com/feebridge/feebridge/examples/feesync: the production
//     binary: flags, commands, signals, schedules, the webhook listener and
//     the status page.
//   - github.com/feebridge/feebridge/examples/feesync/internal/convertbench:
//     measures feesync convert alma-export against two Python ElementTree
//     converters on generated exports: time, CPU and peak memory.
//   - github.com/feebridge/feebridge/examples/sandbox: the embedded default:
//     a simulated week at a district, end to end, with feesync's jobs.
//   - github.com/feebridge/feebridge/examples/scale: measures the jobs at
//     the size of a large district: time, memory and Alma's call rate.
//   - github.com/feebridge/feebridge/examples/district: the one district
//     simulator (Alma, its FTP server, PeopleSoft, the people, faults, the
//     tally) that the sandbox, the scale tool and the end-to-end tests plug
//     feesync's jobs into.
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
