package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNoJournal is wrapped by the error of [Open] with Options.MustExist
// when the journal file is missing or empty (0 bytes).
var ErrNoJournal = errors.New("no journal")

// ErrJournalExists is wrapped by the error of [Create] when the file
// already holds a journal (or anything else).
var ErrJournalExists = errors.New("a journal already exists")

// mustExist fails, wrapping ErrNoJournal and naming path, unless path is
// a file with content.
func mustExist(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("journal: %s is missing: %w", path, ErrNoJournal)
	case err != nil:
		return fmt.Errorf("journal: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("journal: %s is not a file", path)
	case fi.Size() == 0:
		return fmt.Errorf("journal: %s is empty (0 bytes): %w", path, ErrNoJournal)
	}
	return nil
}

// Create makes a new journal at path, with a new identity, and opens it.
// It fails, wrapping [ErrJournalExists], when path is a file with content:
// a journal is never replaced by a new one. A missing or empty file is
// made into a new journal.
func Create(ctx context.Context, path string, opts *Options) (*Journal, error) {
	if path != Memory && !IsPostgres(path) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("journal: %s holds %d bytes: %w", path, fi.Size(), ErrJournalExists)
		}
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.MustExist = false
	o.mustBeNew = IsPostgres(path)
	return Open(ctx, path, &o)
}

// Stamp is what the journal knows of its publications: its identity (a
// random id made when it was created, kept by a backup and its restore)
// and the sequence of its last publication. Each published file has the
// next sequence.
type Stamp struct {
	Journal string
	Seq     int64
}

// Stamp returns the journal's identity and last publish sequence.
func (j *Journal) Stamp(ctx context.Context) (Stamp, error) {
	return readStamp(ctx, j.db)
}

func readStamp(ctx context.Context, q querier) (Stamp, error) {
	var s Stamp
	var seq string
	err := q.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'journal_id'),
		(SELECT value FROM meta WHERE key = 'publish_seq')`).Scan(&s.Journal, &seq)
	if err != nil {
		return s, fmt.Errorf("journal: stamp: %w", err)
	}
	if s.Seq, err = strconv.ParseInt(seq, 10, 64); err != nil {
		return s, fmt.Errorf("journal: stamp: publish_seq %q: %w", seq, err)
	}
	return s, nil
}

// PublishFile marks the file f published, as [Journal.UpdateFile] does,
// and gives it the next publish sequence, in one transaction; it returns
// the journal's stamp with that sequence.
func (j *Journal) PublishFile(ctx context.Context, f FileRecord) (Stamp, error) {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return Stamp{}, fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	st, err := readStamp(ctx, tx)
	if err != nil {
		return st, err
	}
	st.Seq++
	f.Status = FilePublished
	if err := updateFile(ctx, tx, f, j.at(f.Updated)); err != nil {
		return st, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE files SET seq = ? WHERE id = ?`, st.Seq, f.ID); err != nil {
		return st, fmt.Errorf("journal: file %s: %w", f.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'publish_seq'`, strconv.FormatInt(st.Seq, 10)); err != nil {
		return st, fmt.Errorf("journal: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("journal: %w", err)
	}
	return st, nil
}

// KnowsOutput tells whether the journal has a file whose output is the
// path output (published, or decided and being published); a file with
// several outputs (one per college) names them in its row one a line.
func (j *Journal) KnowsOutput(ctx context.Context, output string) (bool, error) {
	escaped := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(output)
	rows, err := j.db.QueryContext(ctx, `SELECT output FROM files WHERE output LIKE ? ESCAPE '!' AND status IN ('published', 'publishing')`,
		"%"+escaped+"%")
	if err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var outputs string
		if err := rows.Scan(&outputs); err != nil {
			return false, fmt.Errorf("journal: %w", err)
		}
		if slices.Contains(strings.Split(outputs, "\n"), output) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// Acceptance is an operator's acceptance of a drop mark that the journal
// did not agree with (after a restore, or a new journal): one row of the
// acceptances table, kept as an audit trail.
type Acceptance struct {
	ID          int64
	Mark        string   // where the mark is: drop and path
	MarkJournal string   // the journal id the mark names
	MarkSeq     int64    // the sequence the mark names
	MarkOutput  string   // the last output the mark names
	Unknown     []string // the published files the journal did not know
	JournalSeq  int64    // the journal's sequence when accepted
	Reason      string   // the operator's reason
	At          time.Time
}

// Accept records a: the mark it names is accepted from now on. When the
// mark is of this journal, the journal's publish sequence is raised to
// the mark's, so that the journal's next publications come after it. The
// reason is required.
func (j *Journal) Accept(ctx context.Context, a Acceptance) error {
	if strings.TrimSpace(a.Reason) == "" {
		return errors.New("journal: an acceptance needs a reason")
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer tx.Rollback()
	st, err := readStamp(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO acceptances(mark, mark_journal, mark_seq, mark_output, unknown, journal_seq, reason, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.Mark, a.MarkJournal, a.MarkSeq, a.MarkOutput, strings.Join(a.Unknown, "\n"),
		st.Seq, a.Reason, formatTime(j.at(a.At)))
	if err != nil {
		return fmt.Errorf("journal: accept %s: %w", a.Mark, err)
	}
	if a.MarkJournal == st.Journal && a.MarkSeq > st.Seq {
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'publish_seq'`, strconv.FormatInt(a.MarkSeq, 10)); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Accepted tells whether a mark naming journal id and sequence seq was
// accepted.
func (j *Journal) Accepted(ctx context.Context, id string, seq int64) (bool, error) {
	var n int
	err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM acceptances WHERE mark_journal = ? AND mark_seq = ?`, id, seq).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	return n > 0, nil
}

// Acceptances returns the acceptances made, oldest first.
func (j *Journal) Acceptances(ctx context.Context) ([]Acceptance, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT id, mark, mark_journal, mark_seq, mark_output, unknown, journal_seq, reason, accepted_at
		FROM acceptances ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Acceptance
	for rows.Next() {
		var a Acceptance
		var unknown, at string
		if err := rows.Scan(&a.ID, &a.Mark, &a.MarkJournal, &a.MarkSeq, &a.MarkOutput, &unknown, &a.JournalSeq, &a.Reason, &at); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		if unknown != "" {
			a.Unknown = strings.Split(unknown, "\n")
		}
		a.At = parseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
