package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

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
// transaction. An expired lease is taken over too; the old owner's release
// then frees nothing. Other errors are the database's.
func (j *Journal) Lock(ctx context.Context, name string, ttl time.Duration) (release func(), err error) {
	owner := newOwner()
	now := j.now()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	defer tx.Rollback()
	var holder, expires string
	err = tx.QueryRowContext(ctx, `SELECT owner, expires FROM locks WHERE name = ?`, name).Scan(&holder, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("journal: lock %s: %w", name, err)
	case parseTime(expires).After(now) && !ownerIsGone(holder):
		return nil, fmt.Errorf("%w %s (held by %s until %s)", ErrLocked, name, holder, expires)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO locks(name, owner, expires) VALUES (?, ?, ?)
		 ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires`,
		name, owner, formatTime(now.Add(ttl))); err != nil {
		return nil, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	return func() {
		_, _ = j.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM locks WHERE name = ? AND owner = ?`, name, owner)
	}, nil
}
