// Package reconcile runs the integration between the library system (Alma)
// and the bursar (PeopleSoft): the sync jobs, the durable journal that makes
// them idempotent and crash-safe, the lost-item returns handler, the daily
// exceptions report and the reconciliation of both sides to the cent.
//
// It knows the library system and the bursar only through small interfaces
// it owns ([ExportFormat], [ChargeFormat], [PaymentFormat], [ImportFormat],
// [AlmaAPI], [Mailer]) stated in terms of package fees; packages
// reconcile/almaport (Alma's side) and reconcile/psport (PeopleSoft's side)
// adapt the reference adapters to them. Files move through transport drops
// with the claim protocol of [transport.Inbox].
//
// # Jobs
//
//   - [Jobs.Charges] (F2): Alma fee exports → bursar charge files.
//   - [Jobs.Payments] (F3): bursar payment files → Alma bursar-import files.
//   - [Jobs.Credits] (F4): Alma credit/waiver exports → bursar credit lines.
//   - [Jobs.Results] (F2, F4): the bursar's load results → the lines it
//     refused held again, to be re-driven.
//   - [Jobs.ReceiveEvent] and [Jobs.HandleEvents] (F5): a returned lost
//     item's webhook, journaled by the listener and handled from the
//     journal with retries ([Jobs.RunEvents] in a long-running process;
//     [Jobs.RedriveEvents] for the events that failed for good).
//   - [Jobs.Report] (F6): the daily exceptions report, CSV and HTML.
//   - [Jobs.Reconcile]: every disagreement between Alma and the bursar.
//   - [Jobs.Redrive]: send held records again once the cause is fixed.
//
// Every job has a dry-run mode ([Options].DryRun) that decides and reports
// but writes nothing.
//
// # Record keys
//
// A charge, and the credit that reverses it, is journaled under its charge
// key, [fees.ChargeKey] (bursar transaction id and fee type): Alma gives one
// transaction id to several fees of different types, and only the pair tells
// them apart. A payment is matched to its charge by transaction id and the
// fee type of the charge paid, which the payment adapter maps back from the
// bursar's own type ([PaymentRecord].FeeType); without a type, the id alone
// names the charge only when one charge was sent for it, and the payment is
// held otherwise. The payment written for the library carries the fee type
// ([Charge].Type), so the library's import can tell the fees apart too.
//
// # Crash safety
//
// Each inbound file is claimed (moved to processing/), decoded, and every
// record decided in one journal transaction that also marks the file
// "publishing" under an output name derived from the input's SHA-256. The
// output is then put atomically, the file marked "published", and the
// source moved to done/. A crash at any point followed by a rerun converges
// to the state of a run without the crash: a rerun regenerates the same
// output under the same name, and keys already decided into another file
// are skipped. The same content dropped under two names is handled once.
//
// What a rerun may repeat is the put of an output file that was already
// put: same name, same content. The readers of those files (PeopleSoft's
// file load, Alma's bursar import) load a name once, so that is harmless.
//
// # Held records
//
// A record that cannot be sent (an unmapped fee type, a value too long, a
// payment above what is left, an unlinked credit) is held in the journal
// with its reason, listed in [RunResult].Rejected and in the daily report,
// and the rest of its file goes on. [Jobs.Redrive] sends held records
// again once the cause is fixed. A record that could not even be read is
// held under its file and line and needs a corrected file.
//
// # Locks
//
// Each job takes a lease in the journal ([Store].TakeLease) for
// [Options].LockTTL (1 minute), renewed every LockTTL/3 while the run
// lasts, so that two runs of one job never overlap. The run's journal
// writes are fenced by the lease ([journal.WithFence]): a run whose lease
// was taken over (it was paused, or cut off from the database past its
// expiry) stops, with an error wrapping [ErrLeaseLost], deciding nothing
// more. The lease
// names its owner's host and process id: a run that finds the lease of a
// process on the same host that no longer runs (it was killed) takes it
// over at once. A lease of another host, or of a process that still runs,
// is waited out; an operator who knows that process is gone may list the
// leases ([journal.Journal.Leases]) and break it ([journal.Journal.BreakLease]).
//
// # Calls to Alma
//
// The Alma client keeps to its call rate; the jobs keep it busy. Lost
// returns of different students are handled side by side (those of one
// student one at a time), so that one waiting out a 429 leaves the rate to
// the others. The reconciliation and the daily report ask about
// [Options].AlmaWorkers students at a time, and only about those the
// bursar still holds something of or with a change in the last
// [Options].QuietAfter, so that their calls do not grow with the
// journal's age; the report stops asking about a payment once Alma was
// seen to show it.
//
// # Journal
//
// The jobs keep their memory in a [Store]: every file seen, every record
// key and its outcome, the webhook events and the locks. Package
// [github.com/feebridge/feebridge/reconcile/journal] owns it and every
// SQL statement: [journal.Open] opens the SQLite journal (pure Go, WAL)
// that an operator can read with the sqlite3 command (see its package
// documentation), and [journal.OpenMemory] one in memory that leaves
// nothing behind. A file job decides each file through one
// [journal.View], batched: the records of a batch are read and written
// in a few statements, inside the file's one transaction. Package
// journaltest is the conformance suite any other Store must pass.
package reconcile
