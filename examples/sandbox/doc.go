// Sandbox runs a simulated week at a district, end to end, on one machine
// with no setup and no network: the first command to run.
//
//	go run ./examples/sandbox
//
// Everything runs in one process on 127.0.0.1. The district is the
// simulator of package github.com/feebridge/feebridge/examples/district,
// which the end-to-end tests and examples/scale use too; the sandbox adds
// feesync's side, its flags and its output. A fake Alma
// (github.com/feebridge/feebridge/alma/almatest) answers the REST API over
// HTTP and runs Alma's daily and hourly jobs; the library's FTP server is
// embedded (github.com/feebridge/feebridge/transport/ftpdrop/ftptest), so
// feesync's jobs reach it through the real FTP client; PeopleSoft's inbound
// and outbound folders are local folders, and a simulated student ledger
// plays the bursar. The jobs are those of the production binary
// (examples/feesync), built from package reconcile and its ports almaport and psport the
// same way, on feesync's default schedules; Alma's webhooks reach a
// listener like the one `feesync serve` mounts.
//
// # The week
//
// A simulated clock moves from task to task, so a week takes seconds.
// Students return loans (some late, fined by Alma, some of the fines paid
// at the desk); loans long overdue turn lost at 16:00 (flow F1) and staff
// declare a few lost; Alma exports every active fee at 18:00 and feesync's
// charges job turns the export into a PeopleSoft charge file at 18:30 (F2);
// on the first evening staff check the export against the district's
// policy of a 5.00 minimum (`feesync lint-export`), which Alma's profile
// does not apply: the fees below it are named, and sent all the same.
// Students pay online (eServices, in full) or at the cashier (in full or in
// part); PeopleSoft drops its payment file hourly, feesync's payments job
// writes Alma's import file and Alma imports it (F3). Staff waive some
// transferred fees in full, which flow back as credits (F4); they try a
// partial waiver, which rule R5 refuses, and follow the two-step path of
// fees.PlanPartialWaive instead. Lost items come back: the webhook has the
// lost-item fees waived and the credit reaches PeopleSoft within the hour
// (F5). Every morning feesync reconciles Alma with PeopleSoft and writes
// the daily report (F6).
//
// The run prints a timeline, day by day, then a table per flow and the
// reconciliation. It exits 0 only when Alma and PeopleSoft agree to the
// cent for every student and every record is accounted for: each fee
// exported charged once, each payment imported once, each waiver credited.
//
// # Flags
//
//	-students N   the number of students (200)
//	-days N       the number of days (7)
//	-seed N       the seed of every random choice (1): a run is repeatable
//	-out DIR      keep the FTP folder, PeopleSoft's folders, the journal,
//	              the reports and the log in DIR (default: a temporary
//	              folder, removed at the end)
//	-faults RATE  inject failures at RATE (0 to 0.5): Alma answering 429,
//	              5xx or not at all, FTP connections cut and transfers
//	              ending early, and jobs killed at random steps, then
//	              restarted with the journal reopened; the week must still
//	              end reconciled
//	-transport T  the library's file server: ftp (the default) or sftp,
//	              the embedded SFTP server
//	              (github.com/feebridge/feebridge/transport/sftpdrop/sftptest),
//	              reached through the real SFTP client with the server's
//	              host key pinned; with -faults, SFTP connections are cut
//	              before operations and midway through transfers, and the
//	              server stalls (the client gives up after 2 s) and restarts
//	-bursar S     the student system: peoplesoft (the default), banner
//	              (Ellucian Banner) or colleague (Ellucian Colleague).
//	              feesync is configured with bursar = S and the simulated
//	              ledger loads and writes that system's built-in layouts
//	              (peoplesoft.BuiltinBursar): Banner's fixed-width charge
//	              and payment files with detail codes and YYYYTT terms,
//	              Colleague's comma-separated rows with amounts in cents,
//	              AR codes and YY/XX terms. The week is the same; the
//	              files differ, and the week must end reconciled
//	-college-files
//	              feesync delivers a charge (and credit) file per college,
//	              named with its business unit (peoplesoft.separate_files);
//	              the simulated PeopleSoft loads every file it finds
//	-colleges N   play a consortium instead: N colleges, each its own Alma
//	              institution (fake Alma, file server, PeopleSoft, journal)
//	              with its own config file in one folder, run by one
//	              deployment as feesync serve -config-dir runs them
//	              (package reconcile/institutions); one summary line per
//	              college, and the peak memory. Not the -college-files
//	              colleges, which share one Alma
//	-throttled-college K
//	              with -colleges: college K's Alma answers only 429 for
//	              the week; the others must end reconciled, K's shortfall
//	              is printed and the run exits 1. K's week plays on past
//	              its failed jobs, which run again at their next times
//	-journal J    feesync's journal: a postgres://… DSN of a new, empty
//	              journal (a database or a schema= of its own), or a
//	              SQLite file (default: journal.db in the work folder);
//	              with -faults the killed jobs reopen it. The same seed
//	              prints the same week on both stores. With -colleges it
//	              must be a DSN: each college's journal is a schema of its
//	              own in that database (schema=college_N)
//	-instances N  run N feesync instances (2 or more) on the one journal,
//	              each its own config.Open (journal handle, jobs, name
//	              sandbox-K in serve.instance), as N feesync serve would:
//	              the holder of the active lease (serve.lease, 1 minute)
//	              runs the jobs and the events worker, Alma's webhooks go
//	              to any instance (drawn from the seed). The active one is
//	              killed -kills times; a standby takes over by the lease
//	              rules (package reconcile/instance) on the simulated clock
//	              and runs the interrupted job again; the killed one comes
//	              back as a standby. Each kill is printed (when, in which
//	              job and step, who took over, in how long) with the worst
//	              takeover, and the run checks that no return's fee was
//	              waived twice and no webhook event is left pending
//	-kills K      with -instances: how many times the active instance is
//	              killed (default 20), at the steps of its jobs at or after
//	              K moments drawn from the seed. A kill is a SIGKILL: the
//	              instance stops at that step with no cleanup (its journal
//	              handle is closed as a dead process's connections go
//	              away, so it releases no lease and writes nothing more)
//	-v            print the jobs' log lines to standard error
//
// A run is repeatable, with -faults too: the same flags print the same
// week (the wall time aside).
// With -faults, the failures are drawn from the seed too, but a timeout
// depends on the machine's speed, so two runs may retry in different
// places; both must end reconciled.
//
// The journal is a SQLite file: with -out, read it with
//
//	sqlite3 DIR/journal.db "SELECT kind, outcome, count(*) FROM records GROUP BY 1, 2"
//
// # Secrets
//
// The Alma API key, the FTP password and the webhook secret are real,
// random secrets, drawn afresh for each run as a district's administrator
// would draw them; none of them is ever written to the log or the output.
package main
