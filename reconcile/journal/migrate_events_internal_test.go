package journal

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMigrationToDurableEvents opens a journal from before durable events,
// holding an event that failed (then left to Alma's redelivery) and one
// done, and checks that the failed one becomes pending, due at once, for
// feesync's own retries.
func TestMigrationToDurableEvents(t *testing.T) {
	ctx := t.Context()
	n := -1
	for i, m := range migrations {
		if strings.Contains(m, "next_at") {
			n = i
			break
		}
	}
	if n < 0 {
		t.Fatal("no migration adds next_at")
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(migrations[:n:n], `PRAGMA user_version = `+strconv.Itoa(n)) {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	at := formatTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	for _, r := range [][2]string{{"E1", "failed"}, {"E2", "done"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, user_id, barcode, ref, reason, created_at, updated_at)
			VALUES ('event', ?, ?, 'S1', 'B1', 'L1', 'Alma down', ?, ?)`, r[0], r[1], at, at); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	j, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	due, err := j.DueEvents(ctx, parseTime(at), 10)
	if err != nil || len(due) != 1 || due[0].Key != "E1" || due[0].Outcome != OutcomePending || due[0].Ref != "L1" {
		t.Fatalf("due after the migration: %+v, %v", due, err)
	}
	if e, _, _ := j.GetEvent(ctx, "E2"); e.Outcome != OutcomeDone {
		t.Errorf("E2: %+v", e)
	}
}
