package config

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
)

// readJournalDSN checks a PostgreSQL journal's DSN in the file (no
// password there: secrets are never written in the config file) and
// reads journal_dsn_file, when set, into Journal.
func (c *Config) readJournalDSN() error {
	if journal.IsPostgres(c.Journal) {
		if u, err := url.Parse(c.Journal); err == nil {
			if _, ok := u.User.Password(); ok {
				return c.errorf("journal", "a password is never written in the config file: set %s or %s, or put the whole DSN in a file named by journal_dsn_file",
					journal.EnvPassword, journal.EnvPasswordFile)
			}
		}
	}
	if c.JournalDSNFile == "" {
		return nil
	}
	if c.Journal != "" {
		return c.errorf("journal_dsn_file", "set either journal or journal_dsn_file, not both")
	}
	b, err := os.ReadFile(c.JournalDSNFile)
	if err != nil {
		return c.errorf("journal_dsn_file", "cannot be read: %v", err)
	}
	dsn, _, _ := strings.Cut(string(b), "\n")
	dsn = strings.TrimSpace(dsn)
	if !journal.IsPostgres(dsn) {
		return c.errorf("journal_dsn_file", "%s does not start with a PostgreSQL DSN (postgres://user:password@host:5432/database)", c.JournalDSNFile)
	}
	c.Journal = dsn
	return nil
}

// checkPostgresJournal checks that the PostgreSQL journal answers and
// holds a journal, without changing it.
func (c *Config) checkPostgresJournal() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, c.Journal, &journal.Options{AsIs: true})
	if err != nil {
		return fmt.Errorf("journal = %q: %w", journal.Redact(c.Journal), err)
	}
	defer j.Close()
	if err := j.Ping(ctx); err != nil {
		return fmt.Errorf("journal = %q: %w", journal.Redact(c.Journal), err)
	}
	if _, err := j.Stamp(ctx); err != nil {
		return fmt.Errorf("journal = %q: there is no journal yet (run feesync init), or it cannot be read: %w", journal.Redact(c.Journal), err)
	}
	return nil
}
