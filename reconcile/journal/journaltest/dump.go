package journaltest

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", for a PostgreSQL journal

	"github.com/feebridge/feebridge/reconcile/journal"
)

// Dump lists the schema version, then every row of every table of the
// journal at path (a SQLite file, read only, or a PostgreSQL DSN), each as
// "table: column=value …" with the columns by name, sorted: two journals
// with the same content give the same list, whatever their store or the
// order their rows were written in. The tables and columns come from the
// database itself, not from a list of this package, so that a table a
// migration adds is compared too.
func Dump(t testing.TB, path string) []string {
	t.Helper()
	db, versionQuery, tablesQuery, args, err := openDump(path)
	if err != nil {
		t.Fatalf("journaltest: dump %s: %v", journal.Redact(path), err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(versionQuery).Scan(&version); err != nil {
		t.Fatalf("journaltest: dump %s: %v", journal.Redact(path), err)
	}
	out := []string{fmt.Sprint("schema version ", version)}
	names, err := strings1(db, tablesQuery, args...)
	if err != nil {
		t.Fatalf("journaltest: dump %s: %v", journal.Redact(path), err)
	}
	for _, n := range names {
		rows, err := dumpTable(db, n)
		if err != nil {
			t.Fatalf("journaltest: dump %s: table %s: %v", journal.Redact(path), n, err)
		}
		out = append(out, rows...)
	}
	return out
}

// openDump opens the journal at path for Dump, and says how its store
// lists its version and tables.
func openDump(path string) (db *sql.DB, version, tables string, args []any, err error) {
	if !journal.IsPostgres(path) {
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
		return db, `PRAGMA user_version`, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`, nil, err
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, "", "", nil, err
	}
	q := u.Query()
	schema := q.Get("schema")
	if schema == "" {
		schema = "public"
	}
	q.Del("schema")
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err = sql.Open("pgx", u.String())
	return db, `SELECT COALESCE(MAX(version), 0) FROM journal_schema_version`,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'
			AND table_name <> 'journal_schema_version' ORDER BY table_name`, []any{schema}, err
}

// Exec runs query on the SQLite journal at path behind the journal's back:
// for tests that age or damage a journal on purpose.
func Exec(t testing.TB, path, query string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("journaltest: %s on %s: %v", query, path, err)
	}
}

// Diff shows the lines of a that b lacks (-) and of b that a lacks (+).
func Diff(a, b []string) string {
	var d strings.Builder
	for _, l := range a {
		if !slices.Contains(b, l) {
			fmt.Fprintf(&d, "- %s\n", l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			fmt.Fprintf(&d, "+ %s\n", l)
		}
	}
	return d.String()
}

func strings1(db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func dumpTable(db *sql.DB, table string) ([]string, error) {
	rows, err := db.Query(`SELECT * FROM "` + strings.ReplaceAll(table, `"`, `""`) + `"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row(table, cols, values))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = append(out, table+": empty")
	}
	slices.Sort(out)
	return out, nil
}

// row is one row as "table: column=value …", the columns by name.
func row(table string, cols []string, values []any) string {
	idx := make([]int, len(cols))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return cols[idx[a]] < cols[idx[b]] })
	var b strings.Builder
	b.WriteString(table + ":")
	for _, i := range idx {
		fmt.Fprintf(&b, " %s=%#v", cols[i], values[i])
	}
	return b.String()
}
