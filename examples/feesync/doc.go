// Feesync keeps a library's fines and fees in step between Alma and
// PeopleSoft Campus Solutions: it is feebridge wired to files, schedules
// and a webhook listener, ready to run at a college or district.
//
// Alma exports the day's active fees at 18:00 and feesync turns them into
// a PeopleSoft charge file; PeopleSoft's payment files become Alma bursar
// import files, hourly; waivers made in Alma go to PeopleSoft as credit
// lines, hourly; a lost item that comes back has its lost-item fees waived
// as soon as Alma's webhook says so; and every morning a report lists what
// staff must look at.
//
// # Usage
//
//	feesync convert alma-export -in FILE.xml -out FILE.dat [-config F] [-as-of YYYY-MM-DD]
//	feesync convert ps-payments -in FILE.csv -out FILE.xml [-config F] [-as-of YYYY-MM-DD]
//	feesync run charges|payments|credits|results|report [-config F] [-dry-run]
//	feesync reconcile [-config F] [-all]
//	feesync redrive [-config F] [-dry-run] [charge|credit|payment|refund...]
//	feesync redrive [-config F] [-dry-run] event [ID]
//	feesync held [-config F] [-kind charge|credit|payment|refund] [-all]
//	feesync dismiss KEY -reason TEXT [-by NAME] [-kind K] [-config F]
//	feesync serve [-config F]
//	feesync serve -config-dir DIR -listen ADDR
//	feesync check-config [-config F] [-online]
//	feesync lint-export -in FILE.xml [-config F] [-users FILE.csv] [-as-of YYYY-MM-DD]
//	feesync init [-config F]
//	feesync backup -out FILE [-config F]
//	feesync restore-check [-config F]
//	feesync restore-accept -reason TEXT [-config F]
//	feesync version
//
// When -config is not given, feesync reads the file named by FEEBRIDGE_CONFIG.
//
// # Commands
//
// convert alma-export turns one Alma "Export to Bursar" file into one
// PeopleSoft charge file, offline: no server, and a temporary journal and
// folders, removed afterwards. It runs the charges job itself, with the
// same adapters and rules as run charges, so that for the same file the
// two write the same charge lines and hold back the same records with the
// same reasons (a credit, which run links to a charge sent earlier, finds
// none in the temporary journal unless the file charged it first). It
// uses the layout, item types and term calendar of the config, or with no
// config the reference layout and item types and the built-in calendar
// (Spring to May 31, Summer to August 14, Fall to December 31). -as-of is
// the day the run is dated, which picks the term and the due date; the
// default is today. It streams: a file of a million fees is read, mapped
// and written record by record.
//
// convert ps-payments turns one PeopleSoft payment file into one Alma
// bursar import file, offline, by running the payments job over a
// temporary journal: the import records and the rules that hold a payment
// back (R4: a payment is positive and not above what is left of its
// charge, an eServices payment pays the whole charge, a receipt and
// reference come only once) are those of run payments. The temporary
// journal knows the charges that the payment lines name with the amount
// charged (CHARGE_AMT) and an item type the config maps back to one fee
// type; a line without them is held as a payment of a charge that was not
// sent. The charges known this way carry no item barcode, so the import
// records have none.
//
// run charges, run payments and run credits are the jobs, run once: each
// claims the new files in its inbound folder, decides every record against
// the journal, publishes its output atomically and moves the input to
// done/ (or failed/, with a reason). A rerun, or a run after a crash, does
// nothing twice. run report writes the daily exceptions report to the
// library drop. -dry-run decides and reports but writes nothing.
//
// reconcile compares Alma's balance of every fee the journal knows with
// what the bursar holds and prints each disagreement, tab-separated. It
// asks Alma about the students the bursar still holds something of and
// those with a change in the last 30 days; -all asks about every student
// (the scheduled run leaves the settled and quiet ones out, so that its
// calls do not grow with the journal's age).
//
// redrive sends again the records the journal holds as rejected, once
// their cause is fixed (a fee type mapped, a term added). It takes no
// record dismissed or superseded. redrive event
// makes the webhook events that failed for good pending again (the one
// with the id given, or all), for serve to handle.
//
// held lists the records held back, newest first, one a line, tab
// separated: status, kind, key, file, line, student (masked as in the
// logs), amount, code, reason and when it was held. -kind keeps one kind
// (charge, credit, payment, refund). -all adds the held records that were closed:
// "dismissed" (by an operator) or "superseded" (the same key, or the key a
// held line was read as, went through later), with when, who, and why.
// A conflict (code "conflict") is a record whose key already went through
// with other amounts, dates or student: it is held under the key
// KEY#conflict:FILE:LINE and names both files and lines.
//
// dismiss closes one held record, named by its KEY as held lists it, with
// -reason (required); -by names who (default: the user running feesync).
// The record leaves the report and held, is never re-driven, and the
// journal keeps the dismissal (who, when, why, and what was held) for held
// -all. Dismissing a key that is not held is an error that says what the
// key is.
//
// serve runs the jobs on their schedules (cron specs in the config; by
// default charges at 18:30 after Alma's 18:00 export, payments and credits
// hourly, the reconciliation at 06:30 and the report at 07:00) and, on
// webhook.listen, answers Alma's webhooks on webhook.path (a loan return
// is journaled and answered at once; a worker handles the journaled
// events, with its own retries), GET /healthz, /readyz, /metrics,
// and GET / with a status page (the schedules, the last runs from the
// journal's run history, the records held, the webhooks' state) and a
// search by student or fee (/?student=ID, /?fee=ID). With a status token
// set (FEEBRIDGE_STATUS_TOKEN), / and /metrics require it. SIGINT or
// SIGTERM stops it cleanly.
//
// serve -config-dir DIR -listen ADDR serves many Alma institutions (a
// consortium's colleges, each its own institution) from one process: each
// *.toml of DIR is one institution's config, named by its base name, run
// with its own journal, drops, Alma client and schedules; ADDR serves
// /webhooks/alma/NAME (NAME's own secret), /healthz, /readyz, /metrics
// (labelled college="NAME"), / (the institutions) and /college/NAME/.
// SIGHUP reads DIR again, restarting only what was added, removed or
// changed (package reconcile/institutions).
//
// check-config loads and validates the config and the secrets it needs.
// With -online it also logs in to every drop, writes and removes a test
// file in every folder, makes one read-only Alma call with the key, and
// checks the journal (its folder, and that init made it) and that the
// listen address can be bound; it lists every problem with its key.
//
// lint-export reads one sample of Alma's bursar export (a local file,
// as convert alma-export takes) and prints, one a line on stdout, each fee
// that the config's [export_policy] would not have sent: FILE:LINE, the
// fee's transaction id and type, the user masked as in the logs, the
// amount, and each reason (below-minimum, too-recent, excluded-user-group,
// library-not-billed, fee-type-not-billed) with the value that caused it.
// A summary counts each reason with the option of Alma's bursar
// integration profile to fix, and the checks it could not make. It
// changes, moves and drops nothing: feesync sends every fee Alma exports,
// since Alma has marked it Transferred and a fee dropped afterwards is
// lost; the filters belong in Alma's profile (README, "What to set in
// Alma's bursar profile"). The export carries no user group: -users names
// a CSV of users with headings such as "Primary Identifier" and "User
// Group Code" (an Analytics report of users). Ages are counted in
// calendar days to -as-of, or to the day in Alma's file name. It exits 0
// when no fee is warned about, 3 when some are, 1 when the export, a
// record or the users file cannot be read (each named with file and line).
//
// init creates the journal of a new site, with a new random id; it refuses
// a journal file that has content. run, serve, redrive, reconcile, backup
// and restore-check refuse to start, with exit 1 and the path, when the
// journal file is missing or empty (0 bytes): a lost journal must be
// restored from a backup, never silently replaced by an empty one, which
// would send everything again.
//
// backup writes a consistent copy of the journal to -out (SQLite's VACUUM
// INTO), also while serve runs, checks the copy, and refuses to write over
// an existing file. Run it from cron; restore a copy by stopping feesync
// and putting the copy in the journal's place.
//
// After each publication, the jobs write a mark in a hidden folder of the
// folder they publish to (.feebridge/mark-JOB): the journal's id and the
// publication's number. Before publishing, a job compares every mark with
// the journal, and refuses to run when a mark is ahead of it (a journal
// restored from an older backup) or of another journal. restore-check
// lists such marks and the files published that the journal does not
// know (exit 1 while there is one); restore-accept re-journals, without
// publishing, the input files in done/ that the journal does not know, so
// that a file delivered again is a duplicate, then accepts the marks with
// a -reason kept in the journal's acceptances table, and the jobs publish
// again. See the README, "Backing up and restoring the journal".
//
// version prints the module version and the Go version.
//
// # Exit codes
//
//   - 0: all done.
//   - 3: done, but some records were rejected (or, for reconcile, Alma and
//     the bursar disagree; for lint-export, the export has fees the policy
//     would not have sent). Each rejected record is listed on stderr as
//     FILE:LINE: KEY: reason, an input file that could not be read as
//     FILE: failed: reason, and all of them are in the journal and the
//     daily report.
//   - 1: failure: nothing, or not everything, could be done.
//   - 2: the command line is wrong.
//
// # Configuration
//
// One TOML file holds everything: Alma's region, the library drop (an FTP
// or FTPS server, an SFTP server, or a folder) and its folders, the PeopleSoft drop and its
// inbound and outbound folders, the file layouts, the item-type map, the
// term calendar, the schedules, the waive reason for returned lost items,
// the report folder, the journal's path and the webhook listener.
// feesync.example.toml, beside this file, shows and explains every key;
// start from it and check the result with check-config. A mistake is
// reported with the file, the line and the key:
//
//	feesync: feesync.toml:42: schedules.charges: "every day" is not a cron spec ...
//
// # Secrets
//
// The Alma API key, the FTP password and the webhook secret are never
// written in the config file and never taken from a flag. They come from
// FEEBRIDGE_ALMA_API_KEY, FEEBRIDGE_FTP_PASSWORD and
// FEEBRIDGE_WEBHOOK_SECRET, or from the file named by the same variable
// with _FILE appended; the config may name another variable (*_env) or a
// file (*_file). They never appear in a log line or an error.
//
// # Logs
//
// feesync logs to stderr with log/slog, as text or JSON (log.format). Each
// run ends with one summary line giving the files, records, total,
// rejections and duration; long conversions log their progress every few
// seconds. Student ids are masked (*****678, fees.MaskID) unless
// log.show_student_ids is set.
package main
