package journal_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/journal/journaltest"
)

func TestConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T, now func() time.Time) reconcile.Store {
		j, err := journal.Open(t.Context(), filepath.Join(t.TempDir(), "journal.db"), &journal.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

// TestConformancePostgres runs the conformance suite against a journal
// in PostgreSQL, a database of its own for each test.
func TestConformancePostgres(t *testing.T) {
	journaltest.Run(t, func(t *testing.T, now func() time.Time) reconcile.Store {
		j, err := journal.Open(t.Context(), pgtest.DSN(t), &journal.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

func TestConformanceInMemory(t *testing.T) {
	journaltest.Run(t, func(t *testing.T, now func() time.Time) reconcile.Store {
		j, err := journal.OpenMemory(t.Context(), &journal.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	})
}

// TestMemoryJournalsAreApart shows that two journals in memory share
// nothing, and that one keeps what it holds across statements.
func TestMemoryJournalsAreApart(t *testing.T) {
	ctx := t.Context()
	a, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := journal.Open(ctx, journal.Memory, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Put(ctx, journal.Record{Kind: journal.KindEvent, Key: "E1", Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.Get(ctx, journal.KindEvent, "E1"); err != nil || !ok {
		t.Errorf("a lost its record: %v, %v", ok, err)
	}
	if _, ok, err := b.Get(ctx, journal.KindEvent, "E1"); err != nil || ok {
		t.Errorf("b sees a's record: %v, %v", ok, err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Error(err)
	}
}
