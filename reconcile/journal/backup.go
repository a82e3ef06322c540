package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Backup writes a consistent copy of the journal to the new file path
// with SQLite's VACUUM INTO: one read transaction, so the copy is the
// journal as of one commit, while the jobs (another process too) go on
// writing. It refuses to write over an existing file, and removes what it
// wrote when it fails. The copy is a journal that [Open] opens, with the
// same identity ([Journal.Stamp]): restoring it means putting it in the
// journal's place while feesync is stopped.
func (j *Journal) Backup(ctx context.Context, path string) error {
	if j.db.pg != nil {
		return ErrBackupPostgres
	}
	if path == "" || path == Memory {
		return errors.New("journal: backup: no file named")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("journal: backup: %s already exists; name a new file", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: backup: %w", err)
	}
	if _, err := j.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		if !strings.Contains(err.Error(), "output file already exists") {
			os.Remove(path)
		}
		return fmt.Errorf("journal: backup to %s: %w", path, err)
	}
	return nil
}

// Check runs SQLite's integrity check over the journal and fails, with
// what it found, unless the database is sound.
func (j *Journal) Check(ctx context.Context) error {
	if j.db.pg != nil {
		return j.checkPostgres(ctx)
	}
	rows, err := j.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("journal: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("journal: integrity check: %w", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("journal: integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}
