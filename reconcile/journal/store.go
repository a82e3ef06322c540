package journal

import (
	"context"
	"database/sql"
	"sync"
)

// store is the journal's database handle, SQLite's or PostgreSQL's. The
// journal's statements are written once, in SQL both accept; what
// PostgreSQL spells differently (the placeholders "?" and "?N") is
// rewritten here, once per distinct statement. Wrapping the handle, not
// the driver, keeps the SQLite path exactly as it was (no rewrite at all)
// and gives PostgreSQL's write transactions one place to take the
// journal's lock.
type store struct {
	db *sql.DB
	pg *pgStore // nil for SQLite
}

// pgStore is what a PostgreSQL journal adds to its handle.
type pgStore struct {
	schema  string
	lockKey int64 // the advisory lock that serialises the journal's writers

	mu      sync.Mutex
	queries map[string]string // SQLite-spelled statement → PostgreSQL's
}

// maxCachedQueries bounds the rewrite cache: statements built per batch
// size (IN lists, multi-row inserts) are many but finite.
const maxCachedQueries = 4096

// query returns q as the store's database spells it.
func (s *store) query(q string) string {
	if s.pg == nil {
		return q
	}
	p := s.pg
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.queries[q]; ok {
		return r
	}
	r := postgresQuery(q)
	if len(p.queries) < maxCachedQueries {
		p.queries[q] = r
	}
	return r
}

func (s *store) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.query(q), args...)
}

func (s *store) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.query(q), args...)
}

// ExecContext runs a write. On PostgreSQL it runs in a transaction of its
// own that holds the journal's lock, as SQLite's single writer would.
func (s *store) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s.pg == nil {
		return s.db.ExecContext(ctx, q, args...)
	}
	var res sql.Result
	err := s.write(ctx, func(t querier) error {
		var err error
		res, err = t.ExecContext(ctx, q, args...)
		return err
	})
	return res, err
}

// write runs fn, a write that may read what it wrote (RETURNING), as one
// statement on SQLite, and in a transaction holding the journal's lock on
// PostgreSQL.
func (s *store) write(ctx context.Context, fn func(q querier) error) error {
	if s.pg == nil {
		return fn(s)
	}
	t, err := s.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	return t.Commit()
}

// BeginTx starts a transaction. On PostgreSQL a transaction that may
// write first takes the journal's advisory lock (pg_advisory_xact_lock,
// released at its end), so that the writers of one journal, in any
// process, run one at a time as on SQLite.
func (s *store) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if s.pg != nil && (opts == nil || !opts.ReadOnly) {
		if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.pg.lockKey); err != nil {
			t.Rollback()
			return nil, err
		}
	}
	return &tx{Tx: t, s: s}, nil
}

func (s *store) PingContext(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *store) Close() error { return s.db.Close() }

// tx is a transaction of the store, its statements rewritten as the
// store's.
type tx struct {
	*sql.Tx
	s *store
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.s.query(q), args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.s.query(q), args...)
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.s.query(q), args...)
}

func (t *tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, t.s.query(q))
}
