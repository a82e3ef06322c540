package journal

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The environment variables that give a PostgreSQL journal's password
// when its DSN has none: the password itself, or a file holding it.
const (
	EnvPassword     = "FEEBRIDGE_JOURNAL_PASSWORD"
	EnvPasswordFile = "FEEBRIDGE_JOURNAL_PASSWORD_FILE"
)

// IsPostgres reports whether path names a PostgreSQL journal (a DSN
// postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgres(path string) bool {
	return strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
}

// Redact returns path with the password of a PostgreSQL DSN hidden, for
// errors and logs; a SQLite path is returned as it is.
func Redact(path string) string {
	if !IsPostgres(path) {
		return path
	}
	u, err := url.Parse(path)
	if err != nil {
		return "postgres://(a DSN that cannot be read)"
	}
	return u.Redacted()
}

// schemaName is what the feebridge parameter schema= accepts: a plain
// lower-case PostgreSQL name, used unquoted.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// pgDSN is a PostgreSQL journal's DSN read: pgx's configuration (the
// password set) and the schema the journal lives in.
type pgDSN struct {
	config   *pgx.ConnConfig
	schema   string
	password string
}

// parsePostgres reads the DSN path: it strips feebridge's own parameter
// schema=NAME (default public) and, when the DSN has no password, takes
// it from FEEBRIDGE_JOURNAL_PASSWORD or the file FEEBRIDGE_JOURNAL_PASSWORD_FILE
// names (looked up with getenv).
func parsePostgres(path string, getenv func(string) string) (pgDSN, error) {
	u, err := url.Parse(path)
	if err != nil {
		return pgDSN{}, fmt.Errorf("the DSN cannot be read (postgres://user@host:port/database?schema=name)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return pgDSN{}, fmt.Errorf("the DSN's parameters cannot be read: %w", err)
	}
	d := pgDSN{schema: "public"}
	if s := q.Get("schema"); s != "" {
		if !schemaName.MatchString(s) {
			return pgDSN{}, fmt.Errorf("schema=%q: a schema is lower-case letters, digits and _, starting with a letter or _ (at most 63)", s)
		}
		d.schema = s
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	if pw, ok := u.User.Password(); ok {
		d.password = pw
	} else if d.password, err = envPassword(getenv); err != nil {
		return pgDSN{}, err
	}
	d.config, err = pgx.ParseConfig(u.String())
	if err != nil {
		return pgDSN{}, errors.New(strings.ReplaceAll(err.Error(), d.password, "xxxxx"))
	}
	if d.password != "" {
		d.config.Password = d.password
	}
	d.config.RuntimeParams["search_path"] = d.schema
	d.config.RuntimeParams["application_name"] = "feebridge"
	if _, ok := d.config.RuntimeParams["jit"]; !ok {
		// The journal's statements are short, over a batch each; the
		// server compiled one whose estimate passed jit_above_cost (a
		// batch's charges with their payments summed) at every run,
		// tens of milliseconds each time. A DSN's jit=on still wins.
		d.config.RuntimeParams["jit"] = "off"
	}
	return d, nil
}

// envPassword is the password that FEEBRIDGE_JOURNAL_PASSWORD gives, or
// the first line of the file FEEBRIDGE_JOURNAL_PASSWORD_FILE names; "" if
// neither is set.
func envPassword(getenv func(string) string) (string, error) {
	if pw := getenv(EnvPassword); pw != "" {
		return pw, nil
	}
	name := getenv(EnvPasswordFile)
	if name == "" {
		return "", nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvPasswordFile, err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("%s: %s holds no password", EnvPasswordFile, name)
	}
	return pw, nil
}

// lockKey is the advisory lock of the journal in schema: one per schema
// (advisory locks are per database already).
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("feebridge journal " + schema))
	return int64(h.Sum64())
}

// openPostgres opens the PostgreSQL journal of the DSN path and brings
// its schema up to date.
func openPostgres(ctx context.Context, path string, opts *Options) (*Journal, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	shown := Redact(path)
	d, err := parsePostgres(path, getenv)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", shown, err)
	}
	db := stdlib.OpenDB(*d.config)
	// A few connections: readers (the status page, the webhook listener)
	// need not wait for a writer, whose transactions hold the journal's
	// lock anyway.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	j := &Journal{db: &store{db: db, pg: &pgStore{schema: d.schema, lockKey: lockKey(d.schema), queries: map[string]string{}}}, now: opts.Now, instance: opts.Instance}
	if j.now == nil {
		j.now = time.Now
	}
	if opts.AsIs {
		return j, nil
	}
	if err := j.migratePostgres(ctx, opts); err != nil {
		db.Close()
		msg := err.Error()
		if d.password != "" {
			msg = strings.ReplaceAll(msg, d.password, "xxxxx")
			return nil, fmt.Errorf("journal %s: %s", shown, msg)
		}
		return nil, fmt.Errorf("journal %s: %w", shown, err)
	}
	return j, nil
}

// versionTable keeps a PostgreSQL journal's schema version (SQLite's is
// PRAGMA user_version), one row, in the journal's own schema.
const versionTable = "journal_schema_version"

// migratePostgres brings the schema up to date, one migration per
// transaction, each under the journal's lock: two processes starting at
// once do not race (the second finds the work done).
func (j *Journal) migratePostgres(ctx context.Context, opts *Options) error {
	for {
		done, err := j.migrateOnePostgres(ctx, opts)
		if err != nil || done {
			return err
		}
		opts = &Options{Now: opts.Now} // only the first step checks existence
	}
}

func (j *Journal) migrateOnePostgres(ctx context.Context, opts *Options) (done bool, err error) {
	t, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer t.Rollback()
	schema := j.db.pg.schema
	// Created only when missing: a service role that may use the
	// journal's tables but create nothing opens an up-to-date journal.
	if err := createMissing(ctx, t, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)`,
		[]any{schema}, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return false, fmt.Errorf("create schema %s: %w", schema, err)
	}
	if err := createMissing(ctx, t, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = ? AND tablename = ?)`,
		[]any{schema, versionTable}, `CREATE TABLE IF NOT EXISTS `+versionTable+` (version BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	var version int
	switch err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+versionTable).Scan(&version); {
	case err != nil:
		return false, fmt.Errorf("read schema version: %w", err)
	case version > len(migrations):
		return false, fmt.Errorf("schema version %d is newer than this program knows (%d)", version, len(migrations))
	case version == 0 && opts.MustExist:
		return false, fmt.Errorf("schema %s holds no journal: %w", schema, ErrNoJournal)
	case version > 0 && opts.mustBeNew:
		return false, fmt.Errorf("schema %s: %w", schema, ErrJournalExists)
	case version == len(migrations):
		return true, nil
	}
	if _, err := t.ExecContext(ctx, postgresDDL(migrations[version])); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	if _, err := t.ExecContext(ctx, `DELETE FROM `+versionTable); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO `+versionTable+` (version) VALUES (?)`, version+1); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	return false, t.Commit()
}

// createMissing runs create when exists (a query of one boolean) says
// the object is missing.
func createMissing(ctx context.Context, t *tx, exists string, args []any, create string) error {
	var found bool
	if err := t.QueryRowContext(ctx, exists, args...).Scan(&found); err != nil || found {
		return err
	}
	_, err := t.ExecContext(ctx, create)
	return err
}

// ErrBackupPostgres is the error of [Journal.Backup] on a PostgreSQL
// journal: the database is backed up with its own tools.
var ErrBackupPostgres = errors.New("journal: backup: this journal is in PostgreSQL; back the database up with its own tools (pg_dump, or the server's base backups and WAL archive), not feesync backup")

// postgresSize is the bytes the tables of the journal's schema take, with
// their indexes and TOAST (pg_total_relation_size).
func (j *Journal) postgresSize(ctx context.Context) (int64, error) {
	var n int64
	err := j.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ? AND c.relkind IN ('r', 'p')`, j.db.pg.schema).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("journal: size: %w", err)
	}
	return n, nil
}

// checkPostgres is PostgreSQL's counterpart of SQLite's integrity check:
// the schema is at the version this program knows, every table of the
// journal's schema reads to its end, and no index of the schema is left invalid
// (a failed CREATE INDEX CONCURRENTLY, say). Corruption of the files
// underneath is the server's to find (data checksums, amcheck).
func (j *Journal) checkPostgres(ctx context.Context) error {
	var version int
	if err := j.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+versionTable).Scan(&version); err != nil {
		return fmt.Errorf("journal: integrity check: %w", err)
	}
	if version != len(migrations) {
		return fmt.Errorf("journal: integrity check: schema version %d, this program knows %d", version, len(migrations))
	}
	tables, err := queryStrings(ctx, j.db, `SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY 1`, j.db.pg.schema)
	if err != nil {
		return fmt.Errorf("journal: integrity check: %w", err)
	}
	var problems []string
	for _, table := range tables {
		var n int64
		if err := j.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			problems = append(problems, fmt.Sprintf("table %s: %v", table, err))
		}
	}
	invalid, err := queryStrings(ctx, j.db, `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND NOT i.indisvalid ORDER BY 1`, j.db.pg.schema)
	if err != nil {
		return fmt.Errorf("journal: integrity check: %w", err)
	}
	for _, name := range invalid {
		problems = append(problems, "index "+name+" is invalid (rebuild it with REINDEX)")
	}
	if len(problems) > 0 {
		return fmt.Errorf("journal: integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}
