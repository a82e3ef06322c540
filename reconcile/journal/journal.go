// Package journal is the durable memory of feebridge's jobs: every file
// seen, every record key and what was done with it, the webhook events,
// and the locks that keep one run of a job at a time. It owns every SQL
// statement of feebridge; the jobs in package reconcile see it through
// the interface reconcile.Store, which a journal of another database
// implements as well (package journaltest checks that it does).
//
// The journal is a SQLite database (modernc.org/sqlite, no cgo) in WAL
// mode that an operator can read with the sqlite3 command, or a database
// in memory ([OpenMemory]) for a run that must leave nothing behind, or,
// for a district or a consortium, a schema of a PostgreSQL database
// ([Open] with a postgres:// DSN; pgx's database/sql driver).
//
// Both stores run the same statements, written in SQL both accept; the
// few spellings PostgreSQL needs otherwise (placeholders $N, a JSON list
// read back as rows) are rewritten once per statement, and the one list
// of migrations is translated for PostgreSQL mechanically (identity
// keys, BIGINT, TEXT that sorts bytewise as in SQLite). On PostgreSQL
// every write transaction first takes an advisory lock of the journal's
// schema, so that the writers of one journal, in any process, run one at
// a time as SQLite's do. The DSN's own parameter schema=NAME puts the
// journal in that schema; the password comes from the DSN or from
// FEEBRIDGE_JOURNAL_PASSWORD or FEEBRIDGE_JOURNAL_PASSWORD_FILE, and
// errors show the DSN redacted ([Redact]).
//
// An operator reads the SQLite journal with the sqlite3 command, for
// example the records held back:
//
//	sqlite3 journal.db "SELECT kind, key, code, reason FROM records WHERE outcome = 'rejected'"
//
// and a PostgreSQL journal with psql, in its schema:
//
//	psql "$DSN" -c "SELECT kind, key, code, reason FROM arc.records WHERE outcome = 'rejected'"
package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// ErrLocked is returned by [Journal.Lock] (and by every job) when another
// instance of the same job holds the lock and its lease has not expired.
var ErrLocked = errors.New("journal: another run of this job holds the lock")

// The outcomes a record key can have in the journal's records table.
const (
	OutcomeCharged   = "charged"   // a charge line decided into an output file
	OutcomeCredited  = "credited"  // a credit line decided into an output file
	OutcomeForwarded = "forwarded" // a payment decided into an Alma import file
	OutcomeWaived    = "waived"    // a waiver made through the Alma API
	OutcomeRejected  = "rejected"  // held, with a reason, until re-driven
	OutcomeDone      = "done"      // a webhook event fully handled
	OutcomeFailed    = "failed"    // a webhook event that failed for good (a permanent error, or retries given up)
	OutcomePending   = "pending"   // a webhook event journaled, not handled yet (or being retried)
	OutcomeDisputed  = "disputed"  // a lost-item fee of a returned item left for staff: it is in dispute
	OutcomeRefunded  = "refunded"  // a refund line decided into an output file (R8)
)

// The kinds of record key.
const (
	KindCharge  = "charge"  // key: the fee's charge key, fees.ChargeKey(transaction id, fee type)
	KindCredit  = "credit"  // key: the charge key of the fee credited
	KindPayment = "payment" // key: the payment's key (PeopleSoft: receipt/reference/item type)
	KindWaiver  = "waiver"  // key: webhook event id + "/" + fee id
	KindEvent   = "event"   // key: webhook event id
	KindRefund  = "refund"  // key: the charge key of the fee refunded (R8); ref: the same
	// KindResult: a line of the bursar's load results that could not be
	// matched or read; key: the results file and line.
	KindResult = "result"
)

// CodeBursarRefused is the code of a record held because the bursar's
// load refused it after it was sent (its reason carries the load's
// message): "sent, refused by PeopleSoft", as against a record held
// before it was ever sent.
const CodeBursarRefused = "BURSAR_REFUSED"

// The states of a file in the journal's files table.
const (
	FileDeciding   = "deciding"   // being decoded (never committed in this state)
	FilePublishing = "publishing" // decided and journaled; the output may not be in place yet
	FilePublished  = "published"  // the output is in place
	FileDone       = "done"       // nothing to publish (every record skipped or held)
	FileDuplicate  = "duplicate"  // the same content was seen before under another name
	FileFailed     = "failed"     // the file could not be read; it went to failed/
)

// Journal is the durable memory of the jobs: every file seen, every record
// key and what was done with it, and the locks that keep one run of a job
// at a time. It is a SQLite database (modernc.org/sqlite, no cgo) in WAL
// mode that an operator can read with the sqlite3 command.
//
// # Tables
//
//   - files: one row per inbound file seen by a job: job, name, sha256,
//     status (deciding, publishing, published, done, duplicate, failed),
//     the output file name, record and rejection counts, the total in minor
//     units, the reason of a failure, and when it was decided.
//   - records: one row per (kind, key): its outcome (charged, credited,
//     forwarded, waived, rejected, pending, done, failed, disputed), the input file (file_id),
//     the output file, the student, the fee, its type and item barcode, the
//     amount in minor units, the charge it refers to (ref), the channel of a
//     payment, the reason of a rejection and its fees error code, the
//     source line, (seen_at)
//     when the library system was first seen to show a forwarded payment,
//     and the college a charge was routed to (college).
//     A webhook event (kind event) is pending until it is done or failed,
//     with the attempts made at it and when the next is due (attempts,
//     next_at; see [Event]).
//     A record whose output file is not yet published (files.status =
//     'publishing') has been decided but is not yet delivered.
//   - locks: one row per job lock: owner and lease expiry.
//   - sightings: one row per file of an inbound folder not yet claimed:
//     job, name, size, modification time and when it was first seen so
//     (see [Sighting]).
//
// # Locking
//
// A job lock is a row with an owner and an expiry (a lease). A process that
// is killed leaves its row behind; the lock is free again once the lease
// expires, at once for a process of this host that no longer runs, or when
// an operator breaks it ([Journal.Leases], [Journal.BreakLease]). SQLite's
// own locking serialises the writes themselves (on PostgreSQL, the
// journal's advisory lock).
type Journal struct {
	db  *store
	now func() time.Time
}

// Options are the optional settings of [Open].
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MustExist makes Open refuse a journal file that is missing or empty
	// (0 bytes), with an error that wraps [ErrNoJournal] and names the
	// path, rather than create a new journal there: a program that finds
	// its journal gone must not start again from nothing. [Create] makes
	// a new journal.
	MustExist bool
	// AsIs opens the journal without bringing its schema up to date: the
	// source of [Copy], which must not be changed by being read.
	AsIs bool
	// Getenv looks up the environment variables of a PostgreSQL journal's
	// password (EnvPassword, EnvPasswordFile); os.Getenv when nil.
	Getenv func(string) string

	mustBeNew bool // Create on PostgreSQL: refuse a schema with a journal
}

// Open opens (creating if needed) the journal database at path and brings
// its schema up to date. The path ":memory:" opens a journal in memory,
// gone when it is closed (feesync convert runs the jobs over one). A
// path starting postgres:// or postgresql:// is the DSN of a PostgreSQL
// journal (see the package comment); its schema is created and migrated
// under the journal's lock, so that two processes may open it at once.
//
// It fails if the database cannot be opened, or if its schema is newer
// than this program knows.
func Open(ctx context.Context, path string, opts *Options) (*Journal, error) {
	if opts == nil {
		opts = &Options{}
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, opts)
	}
	if opts.MustExist && path != Memory {
		if err := mustExist(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	// FULL: a commit is on disk before the jobs go on (publish, move), even
	// across a power cut. Commits are per file, not per record.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// 4 MiB of page cache: enough that a big file's decision spills little
	// to the WAL before its commit, small enough to keep a million-fee run
	// within the jobs' memory budget.
	q.Add("_pragma", "cache_size(-4096)")
	// Statement journals in memory: an upsert keeps one while it runs, and
	// as a file that was a write system call per page touched.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	// The name is a URI: escape what would end its path.
	name := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if path == Memory {
		// One connection holds the database; it is never closed before
		// the journal is (no idle limit, see below).
		name = ":memory:"
	}
	db, err := sql.Open("sqlite", "file:"+name+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	// One connection: the jobs write from one goroutine at a time and the
	// webhook handler waits its turn, so SQLite never answers "busy".
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	j := &Journal{db: &store{db: db}, now: opts.Now}
	if j.now == nil {
		j.now = time.Now
	}
	if opts.AsIs {
		return j, nil
	}
	if err := j.migrate(ctx); err != nil {
		db.Close()
		return nil, openErr(path, err)
	}
	return j, nil
}

// Close closes the database.
func (j *Journal) Close() error { return j.db.Close() }

// Memory is the path that [Open] takes for a journal in memory.
const Memory = ":memory:"

// OpenMemory opens a new journal in memory: the jobs run over it as over
// a file, and what it holds is gone when it is closed.
func OpenMemory(ctx context.Context, opts *Options) (*Journal, error) {
	return Open(ctx, Memory, opts)
}

// Ping checks that the database answers.
func (j *Journal) Ping(ctx context.Context) error {
	if err := j.db.PingContext(ctx); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// migrations bring the schema from version i to i+1; the version is kept in
// PRAGMA user_version.
var migrations = []string{
	`CREATE TABLE files (
		id         INTEGER PRIMARY KEY,
		job        TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		sha256     TEXT    NOT NULL,
		status     TEXT    NOT NULL,
		output     TEXT    NOT NULL DEFAULT '',
		records    INTEGER NOT NULL DEFAULT 0,
		rejected   INTEGER NOT NULL DEFAULT 0,
		total      INTEGER NOT NULL DEFAULT 0,
		currency   TEXT    NOT NULL DEFAULT '',
		reason     TEXT    NOT NULL DEFAULT '',
		duplicate_of INTEGER REFERENCES files(id),
		decided_at TEXT    NOT NULL,
		updated_at TEXT    NOT NULL
	);
	CREATE INDEX files_sha ON files(job, sha256);
	CREATE TABLE records (
		kind       TEXT    NOT NULL,
		key        TEXT    NOT NULL,
		outcome    TEXT    NOT NULL,
		file_id    INTEGER REFERENCES files(id),
		output     TEXT    NOT NULL DEFAULT '',
		user_id    TEXT    NOT NULL DEFAULT '',
		fee_id     TEXT    NOT NULL DEFAULT '',
		fee_type   TEXT    NOT NULL DEFAULT '',
		barcode    TEXT    NOT NULL DEFAULT '',
		amount     INTEGER NOT NULL DEFAULT 0,
		currency   TEXT    NOT NULL DEFAULT '',
		ref        TEXT    NOT NULL DEFAULT '',
		channel    TEXT    NOT NULL DEFAULT '',
		reason     TEXT    NOT NULL DEFAULT '',
		line       INTEGER NOT NULL DEFAULT 0,
		payload    TEXT    NOT NULL DEFAULT '',
		created_at TEXT    NOT NULL,
		updated_at TEXT    NOT NULL,
		PRIMARY KEY (kind, key)
	) WITHOUT ROWID;
	CREATE INDEX records_ref ON records(ref) WHERE ref != '';
	CREATE INDEX records_user ON records(user_id, kind);
	CREATE INDEX records_outcome ON records(outcome, kind);
	CREATE INDEX records_file ON records(file_id);
	CREATE TABLE locks (
		name    TEXT PRIMARY KEY,
		owner   TEXT NOT NULL,
		expires TEXT NOT NULL
	);`,
	// 2: the input of a re-drive (the held records it took), so that a
	// crashed re-drive can be finished with the same output.
	`ALTER TABLE files ADD COLUMN input TEXT NOT NULL DEFAULT '';`,
	// 3: lighter inserts for the charges path: held records get a small
	// partial index, the two indexes no query needs are dropped.
	`DROP INDEX records_outcome;
	DROP INDEX records_file;
	CREATE INDEX records_held ON records(kind) WHERE outcome IN ('rejected', 'failed');`,
	// 4: charges and credits are keyed by charge key (transaction id "/"
	// fee type), since Alma shares one transaction id between fees of
	// different types; payments and credits name their charge so in ref.
	// Keys of held records without a known type are left as they were.
	`UPDATE records SET ref = ref || '/' || (SELECT c.fee_type FROM records c WHERE c.kind = 'charge' AND c.key = records.ref)
		WHERE kind IN ('payment', 'credit') AND ref != '' AND instr(ref, '/') = 0
		AND EXISTS (SELECT 1 FROM records c WHERE c.kind = 'charge' AND c.key = records.ref AND c.fee_type != '');
	UPDATE records SET key = key || '/' || fee_type
		WHERE kind IN ('charge', 'credit') AND fee_type NOT IN ('', 'CREDIT') AND instr(key, '/') = 0 AND instr(key, ':') = 0;`,
	// 5: the index by student covers charges alone, the only records
	// looked up by student (a credit's charge, the reconciliation), so
	// that journaling a payment updates one index fewer.
	`DROP INDEX records_user;
	CREATE INDEX records_user ON records(user_id) WHERE kind = 'charge';`,
	// 6: when the library system was first seen to show a forwarded
	// payment, so that the daily report stops asking about it.
	`ALTER TABLE records ADD COLUMN seen_at TEXT NOT NULL DEFAULT '';`,
	// 7: the code of the rule that held a record (fees.ErrorCode of the
	// refusal: overpayment, partial_waiver, …), so that it reaches the
	// report; empty for a record held for another cause.
	`ALTER TABLE records ADD COLUMN code TEXT NOT NULL DEFAULT '';`,
	// 8: the files of the inbound folders as each job last saw them
	// change (size, modification time, first seen then), so that a file is
	// claimed only once it has stopped changing; see Sighting.
	`CREATE TABLE sightings (
		job        TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		size       INTEGER NOT NULL,
		mod_time   TEXT    NOT NULL,
		first_seen TEXT    NOT NULL,
		PRIMARY KEY (job, name)
	) WITHOUT ROWID;`,
	// 9: when each job that watches its
	// inbound folder first ran, so that a folder that never received a
	// file is noticed too.
	`CREATE TABLE job_runs (
		job       TEXT PRIMARY KEY,
		first_run TEXT NOT NULL
	);`,
	// 10: held records, conflicts and their life cycle: the record's own
	// date (a payment's paid date, YYYY-MM-DD), so that a re-send with
	// another date is told from the same record; for a record held under
	// its place in the file, the key it was partly read as (for_key), so
	// that a record going through later under that key supersedes it; and
	// held_log, the audit trail of the held records closed: dismissed by
	// an operator, or superseded. Rows of older versions keep '' in both
	// columns, and are compared on what they have.
	`ALTER TABLE records ADD COLUMN dated TEXT NOT NULL DEFAULT '';
	ALTER TABLE records ADD COLUMN for_key TEXT NOT NULL DEFAULT '';
	CREATE INDEX records_for_key ON records(kind, for_key) WHERE for_key != '';
	CREATE TABLE held_log (
		id          INTEGER PRIMARY KEY,
		kind        TEXT    NOT NULL,
		key         TEXT    NOT NULL,
		action      TEXT    NOT NULL,
		actor       TEXT    NOT NULL,
		reason      TEXT    NOT NULL,
		at          TEXT    NOT NULL,
		file_id     INTEGER REFERENCES files(id),
		line        INTEGER NOT NULL DEFAULT 0,
		user_id     TEXT    NOT NULL DEFAULT '',
		amount      INTEGER NOT NULL DEFAULT 0,
		currency    TEXT    NOT NULL DEFAULT '',
		code        TEXT    NOT NULL DEFAULT '',
		held_reason TEXT    NOT NULL DEFAULT '',
		held_at     TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX held_log_key ON held_log(kind, key);`,
	// 11: the journal's identity and publish sequence (see
	// stamp.go): a random id made once, the last publish sequence, the
	// sequence of each published file, and the acceptances of drop marks
	// an operator made after a restore (an audit trail).
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID;
	INSERT INTO meta(key, value) VALUES ('journal_id', lower(hex(randomblob(16)))), ('publish_seq', '0');
	ALTER TABLE files ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE acceptances (
		id           INTEGER PRIMARY KEY,
		mark         TEXT    NOT NULL,
		mark_journal TEXT    NOT NULL,
		mark_seq     INTEGER NOT NULL,
		mark_output  TEXT    NOT NULL DEFAULT '',
		unknown      TEXT    NOT NULL DEFAULT '',
		journal_seq  INTEGER NOT NULL,
		reason       TEXT    NOT NULL,
		accepted_at  TEXT    NOT NULL
	);`,
	// 12: webhook events are durable. The listener journals each as
	// pending; feesync handles it from the journal with its own retries:
	// attempts made and when the next is due (see events.go). Events that
	// failed under the old scheme (Alma was to deliver them again) become
	// pending, due at once, since a delivery of a journaled event is now a
	// no-op.
	`ALTER TABLE records ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE records ADD COLUMN next_at TEXT NOT NULL DEFAULT '';
	UPDATE records SET outcome = 'pending', next_at = updated_at WHERE kind = 'event' AND outcome = 'failed';
	CREATE INDEX records_events_due ON records(next_at) WHERE kind = 'event' AND outcome = 'pending';`,
	// 13 (mail): the open alerts, one row per problem (a job failing, a
	// run holding records, a schedule overdue), so that a problem is
	// mailed once, not at every retry, and again only once it was
	// resolved (see alerts.go).
	`CREATE TABLE alerts (
		key       TEXT PRIMARY KEY,
		summary   TEXT NOT NULL,
		opened_at TEXT NOT NULL,
		seen_at   TEXT NOT NULL,
		count     INTEGER NOT NULL DEFAULT 1
	) WITHOUT ROWID;`,
	// 14 (runs): the history of every run of every job, whoever started
	// it (serve, cron, the command line), for the status page, /readyz
	// and the metrics; see runs.go.
	`CREATE TABLE runs (
		id       INTEGER PRIMARY KEY,
		job      TEXT    NOT NULL,
		started  TEXT    NOT NULL,
		ended    TEXT    NOT NULL,
		outcome  TEXT    NOT NULL,
		files    INTEGER NOT NULL,
		records  INTEGER NOT NULL,
		held     INTEGER NOT NULL,
		amount   TEXT    NOT NULL,
		error    TEXT    NOT NULL,
		who      TEXT    NOT NULL
	);
	CREATE INDEX runs_job ON runs(job, id);`,
	// 15 (metrics2): what each run asked of Alma: the HTTP attempts it
	// made and the calls Alma said were left in the day's quota at its
	// last answer (-1: no answer said), so that the run history and
	// feebridge_alma_api_remaining cover runs made by cron and the
	// command line too; see runs.go.
	`ALTER TABLE runs ADD COLUMN alma_calls INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE runs ADD COLUMN alma_remaining INTEGER NOT NULL DEFAULT -1;`,
	// 16 (disagreements): what the newest reconciliation found, replaced
	// whole by each one, for the daily report's "needs staff".
	`CREATE TABLE disagreements (
		id             INTEGER PRIMARY KEY,
		found_at       TEXT    NOT NULL,
		user_id        TEXT    NOT NULL,
		fee_id         TEXT    NOT NULL,
		fee_type       TEXT    NOT NULL,
		transaction_id TEXT    NOT NULL,
		alma_status    TEXT    NOT NULL,
		alma           INTEGER NOT NULL,
		bursar         INTEGER NOT NULL,
		currency       TEXT    NOT NULL,
		problem        TEXT    NOT NULL
	);`,
	// 17 (job ends): the JOB_END deliveries of Alma's jobs, with their
	// counts (-1: the job sent none) and the export file each was
	// checked against, for the count check, the report and the metrics;
	// see jobends.go.
	`CREATE TABLE job_ends (
		instance_id  TEXT    PRIMARY KEY,
		event_id     TEXT    NOT NULL,
		job          TEXT    NOT NULL,
		job_id       TEXT    NOT NULL,
		name         TEXT    NOT NULL,
		status       TEXT    NOT NULL,
		status_desc  TEXT    NOT NULL,
		users        INTEGER NOT NULL,
		records      INTEGER NOT NULL,
		counters     TEXT    NOT NULL,
		started      TEXT    NOT NULL,
		ended        TEXT    NOT NULL,
		received     TEXT    NOT NULL,
		file         TEXT    NOT NULL DEFAULT '',
		file_users   INTEGER NOT NULL DEFAULT -1,
		file_records INTEGER NOT NULL DEFAULT -1,
		result       TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX job_ends_received ON job_ends(received);`,
	// 18 (quota): Alma's daily quota. alma_quota_days keeps, per day in
	// Alma's zone, the highest X-Exl-Api-Remaining heard (just after
	// Alma's midnight it is about the day's quota), so that a percentage
	// reserve survives a restart; alma_quota_notes keeps, per job, the
	// last time it deferred work or paused for the quota, for the daily
	// report and the status page; see quota.go.
	`CREATE TABLE alma_quota_days (
		day  TEXT PRIMARY KEY,
		peak INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE alma_quota_notes (
		job       TEXT PRIMARY KEY,
		at        TEXT    NOT NULL,
		remaining INTEGER NOT NULL,
		reserve   INTEGER NOT NULL,
		until     TEXT    NOT NULL,
		what      TEXT    NOT NULL
	) WITHOUT ROWID;`,
	// 19 (colleges): the college each charge was routed to when it was
	// decided, for the per-college figures of the reconciliation and the
	// daily report; '' in older rows and where no colleges are configured.
	`ALTER TABLE records ADD COLUMN college TEXT NOT NULL DEFAULT '';`,
	// 20 (owners): the library that owns a charge's (or credit's) fee,
	// so that a line the bursar refused, re-driven from the journal alone,
	// goes to the same college; '' in older rows.
	`ALTER TABLE records ADD COLUMN owner TEXT NOT NULL DEFAULT '';`,
}

func (j *Journal) migrate(ctx context.Context) error {
	var version int
	if err := j.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := j.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// timeFormat is how the journal writes times: UTC, sortable as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// at is t, or the journal's clock when t is zero.
func (j *Journal) at(t time.Time) time.Time {
	if t.IsZero() {
		return j.now()
	}
	return t
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}
