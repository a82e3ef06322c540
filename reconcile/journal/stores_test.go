package journal_test

import (
	"testing"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// opener opens a new, empty journal of the store a test runs on.
type opener func(opts *journal.Options) (*journal.Journal, error)

// eachStore runs test twice: on a SQLite journal (in memory) and on a
// PostgreSQL one (a database of its own; skipped without PostgreSQL, see
// internal/pgtest).
func eachStore(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, func(opts *journal.Options) (*journal.Journal, error) { return journal.OpenMemory(t.Context(), opts) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		test(t, func(opts *journal.Options) (*journal.Journal, error) { return journal.Open(t.Context(), dsn, opts) })
	})
}
