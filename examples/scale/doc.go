// Command scale measures how feebridge's jobs hold up at the size of a
// large district: the time and the peak memory of the charges and payments
// paths for a million fees and a million payments, and the call rate and
// the waivers of the lost-returns path against a fake Alma that answers
// some calls with HTTP 429.
//
// # Usage
//
//	go run ./examples/scale -path charges -n 1000000
//	go run ./examples/scale -path payments -sizes 10000,100000,1000000
//	go run ./examples/scale -path lost-returns -n 300 -rate 25 -429 0.1
//	go run ./examples/scale -path reconcile -students 20000 -disagree 0.01
//
// It prints one line per size. The figures are measured, never asserted:
// it exits 1 only when a job fails or a result is wrong (records missing,
// totals off, a waiver lost or made twice).
//
// # Paths
//
//   - charges: an Alma bursar export of N fees is generated into a library
//     drop on disk (a folder in a temporary directory), streamed through
//     package alma's encoder and never held in memory; then the real
//     charges job ([reconcile.Jobs.Charges] over packages almaport and psport, with the
//     journal in SQLite on disk) turns it into a PeopleSoft charge file.
//   - payments: the charges path runs first for N fees, so that the
//     payments are for references the journal knows; then a PeopleSoft
//     payment file of N payments (eServices in full, cashier in part, by
//     cash and by check) is generated, and the real payments job
//     ([reconcile.Jobs.Payments]) turns it into an Alma bursar import file.
//   - lost-returns: the district simulator (examples/district, its
//     District.LostAndFound) plays Alma with N returned lost items whose
//     lost-item fees were transferred to the bursar; almatest injects 429s
//     (a share of calls, plus Alma's real per-second threshold of 25), and
//     every return event is journaled as the webhook listener does
//     ([reconcile.Jobs.ReceiveEvent]) and handled from the journal
//     ([reconcile.Jobs.HandleEvents], -workers students at once) through
//     an alma.Client limited to the configured rate.
//     It reports the calls per second achieved against the rate configured
//     and the calls answered per return by operation (the fake Alma's
//     CallStats, 429s apart) against issue 17's bound (2 calls, plus one
//     per fee waived, plus 2 if the blocks were lifted); it checks that
//     every lost-item fee was waived exactly once. The evening's export
//     goes through feebridge's charges job first (not measured), so the
//     journal knows the fees were exported and a return lists that one
//     status; a run whose returns exceed the bound fails.
//   - reconcile: a fake Alma serving the open fees Analytics report, and a
//     journal, with N active students owing one to three transferred fees
//     each; -disagree of them get a disagreement (paid in part or in full
//     at the desk in Alma, a fee transferred never sent, a charge Alma
//     does not know, in turn) and -changed of the others a journal record
//     written after Analytics' 02:00 refresh. Then one nightly
//     reconciliation ([reconcile.Jobs.Reconcile]) is measured, by the
//     report path and by the per-student path side by side
//     (-reconcile-path both|report|per-student): Alma's calls by
//     operation, wall time and the heap it added. The fake Alma has no
//     per-second limit here and the client no rate: the figures are the
//     calls. It checks that each path found exactly the disagreements
//     injected, and prints the report path's call budget,
//     ⌈open fees/1000⌉ + 2 × disagreeing + changed.
//
// The charges and payments inputs are generated here, streamed one record
// at a time, and not by the district simulator: its fake Alma holds every
// fee in memory and writes its export in one piece, which a million fees
// would make the measure of the simulator rather than of the jobs.
//
// # The journal's store
//
// -journal DSN runs the charges or the payments path with the jobs'
// journal where it says: a postgres://… DSN of a new, empty database (or
// schema=), or a SQLite file; the default is journal.db in the work
// folder. A size fills the journal, so -journal takes one size per run;
// the summary line then ends journal=postgres or journal=sqlite. The
// README's "Performance and reliability" has both stores side by side.
//
// # Memory
//
// Each phase (generating the input, running the job) runs in a child
// process, the command started again with -phase, so that the peak
// resident set size the kernel reports (VmHWM in /proc/self/status) is that
// phase's alone. The Go heap's peak is sampled every 10 ms from
// runtime/metrics (heap objects, live and not yet swept). With -inprocess
// the phases run in the command's own process; the peak resident size is
// then reset before each phase through /proc/self/clear_refs where Linux
// allows it.
//
// Time: "gen" is the generation of the input, "job" the wall time of the
// job alone, "cpu" the CPU time (user and system) of the job's process.
// "load" is the machine's one-minute load average when the job started: on
// a shared machine, a high load explains a slow wall time.
package main
