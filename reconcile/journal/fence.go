package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// fenceKey is the context key of a fence.
type fenceKey struct{}

// WithFence returns a context whose journal writes are fenced by the
// lease l: each checks, in its own transaction, that l.Owner still holds
// l.Name under l.Token, and fails with an error wrapping [ErrLeaseLost]
// otherwise, writing nothing. A holder that was paused or cut off while
// another took its lease over can then commit no decision when it wakes.
//
// The check is an update of the lease's row in the write's transaction:
// on SQLite the transaction holds the database's write lock from its
// start, and on a database with row locks the row stays locked until the
// commit, so that no takeover commits between the check and the write.
func WithFence(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, fenceKey{}, l)
}

// FenceOf returns the lease that fences ctx's writes, and false if none
// does (see [WithFence]).
func FenceOf(ctx context.Context) (Lease, bool) {
	l, ok := ctx.Value(fenceKey{}).(Lease)
	return l, ok
}

// execer is what checkFence needs of a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// checkFence checks, in tx, the fence of ctx if it has one: lost is
// true when ctx's lease is no longer held under its token.
func (j *Journal) checkFence(ctx context.Context, tx execer) (lost bool, err error) {
	l, ok := FenceOf(ctx)
	if !ok {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE locks SET token = token WHERE name = ? AND owner = ? AND token = ?`, l.Name, l.Owner, l.Token)
	if err != nil {
		return false, fmt.Errorf("journal: fence %s: %w", l.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("journal: fence %s: %w", l.Name, err)
	}
	return n == 0, nil
}

// begin starts a write transaction, fenced when ctx has a fence.
func (j *Journal) begin(ctx context.Context) (*tx, error) {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	lost, err := j.checkFence(ctx, tx)
	if err != nil || lost {
		// Rolled back first: the SQLite journal has one connection,
		// which lostErr needs.
		tx.Rollback()
	}
	if err != nil {
		return nil, err
	}
	if lost {
		l, _ := FenceOf(ctx)
		return nil, j.lostErr(ctx, l)
	}
	return tx, nil
}

// exec runs one write statement; when ctx has a fence, in a transaction
// of its own that checks the fence first.
func (j *Journal) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, ok := FenceOf(ctx); !ok {
		return j.db.ExecContext(ctx, query, args...)
	}
	tx, err := j.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// write runs fn over the database; when ctx has a fence, over a
// transaction of its own that checks the fence first, committed when fn
// succeeds.
func (j *Journal) write(ctx context.Context, fn func(q querier) error) error {
	if _, ok := FenceOf(ctx); !ok {
		return j.db.write(ctx, fn)
	}
	tx, err := j.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
