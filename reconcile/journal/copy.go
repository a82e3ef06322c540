package journal

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Copy copies the journal src into dst exactly: every table the
// migrations made, every row and column, the schema version and the
// journal's identity (meta journal_id and publish_seq). The ids keep their
// values, and the counters behind them follow, so that new rows in dst do
// not collide with the copied ones.
//
// dst must be a journal that holds nothing yet (a freshly opened one);
// Copy names the first table it finds with rows otherwise. src must be at
// the schema version this program knows: an older one is refused with the
// advice to open it once with this program, which migrates it. The copy
// runs in one transaction on dst, so a copy that fails leaves dst as it
// was. Either journal may be SQLite or PostgreSQL: the tables and columns
// are read from the source's database, and on PostgreSQL the identity
// counters are set past the copied ids.
func Copy(ctx context.Context, dst, src *Journal) error {
	version, err := schemaVersion(ctx, src.db)
	if err != nil {
		return fmt.Errorf("journal: copy: the source: %w", err)
	}
	if version != len(migrations) {
		return fmt.Errorf("journal: copy: the source is at schema version %d, this program at %d: open the source once with this program (feesync restore-check does) to migrate it, then copy", version, len(migrations))
	}
	tables, err := tableNames(ctx, src.db)
	if err != nil {
		return fmt.Errorf("journal: copy: the source: %w", err)
	}
	ro := &sql.TxOptions{ReadOnly: true}
	if src.db.pg != nil {
		ro.Isolation = sql.LevelRepeatableRead // one snapshot of every table
	}
	rtx, err := src.db.BeginTx(ctx, ro)
	if err != nil {
		return fmt.Errorf("journal: copy: the source: %w", err)
	}
	defer rtx.Rollback()
	wtx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: copy: the target: %w", err)
	}
	defer wtx.Rollback()
	if err := refuseContent(ctx, wtx, tables); err != nil {
		return err
	}
	// The rows go in table by table, files first (the others refer to
	// it); SQLite checks the references at commit.
	if dst.db.pg == nil {
		if _, err := wtx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return fmt.Errorf("journal: copy: %w", err)
		}
	}
	for _, table := range tables {
		if err := copyTable(ctx, wtx, rtx, table); err != nil {
			return fmt.Errorf("journal: copy: table %s: %w", table, err)
		}
	}
	if dst.db.pg != nil {
		if err := resetIdentities(ctx, wtx, dst.db.pg.schema); err != nil {
			return fmt.Errorf("journal: copy: %w", err)
		}
	}
	if err := wtx.Commit(); err != nil {
		return fmt.Errorf("journal: copy: commit: %w", err)
	}
	return nil
}

func schemaVersion(ctx context.Context, db *store) (int, error) {
	q := `PRAGMA user_version`
	if db.pg != nil {
		q = `SELECT COALESCE(MAX(version), 0) FROM ` + versionTable
	}
	var v int
	err := db.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

// tableNames lists the journal's own tables (not SQLite's, nor
// PostgreSQL's schema version), files first, the others by name.
func tableNames(ctx context.Context, db *store) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name <> 'files', name`
	var args []any
	if db.pg != nil {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'
			AND table_name <> '` + versionTable + `' ORDER BY table_name <> 'files', table_name`
		args = append(args, db.pg.schema)
	}
	return queryStrings(ctx, db, q, args...)
}

// refuseContent fails if the target holds any row beyond the identity a
// new journal is born with (meta journal_id and publish_seq 0), which the
// copy replaces.
func refuseContent(ctx context.Context, tx *tx, tables []string) error {
	for _, table := range tables {
		q := `SELECT count(*) FROM ` + quoteIdent(table)
		if table == "meta" {
			q += ` WHERE NOT (key = 'journal_id' OR (key = 'publish_seq' AND value = '0'))`
		}
		var n int64
		if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("journal: copy: the target: table %s: %w", table, err)
		}
		if n > 0 {
			return fmt.Errorf("journal: copy: the target already holds data (%d rows in table %s); copy into a new, empty journal", n, table)
		}
	}
	return nil
}

// copyTable replaces the target's rows of table with the source's, column
// by column as the source lists them.
func copyTable(ctx context.Context, wtx, rtx *tx, table string) error {
	q := `SELECT * FROM ` + quoteIdent(table)
	if table == "files" {
		q += ` ORDER BY id` // a duplicate refers to an earlier file
	}
	rows, err := rtx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if _, err := wtx.ExecContext(ctx, `DELETE FROM `+quoteIdent(table)); err != nil {
		return err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	stmt, err := wtx.PrepareContext(ctx, `INSERT INTO `+quoteIdent(table)+` (`+strings.Join(quoted, ", ")+
		`) VALUES (`+strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, values...); err != nil {
			return err
		}
	}
	return rows.Err()
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// resetIdentities sets the counter of every identity column of the
// PostgreSQL schema past the largest id copied, so that the next row the
// journal adds does not take a copied one's id.
func resetIdentities(ctx context.Context, t *tx, schema string) error {
	rows, err := t.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = ? AND is_identity = 'YES' ORDER BY 1, 2`, schema)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		table, col := quoteIdent(c[0]), quoteIdent(c[1])
		if _, err := t.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(`+col+`), 0) + 1, false) FROM `+table,
			table, c[1]); err != nil {
			return fmt.Errorf("the identity of %s.%s: %w", c[0], c[1], err)
		}
	}
	return nil
}
