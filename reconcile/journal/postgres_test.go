package journal_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/internal/pgtest"
	"github.com/feebridge/feebridge/reconcile/journal"
)

func openPG(t *testing.T, dsn string, opts *journal.Options) *journal.Journal {
	t.Helper()
	j, err := journal.Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// withSchema returns dsn with the feebridge parameter schema=name.
func withSchema(dsn, name string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "schema=" + name
}

// TestPostgresSchemasAreApart: two journals in two schemas of one
// database see nothing of each other, and each has its own identity.
func TestPostgresSchemasAreApart(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a := openPG(t, withSchema(dsn, "college_a"), nil)
	b := openPG(t, withSchema(dsn, "college_b"), nil)
	if err := a.Put(ctx, journal.Record{Kind: journal.KindEvent, Key: "E1", Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.Get(ctx, journal.KindEvent, "E1"); err != nil || !ok {
		t.Errorf("a lost its record: %v, %v", ok, err)
	}
	if _, ok, err := b.Get(ctx, journal.KindEvent, "E1"); err != nil || ok {
		t.Errorf("b sees a's record: %v, %v", ok, err)
	}
	sa, err := a.Stamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Stamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Journal == sb.Journal || len(sa.Journal) != 32 {
		t.Errorf("identities %q and %q: want two different 32-digit ids", sa.Journal, sb.Journal)
	}
	// The same schema opened again is the same journal.
	a2 := openPG(t, withSchema(dsn, "college_a"), nil)
	if _, ok, err := a2.Get(ctx, journal.KindEvent, "E1"); err != nil || !ok {
		t.Errorf("a reopened lost its record: %v, %v", ok, err)
	}
}

// TestPostgresBadSchema: a schema name that is not a plain name is
// refused before anything is sent.
func TestPostgresBadSchema(t *testing.T) {
	_, err := journal.Open(t.Context(), "postgres://u@127.0.0.1:1/db?schema=College-A", nil)
	if err == nil || !strings.Contains(err.Error(), `schema="College-A"`) {
		t.Errorf("Open = %v, want the schema refused", err)
	}
	_, err = journal.Open(t.Context(), "postgres://u@127.0.0.1:1/db?schema=a;drop", nil)
	if err == nil || !strings.Contains(err.Error(), "parameters cannot be read") {
		t.Errorf("Open = %v, want the parameters refused", err)
	}
}

// TestPostgresWritersOneAtATime: two handles on one journal (two
// instances) decide files claiming the same keys at the same time; each
// key is claimed once, in one file, as on SQLite.
func TestPostgresWritersOneAtATime(t *testing.T) {
	dsn := pgtest.DSN(t)
	js := []*journal.Journal{openPG(t, dsn, nil), openPG(t, dsn, nil)}
	const keys = 40
	claimed := make([]int, len(js))
	var wg sync.WaitGroup
	errs := make(chan error, len(js))
	for i, j := range js {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := claimAll(t.Context(), j, fmt.Sprintf("file-%d", i), keys)
			claimed[i] = n
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if claimed[0]+claimed[1] != keys {
		t.Errorf("claimed %d + %d keys, want %d in all", claimed[0], claimed[1], keys)
	}
	recs, err := js[0].Records(t.Context(), journal.KindCharge, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != keys {
		t.Errorf("%d charge records, want %d", len(recs), keys)
	}
}

// claimAll decides a file claiming keys charges, one statement at a time
// (so that the two writers interleave unless serialised), and returns how
// many it claimed.
func claimAll(ctx context.Context, j *journal.Journal, name string, keys int) (int, error) {
	f := journal.FileRecord{Job: "charges", Name: name, SHA256: name, Status: journal.FileDeciding}
	v, err := j.Begin(ctx, f, time.Time{})
	if err != nil {
		return 0, err
	}
	defer v.Rollback()
	n := 0
	for k := range keys {
		r := journal.Record{Kind: journal.KindCharge, Key: fmt.Sprintf("T%d/OVERDUEFINE", k), Outcome: journal.OutcomeCharged,
			UserID: "U1", FeeType: fees.TypeOverdueFine, Amount: fees.MustParseMoney("1.00", fees.USD), Line: k + 1}
		ok, err := v.Claim(ctx, r)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
		if err := v.Flush(ctx); err != nil {
			return 0, err
		}
	}
	f = v.File()
	f.Status = journal.FileDone
	return n, v.Commit(ctx, f)
}

// TestPostgresLocksAcrossHandles: two instances race for a job's lock;
// exactly one takes it each time.
func TestPostgresLocksAcrossHandles(t *testing.T) {
	dsn := pgtest.DSN(t)
	js := []*journal.Journal{openPG(t, dsn, nil), openPG(t, dsn, nil)}
	for round := range 10 {
		var wg sync.WaitGroup
		releases := make([]func(), len(js))
		errs := make([]error, len(js))
		for i, j := range js {
			wg.Add(1)
			go func() {
				defer wg.Done()
				releases[i], errs[i] = j.Lock(t.Context(), "charges", time.Minute)
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				defer releases[i]()
			case !errors.Is(err, journal.ErrLocked):
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d instances took the lock, want 1", round, won)
		}
		for i := range releases {
			if releases[i] != nil {
				releases[i]()
			}
		}
	}
}

// TestPostgresMigrationsOnce: several Opens at once on an empty database
// migrate it once, and all of them open it.
func TestPostgresMigrationsOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 4
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := journal.Open(t.Context(), withSchema(dsn, "shared"), nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer j.Close()
			st, err := j.Stamp(t.Context())
			ids[i], errs[i] = st.Journal, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("Open %d sees journal %s, Open 0 %s: the journal was made twice", i, ids[i], ids[0])
		}
	}
}

// TestPostgresNewerSchemaRefused: a journal whose schema version is newer
// than this program is refused, as on SQLite.
func TestPostgresNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	j := openPG(t, dsn, nil)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), `UPDATE public.journal_schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	_, err = journal.Open(t.Context(), dsn, nil)
	if err == nil || !strings.Contains(err.Error(), "newer than this program knows") {
		t.Fatalf("Open = %v, want the newer schema refused", err)
	}
}

// TestPostgresMustExistAndCreate: MustExist refuses a schema without a
// journal; Create refuses one with a journal.
func TestPostgresMustExistAndCreate(t *testing.T) {
	dsn := withSchema(pgtest.DSN(t), "c1")
	if _, err := journal.Open(t.Context(), dsn, &journal.Options{MustExist: true}); !errors.Is(err, journal.ErrNoJournal) {
		t.Fatalf("Open(MustExist) of an empty schema = %v, want ErrNoJournal", err)
	}
	j, err := journal.Create(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := journal.Create(t.Context(), dsn, nil); !errors.Is(err, journal.ErrJournalExists) {
		t.Fatalf("Create over a journal = %v, want ErrJournalExists", err)
	}
	openPG(t, dsn, &journal.Options{MustExist: true})
}

// TestPostgresErrorsRedacted: an error of Open names the DSN with its
// password hidden.
func TestPostgresErrorsRedacted(t *testing.T) {
	const secret = "s3cret-Pa55"
	dsn := "postgres://feebridge:" + secret + "@127.0.0.1:1/journal?connect_timeout=2&schema=college_a"
	_, err := journal.Open(t.Context(), dsn, nil)
	if err == nil {
		t.Fatal("Open of a server that is not there succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "postgres://feebridge:xxxxx@127.0.0.1:1/journal") {
		t.Errorf("the error does not name the DSN redacted: %v", err)
	}
	if got := journal.Redact(dsn); strings.Contains(got, secret) {
		t.Errorf("Redact = %s, shows the password", got)
	}
}

// TestPostgresOperatorChecks: the integrity check passes on a sound
// journal and names an invalid index, the size counts the schema's
// tables, and Backup says to use the database's own tools.
func TestPostgresOperatorChecks(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	j := openPG(t, withSchema(dsn, "ops"), nil)
	if err := j.Check(ctx); err != nil {
		t.Fatalf("Check of a new journal: %v", err)
	}
	if err := j.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := j.Size(ctx)
	if err != nil || n <= 0 {
		t.Errorf("Size = %d, %v; want the bytes of the schema's tables", n, err)
	}
	if err := j.Backup(ctx, filepath.Join(t.TempDir(), "b.db")); !errors.Is(err, journal.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup = %v, want ErrBackupPostgres naming pg_dump", err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// An index left invalid, as a failed CREATE INDEX CONCURRENTLY leaves it.
	if _, err := raw.ExecContext(ctx, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ops.records_user'::regclass`); err != nil {
		t.Fatal(err)
	}
	if err := j.Check(ctx); err == nil || !strings.Contains(err.Error(), "records_user") {
		t.Errorf("Check = %v, want the invalid index named", err)
	}
}

// TestPostgresOpenWithoutCreate: a role that may read and write the
// journal's tables but create nothing (a database administrator's usual
// grant to a service) opens a journal that is up to date and writes to
// it: Open creates the schema and the version table only when they are
// missing.
func TestPostgresOpenWithoutCreate(t *testing.T) {
	ctx := t.Context()
	admin := withSchema(pgtest.DSN(t), "svc")
	j, err := journal.Create(ctx, admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	raw, err := sql.Open("pgx", admin[:strings.Index(admin, "schema=")-1])
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	role := fmt.Sprintf("fb_service_%d", time.Now().UnixNano())
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN`,
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA svc TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA svc TO ` + role,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA svc TO ` + role,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		raw.ExecContext(context.Background(), `DROP OWNED BY `+role)
		raw.ExecContext(context.Background(), `DROP ROLE `+role)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	svc := openPG(t, u.String(), &journal.Options{MustExist: true})
	if _, err := svc.Lock(ctx, "job:charges", time.Minute); err != nil {
		t.Fatalf("a write as the service role: %v", err)
	}
}
