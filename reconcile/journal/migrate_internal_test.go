package journal

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMigrationToChargeKeys opens a journal written before charge keys
// (schema 3: charges and credits keyed by bare transaction id) and checks
// that the migrations key them by charge key and point the payments and
// credits at them, leaving held records without a type alone, and bring
// the schema up to date.
func TestMigrationToChargeKeys(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "journal.db")
	// A journal of schema 3, as that version of the program left it.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(migrations[:3:3], `PRAGMA user_version = 3`) {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	old := []struct{ kind, key, outcome, typ, ref string }{
		{"charge", "T1", "charged", "OVERDUEFINE", ""},
		{"charge", "abcdef:3", "rejected", "", ""},
		{"credit", "T1", "credited", "OVERDUEFINE", "T1"},
		{"credit", "X5", "rejected", "CREDIT", ""},
		{"payment", "R1/T1", "forwarded", "OVERDUEFINE", "T1"},
		{"payment", "R2/T404", "rejected", "", "T404"},
	}
	for _, r := range old {
		if _, err := db.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, fee_type, ref, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, '', '')`, r.kind, r.key, r.outcome, r.typ, r.ref); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	j, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rows, err := j.Records(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string
	for _, r := range rows {
		got = append(got, [2]string{r.Kind + " " + r.Key, r.Ref})
	}
	want := [][2]string{
		{"charge T1/OVERDUEFINE", ""},
		{"charge abcdef:3", ""},
		{"credit T1/OVERDUEFINE", "T1/OVERDUEFINE"},
		{"credit X5", ""},
		{"payment R1/T1", "T1/OVERDUEFINE"},
		{"payment R2/T404", "T404"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records after the migration (-want +got):\n%s", diff)
	}
	var version int
	if err := j.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Errorf("schema version %d (%v), want %d", version, err, len(migrations))
	}
}

// TestMigrationFromEveryVersion opens a journal left at each earlier
// schema version, with a record of each kind in it, and checks that the
// migrations bring it up to date and that the jobs' statements run on it.
func TestMigrationFromEveryVersion(t *testing.T) {
	for v := 1; v < len(migrations); v++ {
		t.Run(strconv.Itoa(v), func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "journal.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range append(migrations[:v:v], `PRAGMA user_version = `+strconv.Itoa(v)) {
				if _, err := db.ExecContext(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			for _, kind := range []string{"charge", "credit", "payment", "waiver", "event"} {
				if _, err := db.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, created_at, updated_at)
					VALUES (?, 'K1', 'rejected', '', '')`, kind); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			j, err := Open(ctx, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var version int
			if err := j.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) {
				t.Errorf("schema version %d (%v), want %d", version, err, len(migrations))
			}
			if recs, err := j.Records(ctx, "", OutcomeRejected); err != nil || len(recs) != 5 {
				t.Errorf("records after the migrations = %d, %v", len(recs), err)
			}
			if _, _, err := j.Students(ctx, time.Time{}, true); err != nil {
				t.Error(err)
			}
		})
	}
}
