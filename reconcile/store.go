package reconcile

import (
	"context"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Store is the journal as the jobs need it: the durable memory that makes
// them idempotent and crash-safe. [journal.Journal] (SQLite, or in memory)
// is one; package journaltest checks any other against the same suite.
// Every method fails only when the store does, unless it says otherwise.
type Store interface {
	// Lock takes the lock called name for ttl and returns the function
	// that releases it; ErrLocked when another owner holds it.
	Lock(ctx context.Context, name string, ttl time.Duration) (release func(), err error)
	// TakeLease takes the lease called name for ttl, with a fencing
	// token one more than its last holder's; ErrLocked when another owner
	// holds it. Writes made under journal.WithFence(ctx, lease) fail with
	// journal.ErrLeaseLost once another owner took it over.
	TakeLease(ctx context.Context, name string, ttl time.Duration) (journal.Lease, error)
	// RenewLease extends a lease held to ttl from now; journal.ErrLeaseLost
	// when it is no longer held under its token.
	RenewLease(ctx context.Context, l journal.Lease, ttl time.Duration) (journal.Lease, error)
	// ReleaseLease gives a lease up if it is still held under its token.
	ReleaseLease(ctx context.Context, l journal.Lease)
	// Begin starts deciding the file f (inserting its row when f.ID is 0)
	// in one transaction; at is the time written on what it decides.
	Begin(ctx context.Context, f FileRecord, at time.Time) (journal.View, error)

	// Get returns the record of kind and key, and false if there is none.
	Get(ctx context.Context, kind, key string) (Record, bool, error)
	// Put inserts or replaces one record, at r.Updated.
	Put(ctx context.Context, r Record) error
	// Records returns the records of kind and outcome ("" for any), by
	// kind and key.
	Records(ctx context.Context, kind, outcome string) ([]Record, error)
	// Held returns the held records of kind that can be re-driven.
	Held(ctx context.Context, kind string) ([]Record, error)
	// ListHeld returns the records held now, of kind ("" for any), newest
	// first.
	ListHeld(ctx context.Context, kind string) ([]Record, error)
	// Closures returns the audit trail of the held records of kind ("" for
	// any) that were dismissed or superseded, newest first.
	Closures(ctx context.Context, kind string) ([]journal.Closure, error)
	// Dismiss closes the held record of kind ("" for any) and key, with
	// who and why; an error wrapping journal.ErrNotHeld when none is held
	// under key.
	Dismiss(ctx context.Context, kind, key, by, reason string) (Record, error)
	// Unpublished returns the charges decided into files not yet in place.
	Unpublished(ctx context.Context) ([]Record, error)
	// Waived counts the waivers made for a webhook event.
	Waived(ctx context.Context, eventID string) (int, error)

	// AddEvent journals a webhook event as pending, due at once; false
	// if an event with its key is journaled already (nothing changes).
	AddEvent(ctx context.Context, r Record) (added bool, err error)
	// GetEvent returns the event with the id key, and false if none.
	GetEvent(ctx context.Context, key string) (Event, bool, error)
	// DueEvents returns at most limit pending events due at at, the
	// longest due first.
	DueEvents(ctx context.Context, at time.Time, limit int) ([]Event, error)
	// NextEvent returns when the earliest pending event is due; false if
	// none is pending.
	NextEvent(ctx context.Context) (time.Time, bool, error)
	// PutEvent writes an event's outcome, reason, code, attempts and next
	// attempt.
	PutEvent(ctx context.Context, ev Event) error
	// RetryEvents makes the failed event key (all, when empty) pending
	// again, due at at, and returns how many it changed.
	RetryEvents(ctx context.Context, key string, at time.Time) (int, error)

	// Files returns the files of job ("" for all), in the order seen.
	Files(ctx context.Context, job string) ([]FileRecord, error)
	// FilesBySHA returns the files of job with a content, best first.
	FilesBySHA(ctx context.Context, job, sha string) ([]FileRecord, error)
	// AddFile inserts a file's row and returns its id.
	AddFile(ctx context.Context, f FileRecord) (int64, error)
	// UpdateFile writes f over its row.
	UpdateFile(ctx context.Context, f FileRecord) error

	// RecordsFor returns every record of a student or of a fee (its
	// charge, payments and credits), oldest first.
	RecordsFor(ctx context.Context, user, feeID string) ([]Record, error)
	// SetDisagreements replaces what is kept of the last reconciliation:
	// the disagreements it found at at (none when all agreed).
	SetDisagreements(ctx context.Context, at time.Time, ds []journal.Disagreement) error
	// Disagreements returns what the last reconciliation found.
	Disagreements(ctx context.Context) ([]journal.Disagreement, error)
	// Outstanding returns a student's charges with what is left of each.
	Outstanding(ctx context.Context, user string) ([]journal.Held, error)
	// EachOutstanding walks every charge with what is left of it, by
	// student and key (the reconciliation's bulk view).
	EachOutstanding(ctx context.Context, fn func(journal.Held) error) error
	// ChangedSince returns the students with a record written at or
	// after a time.
	ChangedSince(ctx context.Context, since time.Time) ([]string, error)
	// SentFees returns a student's fees that came in an export file, with
	// what the bursar still holds of each and whether feebridge waived it.
	SentFees(ctx context.Context, user string) ([]journal.Sent, error)
	// ChargedType reports whether an export file ever carried a fee of a
	// type.
	ChargedType(ctx context.Context, t fees.Type) (bool, error)
	// Students returns the students active since a time, and the quiet.
	Students(ctx context.Context, since time.Time, returns bool) (active, quiet []string, err error)
	// Colleges returns the charges sent per college, with what the
	// bursar holds of them and the newest reconciliation's disagreements.
	Colleges(ctx context.Context) ([]journal.CollegeFigures, error)
	// Totals sums the records updated in [from, to).
	Totals(ctx context.Context, from, to time.Time) ([]journal.Total, error)
	// Unseen returns the payments forwarded up to a time and not yet seen
	// in the library system, by charge.
	Unseen(ctx context.Context, upTo time.Time) ([]journal.Forwarded, error)
	// MarkSeen marks the payments forwarded for charges as seen.
	MarkSeen(ctx context.Context, refs []string, upTo time.Time) error

	// Sightings returns the files of job's inbound folder as last seen
	// changing, by name (see [journal.Sighting]).
	Sightings(ctx context.Context, job string) ([]Sighting, error)
	// SetSighting inserts or replaces the sighting of s.Job and s.Name.
	SetSighting(ctx context.Context, s Sighting) error
	// ForgetSightings removes the sightings of job for names.
	ForgetSightings(ctx context.Context, job string, names []string) error
}

var _ Store = (*journal.Journal)(nil)

// Journal is the SQLite journal; see [journal.Journal].
type Journal = journal.Journal

// JournalOptions are the optional settings of [OpenJournal].
type JournalOptions = journal.Options

// OpenJournal opens the SQLite journal at path; see [journal.Open].
func OpenJournal(ctx context.Context, path string, opts *JournalOptions) (*Journal, error) {
	return journal.Open(ctx, path, opts)
}

// CreateJournal makes a new SQLite journal at path and opens it; it
// refuses a file with content. See [journal.Create].
func CreateJournal(ctx context.Context, path string, opts *JournalOptions) (*Journal, error) {
	return journal.Create(ctx, path, opts)
}

// ErrNoJournal is wrapped by the error of [OpenJournal] with MustExist
// when the journal file is missing or empty; see [journal.ErrNoJournal].
var ErrNoJournal = journal.ErrNoJournal

// ErrCannotOpen is wrapped by the error of [OpenJournal] when the
// database file cannot be opened; that error names the path and what is
// wrong with it. See [journal.ErrCannotOpen].
var ErrCannotOpen = journal.ErrCannotOpen

// ErrJournalExists is wrapped by the error of [CreateJournal] when the file
// already holds a journal; see [journal.ErrJournalExists].
var ErrJournalExists = journal.ErrJournalExists

// Record is one row of the journal's records table; see [journal.Record].
type Record = journal.Record

// Sighting is a file of an inbound folder as a job last saw it change;
// see [journal.Sighting].
type Sighting = journal.Sighting

// FileRecord is one row of the journal's files table; see
// [journal.FileRecord].
type FileRecord = journal.FileRecord

// ErrLocked is returned by every job when another run of it holds its lock.
var ErrLocked = journal.ErrLocked

// The outcomes, kinds and file states of the journal; see package journal.
const (
	OutcomeCharged   = journal.OutcomeCharged
	OutcomeCredited  = journal.OutcomeCredited
	OutcomeForwarded = journal.OutcomeForwarded
	OutcomeWaived    = journal.OutcomeWaived
	OutcomeRejected  = journal.OutcomeRejected
	OutcomeDone      = journal.OutcomeDone
	OutcomeFailed    = journal.OutcomeFailed
	// OutcomeDismissed and OutcomeSuperseded close a held record; see
	// [Jobs.Dismiss].
	OutcomeDismissed  = journal.OutcomeDismissed
	OutcomeSuperseded = journal.OutcomeSuperseded
	OutcomeDisputed   = journal.OutcomeDisputed
	OutcomeRefunded   = journal.OutcomeRefunded

	KindCharge  = journal.KindCharge
	KindCredit  = journal.KindCredit
	KindPayment = journal.KindPayment
	KindWaiver  = journal.KindWaiver
	KindEvent   = journal.KindEvent
	KindRefund  = journal.KindRefund
	KindResult  = journal.KindResult

	// CodeBursarRefused is the code of a record the bursar's load
	// refused after it was sent; see [Jobs.Results].
	CodeBursarRefused = journal.CodeBursarRefused

	FileDeciding   = journal.FileDeciding
	FilePublishing = journal.FilePublishing
	FilePublished  = journal.FilePublished
	FileDone       = journal.FileDone
	FileDuplicate  = journal.FileDuplicate
	FileFailed     = journal.FileFailed
)
