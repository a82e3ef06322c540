package reconcile

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// ErrLocked is returned by [Journal.Lock] (and by every job) when another
// instance of the same job holds the lock and its lease has not expired.
var ErrLocked = errors.New("reconcile: another run of this job holds the lock")

// The outcomes a record key can have in the journal's records table.
const (
	OutcomeCharged   = "charged"   // a charge line decided into an output file
	OutcomeCredited  = "credited"  // a credit line decided into an output file
	OutcomeForwarded = "forwarded" // a payment decided into an Alma import file
	OutcomeWaived    = "waived"    // a waiver made through the Alma API
	OutcomeRejected  = "rejected"  // held, with a reason, until re-driven
	OutcomeDone      = "done"      // a webhook event fully handled
	OutcomeFailed    = "failed"    // a webhook event that failed; Alma redelivers it
)

// The kinds of record key.
const (
	KindCharge  = "charge"  // key: the fee's charge key, fees.ChargeKey(transaction id, fee type)
	KindCredit  = "credit"  // key: the charge key of the fee credited
	KindPayment = "payment" // key: the payment's key (PeopleSoft: receipt/reference/item type)
	KindWaiver  = "waiver"  // key: webhook event id + "/" + fee id
	KindEvent   = "event"   // key: webhook event id
)

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
//     forwarded, waived, rejected, done, failed), the input file (file_id),
//     the output file, the student, the fee, its type and item barcode, the
//     amount in minor units, the charge it refers to (ref), the channel of a
//     payment, the reason of a rejection and its fees error code, the
//     source line, and (seen_at)
//     when the library system was first seen to show a forwarded payment.
//     A record whose output file is not yet published (files.status =
//     'publishing') has been decided but is not yet delivered.
//   - locks: one row per job lock: owner and lease expiry.
//
// # Locking
//
// A job lock is a row with an owner and an expiry (a lease). A process that
// is killed leaves its row behind; the lock is free again once the lease
// expires. SQLite's own locking serialises the writes themselves.
type Journal struct {
	db  *sql.DB
	now func() time.Time
}

// JournalOptions are the optional settings of [OpenJournal].
type JournalOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// OpenJournal opens (creating if needed) the journal database at path and
// brings its schema up to date.
func OpenJournal(ctx context.Context, path string, opts *JournalOptions) (*Journal, error) {
	if opts == nil {
		opts = &JournalOptions{}
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
	db, err := sql.Open("sqlite", "file:"+name+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("reconcile: open journal %s: %w", path, err)
	}
	// One connection: the jobs write from one goroutine at a time and the
	// webhook handler waits its turn, so SQLite never answers "busy".
	db.SetMaxOpenConns(1)
	j := &Journal{db: db, now: opts.Now}
	if j.now == nil {
		j.now = time.Now
	}
	if err := j.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("reconcile: journal %s: %w", path, err)
	}
	return j, nil
}

// Close closes the database.
func (j *Journal) Close() error { return j.db.Close() }

// DB returns the underlying database, for reports and operators' queries.
func (j *Journal) DB() *sql.DB { return j.db }

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

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}

// newOwner returns a lock owner name unique to this process and call.
func newOwner() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Lock takes the lock called name for ttl and returns the function that
// releases it. It returns [ErrLocked] if another owner holds an unexpired
// lease on it, unless that owner was a process on this host that no longer
// runs (killed, say): its lease is then taken over at once, in the same
// transaction.
func (j *Journal) Lock(ctx context.Context, name string, ttl time.Duration) (release func(), err error) {
	owner := newOwner()
	now := j.now()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reconcile: lock %s: %w", name, err)
	}
	defer tx.Rollback()
	var holder, expires string
	err = tx.QueryRowContext(ctx, `SELECT owner, expires FROM locks WHERE name = ?`, name).Scan(&holder, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("reconcile: lock %s: %w", name, err)
	case parseTime(expires).After(now) && !ownerIsGone(holder):
		return nil, fmt.Errorf("%w %s (held by %s until %s)", ErrLocked, name, holder, expires)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO locks(name, owner, expires) VALUES (?, ?, ?)
		 ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires`,
		name, owner, formatTime(now.Add(ttl))); err != nil {
		return nil, fmt.Errorf("reconcile: lock %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("reconcile: lock %s: %w", name, err)
	}
	return func() {
		_, _ = j.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM locks WHERE name = ? AND owner = ?`, name, owner)
	}, nil
}

// Record is one row of the journal's records table: a record key and what
// was done with it.
type Record struct {
	Kind, Key string
	Outcome   string
	FileID    int64  // the input file's row in files, 0 if none
	File      string // the input file's name, when known
	Output    string // the output file it went into
	UserID    string
	FeeID     string
	FeeType   fees.Type
	Barcode   string
	Amount    fees.Money
	Ref       string // the charge a payment or credit is for: its charge key (see fees.ChargeKey)
	Channel   string
	Reason    string
	Code      string // the fees error code of a held record's refusal (fees.ErrorCode), when it has one
	Line      int
	Payload   string // the record as JSON, kept for rejected records so they can be re-driven
	Created   time.Time
	Updated   time.Time
}

// recordColumns reads a record; the output of a record sent in a file is
// its file's output (charges journaled in bulk do not repeat it).
const recordColumns = `r.kind, r.key, r.outcome, COALESCE(r.file_id, 0), COALESCE(f.name, ''),
	CASE WHEN r.output = '' AND r.outcome IN ('charged', 'credited', 'forwarded') THEN COALESCE(f.output, '') ELSE r.output END, r.user_id,
	r.fee_id, r.fee_type, r.barcode, r.amount, r.currency, r.ref, r.channel, r.reason, r.code, r.line, r.payload,
	r.created_at, r.updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanRecord(s scanner) (Record, error) {
	var r Record
	var typ, cur, created, updated string
	var amount int64
	err := s.Scan(&r.Kind, &r.Key, &r.Outcome, &r.FileID, &r.File, &r.Output, &r.UserID, &r.FeeID, &typ,
		&r.Barcode, &amount, &cur, &r.Ref, &r.Channel, &r.Reason, &r.Code, &r.Line, &r.Payload, &created, &updated)
	if err != nil {
		return r, err
	}
	r.FeeType = fees.Type(typ)
	r.Amount = amountOf(amount, cur)
	r.Created, r.Updated = parseTime(created), parseTime(updated)
	return r, nil
}

// Get returns the record of kind and key, and false if the journal has none.
func (j *Journal) Get(ctx context.Context, kind, key string) (Record, bool, error) {
	return getRecord(ctx, j.db, kind, key)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func getRecord(ctx context.Context, q querier, kind, key string) (Record, bool, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+`
		FROM records r LEFT JOIN files f ON f.id = r.file_id WHERE r.kind = ? AND r.key = ?`, kind, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("reconcile: journal: read %s %s: %w", kind, key, err)
	}
	return r, true, nil
}

// Records returns the records that match: kind and outcome may be empty
// for any. They come sorted by kind and key.
func (j *Journal) Records(ctx context.Context, kind, outcome string) ([]Record, error) {
	return queryRecords(ctx, j.db, `WHERE (? = '' OR r.kind = ?) AND (? = '' OR r.outcome = ?) ORDER BY r.kind, r.key`,
		kind, kind, outcome, outcome)
}

func queryRecords(ctx context.Context, q querier, where string, args ...any) ([]Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM records r LEFT JOIN files f ON f.id = r.file_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: journal: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// putRecord inserts or replaces r.
func putRecord(ctx context.Context, q querier, r Record, now time.Time) error {
	return putRecords(ctx, q, []Record{r}, now)
}

// upsertRows is how many records one statement of putRecords writes.
const upsertRows = 32

// upsertSQL returns the statement that inserts or replaces n records.
func upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO records(kind, key, outcome, file_id, output, user_id, fee_id, fee_type,
			barcode, amount, currency, ref, channel, reason, code, line, payload, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT(kind, key) DO UPDATE SET outcome = excluded.outcome, file_id = excluded.file_id,
			output = excluded.output, user_id = excluded.user_id, fee_id = excluded.fee_id,
			fee_type = excluded.fee_type, barcode = excluded.barcode, amount = excluded.amount,
			currency = excluded.currency, ref = excluded.ref, channel = excluded.channel,
			reason = excluded.reason, code = excluded.code, line = excluded.line, payload = excluded.payload,
			updated_at = excluded.updated_at`)
	return b.String()
}

var (
	upsertOne  = upsertSQL(1)
	upsertMany = upsertSQL(upsertRows)
)

// putRecords inserts or replaces recs, which must have distinct keys,
// upsertRows to a statement.
func putRecords(ctx context.Context, q querier, recs []Record, now time.Time) error {
	ts := formatTime(now)
	args := make([]any, 0, 19*min(len(recs), upsertRows))
	for len(recs) > 0 {
		n, query := 1, upsertOne
		if len(recs) >= upsertRows {
			n, query = upsertRows, upsertMany
		}
		args = args[:0]
		for _, r := range recs[:n] {
			amount, cur := minor(r.Amount)
			var fileID any
			if r.FileID != 0 {
				fileID = r.FileID
			}
			args = append(args, r.Kind, r.Key, r.Outcome, fileID, r.Output, r.UserID, r.FeeID, string(r.FeeType),
				r.Barcode, amount, cur, r.Ref, r.Channel, r.Reason, r.Code, r.Line, r.Payload, ts, ts)
		}
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			if n == 1 {
				return fmt.Errorf("reconcile: journal: write %s %s: %w", recs[0].Kind, recs[0].Key, err)
			}
			return fmt.Errorf("reconcile: journal: write %d records from %s %s: %w", n, recs[0].Kind, recs[0].Key, err)
		}
		recs = recs[n:]
	}
	return nil
}

// amountOf is the Money of a journal's amount and currency columns; the
// zero Money when the currency is not one.
func amountOf(units int64, cur string) fees.Money {
	if c := fees.Currency(cur); c.Valid() {
		return fees.FromMinor(units, c)
	}
	return fees.Money{}
}

// minor returns m in minor units and its currency code; the zero Money is 0, "".
func minor(m fees.Money) (int64, string) {
	if !m.Valid() {
		return 0, ""
	}
	u, _ := m.MinorUnits()
	return u, string(m.Currency())
}

// FileRecord is one row of the journal's files table.
type FileRecord struct {
	ID          int64
	Job         string
	Name        string
	SHA256      string
	Status      string
	Output      string
	Records     int
	Rejected    int
	Total       fees.Money
	Reason      string
	DuplicateOf int64
	Decided     time.Time
	Updated     time.Time
	Input       string // for a re-drive: the held records it took
}

const fileColumns = `id, job, name, sha256, status, output, records, rejected, total, currency, reason,
	COALESCE(duplicate_of, 0), decided_at, updated_at, input`

func scanFile(s scanner) (FileRecord, error) {
	var f FileRecord
	var total int64
	var cur, decided, updated string
	err := s.Scan(&f.ID, &f.Job, &f.Name, &f.SHA256, &f.Status, &f.Output, &f.Records, &f.Rejected, &total, &cur,
		&f.Reason, &f.DuplicateOf, &decided, &updated, &f.Input)
	if err != nil {
		return f, err
	}
	if c := fees.Currency(cur); c.Valid() {
		f.Total = fees.FromMinor(total, c)
	}
	f.Decided, f.Updated = parseTime(decided), parseTime(updated)
	return f, nil
}

// Files returns the files a job has seen (all jobs when job is ""), in the
// order they were first seen.
func (j *Journal) Files(ctx context.Context, job string) ([]FileRecord, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+fileColumns+` FROM files WHERE ? = '' OR job = ? ORDER BY id`, job, job)
	if err != nil {
		return nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	var out []FileRecord
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: journal: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// fileBySHA returns the files of job with the given content, best first:
// a published or done one before others.
func fileBySHA(ctx context.Context, q querier, job, sha string) ([]FileRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+fileColumns+` FROM files WHERE job = ? AND sha256 = ?
		ORDER BY CASE status WHEN 'published' THEN 0 WHEN 'done' THEN 0 WHEN 'publishing' THEN 1 ELSE 2 END, id`, job, sha)
	if err != nil {
		return nil, fmt.Errorf("reconcile: journal: %w", err)
	}
	defer rows.Close()
	var out []FileRecord
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func insertFile(ctx context.Context, q querier, f FileRecord, now time.Time) (int64, error) {
	total, cur := minor(f.Total)
	var dup any
	if f.DuplicateOf != 0 {
		dup = f.DuplicateOf
	}
	decided := f.Decided
	if decided.IsZero() {
		decided = now
	}
	res, err := q.ExecContext(ctx, `INSERT INTO files(job, name, sha256, status, output, records, rejected, total, currency,
			reason, duplicate_of, decided_at, updated_at, input) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.Job, f.Name, f.SHA256, f.Status, f.Output, f.Records, f.Rejected, total, cur, f.Reason, dup,
		formatTime(decided), formatTime(now), f.Input)
	if err != nil {
		return 0, fmt.Errorf("reconcile: journal: file %s: %w", f.Name, err)
	}
	return res.LastInsertId()
}

func updateFile(ctx context.Context, q querier, f FileRecord, now time.Time) error {
	total, cur := minor(f.Total)
	decided := f.Decided
	if decided.IsZero() {
		decided = now
	}
	_, err := q.ExecContext(ctx, `UPDATE files SET status = ?, output = ?, records = ?, rejected = ?, total = ?,
			currency = ?, reason = ?, decided_at = ?, updated_at = ? WHERE id = ?`,
		f.Status, f.Output, f.Records, f.Rejected, total, cur, f.Reason, formatTime(decided), formatTime(now), f.ID)
	if err != nil {
		return fmt.Errorf("reconcile: journal: file %s: %w", f.Name, err)
	}
	return nil
}

func setFileStatus(ctx context.Context, q querier, id int64, status string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE files SET status = ?, updated_at = ? WHERE id = ?`, status, formatTime(now), id)
	if err != nil {
		return fmt.Errorf("reconcile: journal: file %d: %w", id, err)
	}
	return nil
}

// outstanding returns what the bursar still holds of the charge with
// bursar transaction id txid, as the journal knows it: the amount charged,
// less the payments forwarded and the credits sent for it (but not the
// record of kind/key except, so that re-deciding a record does not count
// itself). ok is false when no charge of that id was sent.
func outstanding(ctx context.Context, q querier, txid, exceptKind, exceptKey string) (charge Record, left fees.Money, ok bool, err error) {
	charge, ok, err = getRecord(ctx, q, KindCharge, txid)
	if err != nil || !ok || charge.Outcome != OutcomeCharged {
		return charge, fees.Money{}, false, err
	}
	var taken int64
	// "ref != ''" lets SQLite use the partial index records_ref; without
	// it every payment scanned the whole table.
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM records
		WHERE ref = ? AND ref != '' AND outcome IN ('forwarded', 'credited') AND currency = ? AND NOT (kind = ? AND key = ?)`,
		txid, string(charge.Amount.Currency()), exceptKind, exceptKey).Scan(&taken)
	if err != nil {
		return charge, fees.Money{}, false, fmt.Errorf("reconcile: journal: balance of %s: %w", txid, err)
	}
	u, _ := charge.Amount.MinorUnits()
	return charge, fees.FromMinor(u-taken, charge.Amount.Currency()), true, nil
}
