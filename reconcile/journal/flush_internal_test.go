package journal

import (
	"path/filepath"
	"testing"

	"github.com/feebridge/feebridge/internal/pgtest"
)

// TestFlushInsertsWhatTheViewFoundNone: a view's Flush inserts the
// records whose keys it looked up and found none of, and replaces the
// others (found, or never looked up), on both stores. A key put twice
// in one batch is written once, as last put; a key found is updated in
// place, not refused.
func TestFlushInsertsWhatTheViewFoundNone(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "journal.db") },
		"postgres": func(t *testing.T) string { return pgtest.DSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			j, err := Create(ctx, dsn(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if _, err := j.db.db.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, created_at, updated_at)
				VALUES ('payment', 'FOUND', 'rejected', '', '')`); err != nil {
				t.Fatal(err)
			}
			v := paymentsView(t, j)
			defer v.Rollback()
			if err := v.readRecords(ctx, KindPayment, []string{"FOUND", "NEW"}); err != nil {
				t.Fatal(err)
			}
			v.put(Record{Kind: KindPayment, Key: "FOUND", Outcome: OutcomeForwarded})
			v.put(Record{Kind: KindPayment, Key: "NEW", Outcome: OutcomeRejected})
			v.put(Record{Kind: KindPayment, Key: "NEW", Outcome: OutcomeForwarded})
			v.put(Record{Kind: KindPayment, Key: "UNLOOKED", Outcome: OutcomeForwarded})
			if want := []bool{false, true, false}; len(v.pendingFresh) != 3 || v.pendingFresh[0] != want[0] || v.pendingFresh[1] != want[1] || v.pendingFresh[2] != want[2] {
				t.Fatalf("fresh flags %v, want %v (FOUND, NEW, UNLOOKED)", v.pendingFresh, want)
			}
			if err := v.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{"FOUND": OutcomeForwarded, "NEW": OutcomeForwarded, "UNLOOKED": OutcomeForwarded} {
				var got string
				var n int
				if err := v.q.QueryRowContext(ctx, `SELECT MAX(outcome), COUNT(*) FROM records WHERE kind = 'payment' AND key = ?`, key).Scan(&got, &n); err != nil {
					t.Fatal(err)
				}
				if got != want || n != 1 {
					t.Errorf("%s: %d rows, outcome %q; want one, %q", key, n, got, want)
				}
			}
		})
	}
}
