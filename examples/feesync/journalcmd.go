package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// initJournal creates the journal of a new site: `feesync init`. It
// refuses a journal file with content, so that a site's journal is never
// replaced by an empty one.
func (m *Main) initJournal(ctx context.Context) error {
	path := m.config.Journal
	if path == "" {
		return fmt.Errorf("%s: journal: missing: the path of the journal file", m.config.Path())
	}
	j, err := reconcile.CreateJournal(ctx, path, &reconcile.JournalOptions{Now: m.Now, Getenv: m.Getenv})
	if errors.Is(err, reconcile.ErrJournalExists) {
		return fmt.Errorf("init: %w; a journal is never replaced: to go back to a backup, stop feesync and copy the backup in its place", err)
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer j.Close()
	st, err := j.Stamp(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: new journal %s\n", journal.Redact(path), st.Journal)
	return nil
}

// backup writes a consistent copy of the journal to -out: `feesync
// backup`. It runs beside `feesync serve`, refuses to write over a file,
// and checks the copy.
func (m *Main) backup(ctx context.Context) error {
	if m.out == "" {
		return usagef("backup: -out FILE is required")
	}
	j, err := reconcile.OpenJournal(ctx, m.config.Journal, &reconcile.JournalOptions{Now: m.Now, MustExist: true, Getenv: m.Getenv})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer j.Close()
	if err := j.Backup(ctx, m.out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	b, err := reconcile.OpenJournal(ctx, m.out, &reconcile.JournalOptions{MustExist: true})
	if err != nil {
		return fmt.Errorf("backup: the copy %s: %w", m.out, err)
	}
	defer b.Close()
	if err := b.Check(ctx); err != nil {
		return fmt.Errorf("backup: the copy %s: %w", m.out, err)
	}
	st, err := b.Stamp(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: backup of journal %s up to publication %d\n", m.out, st.Journal, st.Seq)
	return nil
}

// openMarks opens the jobs without Alma, to compare the drop marks with
// the journal.
func (m *Main) openMarks(ctx context.Context) (*reconcile.Jobs, error) {
	setup, err := config.Open(ctx, m.config, &config.Options{Getenv: m.Getenv, Now: m.Now, Logger: m.logger,
		NoAlma: true, Jobs: []string{reconcile.JobReport}})
	if err != nil {
		return nil, err
	}
	m.onClose(setup.Close)
	return setup.Jobs, nil
}

// restoreCheck lists the drop marks the journal does not agree with:
// `feesync restore-check`. It fails (exit 1) when there is one.
func (m *Main) restoreCheck(ctx context.Context) error {
	jobs, err := m.openMarks(ctx)
	if err != nil {
		return err
	}
	problems, err := jobs.CheckMarks(ctx)
	if err != nil {
		return err
	}
	if len(problems) == 0 {
		fmt.Fprintln(m.Stdout, "every drop mark agrees with the journal: the jobs may publish")
		return nil
	}
	m.printMarks(problems)
	return fmt.Errorf("restore-check: %d drop marks ahead of the journal: the publishing jobs will not run; "+
		"deal with the files listed, then run `feesync restore-accept -reason TEXT` (README: Backing up and restoring the journal)", len(problems))
}

// restoreAccept accepts the drop marks the journal does not agree with,
// keeping the reason in the journal: `feesync restore-accept`.
func (m *Main) restoreAccept(ctx context.Context) error {
	if strings.TrimSpace(m.reason) == "" {
		return usagef("restore-accept: -reason TEXT is required: it is kept in the journal")
	}
	jobs, err := m.openMarks(ctx)
	if err != nil {
		return err
	}
	problems, err := jobs.CheckMarks(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		// The files processed after the backup (in done/) are journaled
		// again from their content, so that nothing of them is sent twice.
		rj, err := jobs.Rejournal(ctx)
		if err != nil {
			return fmt.Errorf("restore-accept: re-journaling: %w", err)
		}
		for _, o := range rj.Outputs {
			fmt.Fprintf(m.Stdout, "re-journaled, not sent again: %s\n", o)
		}
		for _, f := range rj.Failed {
			fmt.Fprintf(m.Stdout, "could not re-journal %s: %s\n", f.File, f.Reason)
		}
	}
	if problems, err = jobs.AcceptMarks(ctx, m.reason); err != nil {
		return err
	}
	if len(problems) == 0 {
		fmt.Fprintln(m.Stdout, "every drop mark agrees with the journal: nothing to accept")
		return nil
	}
	m.printMarks(problems)
	fmt.Fprintf(m.Stdout, "accepted %d drop marks: the publishing jobs run again\n", len(problems))
	return nil
}

// printMarks lists the problems on stdout: the mark, why, and the files
// published that the journal does not know.
func (m *Main) printMarks(problems []reconcile.MarkProblem) {
	for _, p := range problems {
		fmt.Fprintf(m.Stdout, "mark %s: %s\n", p.Path, p.Reason)
		for _, u := range p.Unknown {
			fmt.Fprintf(m.Stdout, "\tpublished, not in the journal: %s\n", u)
		}
	}
}

// copyJournal copies the journal -from into the new, empty journal -to:
// `feesync journal copy`, the move from one store to another while
// feesync is stopped. The source is opened as it is, never migrated.
func (m *Main) copyJournal(ctx context.Context) error {
	if m.in == "" || m.out == "" {
		return usagef("journal copy: -from JOURNAL and -to JOURNAL are required")
	}
	// A PostgreSQL journal's password comes from feesync's environment.
	src, err := journal.Open(ctx, m.in, &journal.Options{MustExist: true, AsIs: true, Getenv: m.Getenv})
	if err != nil {
		return fmt.Errorf("journal copy: -from: %w", err)
	}
	defer src.Close()
	dst, err := journal.Open(ctx, m.out, &journal.Options{Now: m.Now, Getenv: m.Getenv})
	if err != nil {
		return fmt.Errorf("journal copy: -to: %w", err)
	}
	defer dst.Close()
	if err := journal.Copy(ctx, dst, src); err != nil {
		return fmt.Errorf("journal copy: %s to %s: %w", journal.Redact(m.in), journal.Redact(m.out), err)
	}
	st, err := dst.Stamp(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: copy of journal %s up to publication %d\n", journal.Redact(m.out), st.Journal, st.Seq)
	return nil
}
