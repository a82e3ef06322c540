package journaltest

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Dump lists the schema version, then every row of every table of the
// SQLite journal at path (read only), each as "table [columns]: values",
// sorted: two journals with the same content give the same list, whatever
// the order their rows were written in. The tables and columns come from
// the database itself, not from a list of this package, so that a table a
// migration adds is compared too.
func Dump(t testing.TB, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatalf("journaltest: dump %s: %v", path, err)
	}
	out := []string{fmt.Sprint("user_version ", version)}
	names, err := strings1(db, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatalf("journaltest: dump %s: %v", path, err)
	}
	for _, n := range names {
		rows, err := dumpTable(db, n)
		if err != nil {
			t.Fatalf("journaltest: dump %s: table %s: %v", path, n, err)
		}
		out = append(out, rows...)
	}
	return out
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

func strings1(db *sql.DB, query string) ([]string, error) {
	rows, err := db.Query(query)
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
		out = append(out, fmt.Sprintf("%s %q: %#v", table, cols, values))
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
