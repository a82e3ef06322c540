package journal

import (
	"context"
	"database/sql"
)

// cachedTx is a journal transaction that prepares each distinct query once
// and reuses the statement for the rest of the transaction.
//
// The pure-Go SQLite driver parses a query every time it is run
// unprepared, and the jobs run the same handful of statements for every
// batch of a file (README.md, "Performance and reliability", says what it
// saved).
type cachedTx struct {
	*tx
	stmts map[string]*sql.Stmt
}

func newCachedTx(t *tx) *cachedTx {
	return &cachedTx{tx: t, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns the prepared statement of query, preparing it the first
// time. Statements prepared on a transaction are closed with it. On
// PostgreSQL it returns nil: pgx keeps each connection's statements
// prepared itself, and preparing again per transaction would cost two
// round trips per statement (prepare, deallocate).
func (c *cachedTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if c.s.pg != nil {
		return nil, nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// QueryRowContext runs query as a prepared statement. A query that cannot
// be prepared runs unprepared, so that its error surfaces from Scan as
// before.
func (c *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs query as a prepared statement.
func (c *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.tx.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// ExecContext runs query as a prepared statement.
func (c *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.tx.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}
