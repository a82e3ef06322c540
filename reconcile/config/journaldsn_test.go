package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

// TestJournalPostgres: a PostgreSQL DSN is kept as written (not made a
// path in the config's folder), refused with a password in it, and read
// whole from journal_dsn_file, whose problems are named.
func TestJournalPostgres(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "journal.dsn")
	if err := os.WriteFile(dsnFile, []byte("postgres://feesync:pw@db:5432/fees?schema=arc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.dsn"), []byte("/var/lib/j.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, journal string
		want, err     string
	}{
		{"dsn", `journal = "postgres://feesync@db:5432/fees?schema=arc"`, "postgres://feesync@db:5432/fees?schema=arc", ""},
		{"dsn file", `journal_dsn_file = "journal.dsn"`, "postgres://feesync:pw@db:5432/fees?schema=arc", ""},
		{"password in the file", `journal = "postgres://feesync:pw@db/fees"`, "", "journal: a password is never written in the config file"},
		{"both", `journal = "postgres://feesync@db/fees"` + "\n" + `journal_dsn_file = "journal.dsn"`, "", "journal_dsn_file: set either journal or journal_dsn_file"},
		{"missing dsn file", `journal_dsn_file = "none.dsn"`, "", "journal_dsn_file: cannot be read"},
		{"not a dsn", `journal_dsn_file = "bad.dsn"`, "", "does not start with a PostgreSQL DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "feesync.toml")
			text := strings.Replace(minimalConfig, `journal = "/tmp/j.db"`, tc.journal, 1)
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load = %v, want an error with %q", err, tc.err)
				}
				if strings.Contains(err.Error(), ":pw@") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Journal != tc.want {
				t.Errorf("Journal = %s, want %s", c.Journal, tc.want)
			}
		})
	}
}
