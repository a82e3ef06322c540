// Package district simulates a district around feesync, on one machine and
// one simulated clock: the one district simulator that the sandbox
// (examples/sandbox), the scale tool (examples/scale) and the end-to-end
// tests plug feesync's jobs into.
//
// It is a test-support package, like alma/almatest: it builds on the fakes
// (almatest, pstest, ftptest) and no production package may import it.
//
// # What it models
//
//   - Alma: a fake Alma (almatest) over HTTP on 127.0.0.1, with fresh
//     secrets ([Secrets]) and a manual clock ([District.Clock]), and its
//     scheduled jobs: the 16:00 lost-item job (flow F1), the 18:00 export
//     to bursar (F2), the hourly import of the bursar's payments (F3) and
//     credit export (F4), and the redelivery of webhooks.
//   - The library's FTP server (ftptest), where Alma exports and imports;
//     feesync reaches it through the real FTP client ([District.Library]).
//   - PeopleSoft ([PeopleSoft]): its inbound and outbound folders, the
//     simulated student ledger (pstest), its External File Load and its
//     hourly payment report.
//   - The people: students enrolled with their loans, forty days before
//     the first day, and the scenario of each day drawn from the seed:
//     returns (late ones fined, some paid at the desk), loans declared
//     lost by staff, damaged items, payments in eServices and at the
//     cashier (in full and in part), staff waivers in full, partial
//     waivers refused by rule R5 and settled the two-step way of
//     fees.PlanPartialWaive, and lost items brought back, whose return
//     Alma delivers as a webhook to the listener of [Options.Webhook]
//     (F5), which journals it; feesync handles the journaled events
//     ([Feesync.HandleEvents]) right after Alma's deliveries, at the same
//     points of the clock in every run. Staff check the week's first export
//     against the district's policy of a 5.00 minimum, which the simulated
//     profile does not apply, as `feesync lint-export` does (alma/exportlint):
//     the fees below it are named, and sent all the same.
//   - Four colleges on one PeopleSoft, as Los Rios has them: each owns one
//     library in Alma, the loans are spread over the four libraries, and
//     feesync's configuration routes each library's fees to its college's
//     business unit ([Colleges], [Mapping]); one college has its own item
//     type for overdue fines, another its own term calendar.
//   - Faults ([Faults]), at a rate: Alma answering 429, 5xx, slowly or
//     not at all, FTP connections cut or stalled, the FTP server
//     restarted, and a fault hook that kills feesync's jobs at a step;
//     the same seed injects the same faults.
//   - The tally of the week: a timeline a day at a time, the table per
//     flow, and an audit record by record that every fee exported was
//     charged once, every payment imported once and every waiver credited,
//     and that Alma's and PeopleSoft's balances agree to the cent, in
//     total and college by college ([District.Summary]).
//
// # What it does not model
//
// feesync's side is not here: the journal, the jobs built from a config,
// their schedules and how a run is retried or restarted belong to the
// caller, which hands them to [District.Week] and [District.Summary] as a
// [Feesync] (a *reconcile.Jobs over its journal is one: [Jobs]) and their
// [Schedules]. Nor does it model Alma's or PeopleSoft's user interfaces,
// other currencies than USD, or more than one bursar profile
// ([Profile]).
//
// # Driving it
//
// A whole week: [Open], build the jobs over [District.Library],
// [District.Bursar] and [District.Alma], then [District.Week] and
// [District.Summary]. Step by step, as a test does: add users, items and
// fees through [District.Alma], then play an evening ([District.Evening]:
// Alma's export, feesync's charges job, PeopleSoft's load) or an hour
// ([District.Hour]: the payments and credits paths), or run Alma's
// scheduled jobs ([District.AlmaExport], [District.AlmaImport],
// [District.AlmaCredits], [District.DeliverWebhooks]) and PeopleSoft's
// ([PeopleSoft.Load], [PeopleSoft.Pay], [PeopleSoft.Flush]) one by one
// around feesync's own runs, moving the clock by hand. At scale,
// [District.LostAndFound] builds flow F5 for n students at once.
package district
