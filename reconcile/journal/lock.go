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

// ErrLeaseLost is wrapped by the error of [Journal.RenewLease], and of
// every write made under a fence ([WithFence]), when the lease is no
// longer held by the holder the fence names: another owner took it over
// (it had expired, or its holder was seen gone), or an operator broke it.
// A holder that gets it must stop deciding: what it would commit is
// refused.
var ErrLeaseLost = errors.New("journal: the lease was lost")

// Lock takes the lock called name for ttl and returns the function that
// releases it. It is [Journal.TakeLease] for a caller that neither renews
// nor fences; see there.
func (j *Journal) Lock(ctx context.Context, name string, ttl time.Duration) (release func(), err error) {
	l, err := j.TakeLease(ctx, name, ttl)
	if err != nil {
		return nil, err
	}
	return func() { j.ReleaseLease(context.WithoutCancel(ctx), l) }, nil
}

// TakeLease takes the lease called name for ttl and returns it, with its
// fencing token: one more than the token of the lease's last holder, so
// that a token grows at every new holder, and a write fenced by an older
// one ([WithFence]) is refused. It returns [ErrLocked] if another owner
// holds an unexpired lease on it, unless that owner was a process on this
// host that no longer runs (killed, say): its lease is then taken over at
// once. An expired lease is taken over too; the old owner's renewal and
// release then do nothing. Other errors are the database's.
//
// The take is one conditional upsert, so that two owners taking an
// expired lease at the same moment cannot both get it.
func (j *Journal) TakeLease(ctx context.Context, name string, ttl time.Duration) (Lease, error) {
	l := Lease{Name: name, Owner: newOwner(), Instance: j.instance}
	now := j.now()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return l, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	defer tx.Rollback()
	var holder, expires string
	err = tx.QueryRowContext(ctx, `SELECT owner, expires FROM locks WHERE name = ?`, name).Scan(&holder, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return l, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	gone := ""
	if holder != "" && ownerIsGone(holder) {
		gone = holder
	}
	l.Expires = now.Add(ttl)
	err = tx.QueryRowContext(ctx,
		`INSERT INTO locks(name, owner, expires, token, instance) VALUES (?, ?, ?, 1, ?)
		 ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires,
			token = locks.token + 1, instance = excluded.instance
		 WHERE locks.owner = '' OR locks.expires <= ? OR locks.owner = ?
		 RETURNING token`,
		name, l.Owner, formatTime(l.Expires), l.Instance, formatTime(now), gone).Scan(&l.Token)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("%w %s (held by %s until %s)", ErrLocked, name, holder, expires)
	}
	if err != nil {
		return l, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return l, fmt.Errorf("journal: lock %s: %w", name, err)
	}
	return l, nil
}

// RenewLease extends the lease l, as [Journal.TakeLease] or an earlier
// renewal returned it, to ttl from now, and returns it renewed. It
// succeeds only while l.Owner still holds the lease under l.Token, even
// once it has expired if nobody took it over since; otherwise the error
// wraps [ErrLeaseLost] and says who holds it now.
func (j *Journal) RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	expires := j.now().Add(ttl)
	res, err := j.db.ExecContext(ctx, `UPDATE locks SET expires = ? WHERE name = ? AND owner = ? AND token = ?`,
		formatTime(expires), l.Name, l.Owner, l.Token)
	if err != nil {
		return l, fmt.Errorf("journal: renew lease %s: %w", l.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return l, fmt.Errorf("journal: renew lease %s: %w", l.Name, err)
	}
	if n == 0 {
		return l, j.lostErr(ctx, l)
	}
	l.Expires = expires
	return l, nil
}

// lostErr is the error of a lease l no longer held: it wraps
// [ErrLeaseLost] and names the holder now, if the database says.
func (j *Journal) lostErr(ctx context.Context, l Lease) error {
	var owner, instance string
	var token int64
	err := j.db.QueryRowContext(context.WithoutCancel(ctx), `SELECT owner, instance, token FROM locks WHERE name = ?`, l.Name).
		Scan(&owner, &instance, &token)
	if err != nil || owner == "" {
		return fmt.Errorf("%w: %s (token %d) is no longer held", ErrLeaseLost, l.Name, l.Token)
	}
	return fmt.Errorf("%w: %s (token %d) was taken over by %s (instance %q, token %d)",
		ErrLeaseLost, l.Name, l.Token, owner, instance, token)
}

// ReleaseLease gives the lease l up, if l.Owner still holds it under
// l.Token: the next [Journal.TakeLease] gets it at once. The row stays,
// with no owner, so that the next holder's token is still one more. A
// lease lost meanwhile is left to its new holder. Errors are ignored: an
// unreleased lease expires.
func (j *Journal) ReleaseLease(ctx context.Context, l Lease) {
	_, _ = j.db.ExecContext(ctx, `UPDATE locks SET owner = '', instance = '', expires = ? WHERE name = ? AND owner = ? AND token = ?`,
		formatTime(time.Time{}), l.Name, l.Owner, l.Token)
}

// ErrNoLease is returned by [Journal.BreakLease] when the lease to break is
// no longer there: released, or taken over by another owner since it was
// listed.
var ErrNoLease = errors.New("journal: no such lease")

// Lease is a lease's row: the lock's name, the owner that holds it
// ("host/pid/random" for a lease taken by [Journal.TakeLease]), the
// instance that owner said it was ([Options].Instance, "" when none), the
// fencing token (one more at every new holder) and when the lease
// expires. A lease of a killed process stays until it expires, is taken
// over, or is broken.
type Lease struct {
	Name     string
	Owner    string
	Instance string
	Token    int64
	Expires  time.Time
}

// Leases returns every lease held in the journal, expired or not, sorted
// by name: what an operator lists before breaking one, and what /readyz
// shows. It fails only when the database does.
func (j *Journal) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT name, owner, instance, token, expires FROM locks WHERE owner != '' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("journal: leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var expires string
		if err := rows.Scan(&l.Name, &l.Owner, &l.Instance, &l.Token, &expires); err != nil {
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

// BreakLease frees the lease l (as [Journal.Leases] listed it) so that
// the next run of its job starts at once. It is for an operator who knows
// that l.Owner no longer runs (a process killed on another host, say);
// a running holder finds its lease lost at its next renewal or fenced
// write. Only the lease of l.Name held by l.Owner is freed: a lease taken
// over since it was listed is left alone. It returns [ErrNoLease] when
// l.Name is not held by l.Owner; other errors are the database's.
func (j *Journal) BreakLease(ctx context.Context, l Lease) error {
	res, err := j.db.ExecContext(ctx, `UPDATE locks SET owner = '', instance = '', expires = ? WHERE name = ? AND owner = ? AND owner != ''`,
		formatTime(time.Time{}), l.Name, l.Owner)
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
