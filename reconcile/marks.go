package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/transport"
)

// A drop mark is how the jobs notice a journal that is behind the drops
// it publishes to: restored from an older backup, or replaced by a new
// one. After each publication is journaled, the job writes a small file,
// its mark, in the hidden folder MarkDir of the folder it published to:
// the journal's identity, the publication's sequence and the output's
// name. Before a publishing job runs, every mark is compared with the
// journal: a mark of another journal, or with a sequence the journal has
// not reached, means that the drop holds publications the journal does
// not know, and the jobs that publish refuse to run (a *[MarkError])
// until an operator accepts the marks ([Jobs.AcceptMarks]).
//
// The marks are in a folder, so that a consumer reading the files of the
// output folder (PeopleSoft's file load, Alma's import) passes them by as
// it passes by any folder.
const MarkDir = ".feebridge"

// markPrefix starts the name of every mark file in MarkDir.
const markPrefix = "mark-"

// Mark is the content of a drop mark: the last publication of one job
// to its folder.
type Mark struct {
	Journal string    `json:"journal"` // the identity of the journal that published
	Seq     int64     `json:"seq"`     // the publication's sequence in that journal
	Job     string    `json:"job"`     // the job that published
	Output  string    `json:"output"`  // the output published, its path in the drop
	At      time.Time `json:"at"`      // when (the jobs' clock)
}

// MarkProblem is a drop mark the journal does not agree with.
type MarkProblem struct {
	// Path names the mark: the drop ("library" or "peoplesoft") and its
	// path there.
	Path string
	// Mark is what the mark says (zero when it cannot be read).
	Mark Mark
	// Reason says what is wrong.
	Reason string
	// Unknown are the files of the mark's folder (and the mark's last
	// output, wherever it went) that the journal does not know it
	// published: as far as the drop shows, what was published after the
	// journal's last known publication.
	Unknown []string
}

// MarkError is the error of a publishing job that refused to run because
// the journal is behind the drops: see [MarkDir].
type MarkError struct {
	Problems []MarkProblem
}

func (e *MarkError) Error() string {
	var b strings.Builder
	b.WriteString("the journal is behind the drops it publishes to (restored from an older backup, or replaced): nothing is published until an operator accepts the marks (feesync restore-check, restore-accept)")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "; mark %s: %s", p.Path, p.Reason)
		if len(p.Unknown) > 0 {
			fmt.Fprintf(&b, "; published but not in the journal: %s", strings.Join(p.Unknown, ", "))
		}
	}
	return b.String()
}

// stamper is what the jobs need of a store to write and check drop
// marks; [journal.Journal] has it. With a store that lacks it, no mark is
// written or checked.
type stamper interface {
	Stamp(ctx context.Context) (journal.Stamp, error)
	PublishFile(ctx context.Context, f FileRecord) (journal.Stamp, error)
	KnowsOutput(ctx context.Context, output string) (bool, error)
	Accepted(ctx context.Context, id string, seq int64) (bool, error)
	Accept(ctx context.Context, a journal.Acceptance) error
}

// markFolder is a folder the jobs publish to.
type markFolder struct {
	name string // the drop's name: library or peoplesoft
	drop *transport.Drop
	dir  string
}

// markFolders are the folders the jobs publish to.
func (j *Jobs) markFolders() []markFolder {
	var out []markFolder
	if j.deps.Bursar != nil {
		out = append(out, markFolder{"peoplesoft", j.deps.Bursar, j.opts.Folders.Charges})
	}
	if j.deps.Library != nil {
		out = append(out, markFolder{"library", j.deps.Library, j.opts.Folders.Imports})
	}
	return out
}

// CheckMarks compares every drop mark with the journal and returns those
// it does not agree with; none when the journal is up to date with the
// drops (or keeps no stamps). It fails when a drop or the journal does.
func (j *Jobs) CheckMarks(ctx context.Context) ([]MarkProblem, error) {
	st, ok := j.deps.Journal.(stamper)
	if !ok {
		return nil, nil
	}
	stamp, err := st.Stamp(ctx)
	if err != nil {
		return nil, err
	}
	var problems []MarkProblem
	for _, f := range j.markFolders() {
		p, err := checkFolderMarks(ctx, st, stamp, f)
		if err != nil {
			return nil, err
		}
		problems = append(problems, p...)
	}
	return problems, nil
}

func checkFolderMarks(ctx context.Context, st stamper, stamp journal.Stamp, f markFolder) ([]MarkProblem, error) {
	dir := path.Join(f.dir, MarkDir)
	list, err := f.drop.List(ctx, dir)
	if transport.ErrorCode(err) == transport.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile: marks of %s:%s: %w", f.name, dir, err)
	}
	var problems []MarkProblem
	for _, fi := range list {
		if fi.IsDir || !strings.HasPrefix(fi.Name, markPrefix) {
			continue
		}
		p := MarkProblem{Path: f.name + ":" + path.Join(dir, fi.Name)}
		data, err := f.drop.ReadFile(ctx, path.Join(dir, fi.Name))
		if err != nil {
			return nil, fmt.Errorf("reconcile: mark %s: %w", p.Path, err)
		}
		if err := json.Unmarshal(data, &p.Mark); err != nil || p.Mark.Journal == "" {
			p.Reason = fmt.Sprintf("cannot be read (%v): remove it only if no file was published after the journal's last known publication", err)
		} else if p.Reason = markReason(stamp, p.Mark); p.Reason == "" {
			continue
		} else if ok, err := st.Accepted(ctx, p.Mark.Journal, p.Mark.Seq); err != nil {
			return nil, err
		} else if ok {
			continue
		}
		if p.Unknown, err = unknownOutputs(ctx, st, f, p.Mark.Output); err != nil {
			return nil, err
		}
		problems = append(problems, p)
	}
	return problems, nil
}

// markReason says why the mark m does not agree with the journal's stamp,
// or is "" when it does.
func markReason(stamp journal.Stamp, m Mark) string {
	switch {
	case m.Journal != stamp.Journal:
		return fmt.Sprintf("written by journal %s (publication %d, %s), but this journal is %s: the journal was replaced by a new one", m.Journal, m.Seq, m.Output, stamp.Journal)
	case m.Seq > stamp.Seq:
		return fmt.Sprintf("names publication %d (%s), but the journal knows publications up to %d only: it was restored from an older backup", m.Seq, m.Output, stamp.Seq)
	}
	return ""
}

// unknownOutputs lists the files of the folder f, and last (the mark's
// output) if it is elsewhere, that the journal does not know it
// published.
func unknownOutputs(ctx context.Context, st stamper, f markFolder, last string) ([]string, error) {
	list, err := f.drop.List(ctx, f.dir)
	if err != nil && transport.ErrorCode(err) != transport.NotFound {
		return nil, fmt.Errorf("reconcile: %s:%s: %w", f.name, f.dir, err)
	}
	var names []string
	for _, fi := range list {
		if !fi.IsDir {
			names = append(names, path.Join(f.dir, fi.Name))
		}
	}
	for _, n := range outputNames(last) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var out []string
	for _, n := range names {
		ok, err := st.KnowsOutput(ctx, n)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, f.name+":"+n)
		}
	}
	return out, nil
}

// AcceptMarks records in the journal, as an audit row with reason, the
// acceptance of every drop mark it does not agree with, and returns them:
// after it the publishing jobs run again. It is the operator's word that
// the files listed in each problem's Unknown were dealt with (see the
// README, "Backing up and restoring the journal").
func (j *Jobs) AcceptMarks(ctx context.Context, reason string) ([]MarkProblem, error) {
	problems, err := j.CheckMarks(ctx)
	if err != nil || len(problems) == 0 {
		return problems, err
	}
	st := j.deps.Journal.(stamper)
	for _, p := range problems {
		a := journal.Acceptance{Mark: p.Path, MarkJournal: p.Mark.Journal, MarkSeq: p.Mark.Seq,
			MarkOutput: p.Mark.Output, Unknown: p.Unknown, Reason: reason, At: j.opts.Now()}
		if err := st.Accept(ctx, a); err != nil {
			return nil, err
		}
		j.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: drop mark accepted", slog.String("mark", p.Path),
			slog.String("reason", reason), slog.String("unknown", strings.Join(p.Unknown, ",")))
	}
	return problems, nil
}

// guardMarks fails with a *MarkError when a drop mark is ahead of the
// journal: the publishing jobs call it before they run.
func (j *Jobs) guardMarks(ctx context.Context) error {
	problems, err := j.CheckMarks(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &MarkError{Problems: problems}
	}
	return nil
}

// publishStamped marks file published; with a store that keeps stamps, it
// gives the publication its sequence and writes the job's drop mark.
func (rn *runner) publishStamped(ctx context.Context, fj fileJob, file FileRecord) error {
	st, ok := rn.store.(stamper)
	if !ok {
		return rn.store.UpdateFile(ctx, file)
	}
	stamp, err := st.PublishFile(ctx, file)
	if err != nil {
		return err
	}
	m := Mark{Journal: stamp.Journal, Seq: stamp.Seq, Job: fj.job, Output: file.Output, At: file.Updated.UTC()}
	data, _ := json.Marshal(m)
	dir := path.Join(fj.outDir, MarkDir)
	name := path.Join(dir, markPrefix+fj.job)
	if err := fj.out.MkdirAll(ctx, dir); err == nil {
		err = fj.out.WriteFile(ctx, name, append(data, '\n'))
	}
	if err != nil {
		// The publication is in place and journaled; a mark that lags
		// only weakens the check of a restored journal.
		rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: could not write the drop mark", slog.String("job", fj.job),
			slog.String("mark", name), slog.String("err", err.Error()))
	}
	return nil
}
