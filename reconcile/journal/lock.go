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

// ErrNoLease is returned by [Journal.BreakLease] when the lease to break is
// no longer there: released, or taken over by another owner since it was
// listed.
var ErrNoLease = errors.New("journal: no such lease")

// Lease is a job lock's row: the lock's name, the owner that holds it
// ("host/pid/random" for a lease taken by [Journal.Lock]) and when the
// lease expires. A lease of a killed process stays until it expires, is
// taken over, or is broken.
type Lease struct {
	Name    string
	Owner   string
	Expires time.Time
}

// Leases returns every lease in the journal, expired or not, sorted by
// name: what an operator lists before breaking one. It fails only when
// the database does.
func (j *Journal) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT name, owner, expires FROM locks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("journal: leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var expires string
		if err := rows.Scan(&l.Name, &l.Owner, &expires); err != nil {
			return nil, fmt.Errorf("journal: leases: %w", err)
		}
		l.Expires = parseTime(expires)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: leases: %w", err)
	}
	return out, nil
}

// BreakLease removes the lease l (as [Journal.Leases] listed it) so that
// the next run of its job starts at once. It is for an operator who knows
// that l.Owner no longer runs (a process killed on another host, say);
// breaking the lease of a running process lets two runs of a job overlap.
// Only the lease of l.Name held by l.Owner is removed: a lease taken over
// since it was listed is left alone. It returns [ErrNoLease] when l.Name
// is not held by l.Owner; other errors are the database's.
func (j *Journal) BreakLease(ctx context.Context, l Lease) error {
	res, err := j.db.ExecContext(ctx, `DELETE FROM locks WHERE name = ? AND owner = ?`, l.Name, l.Owner)
	if err != nil {
		return fmt.Errorf("journal: break lease %s: %w", l.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("journal: break lease %s: %w", l.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w %s held by %s", ErrNoLease, l.Name, l.Owner)
	}
	return nil
}
