package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/feebridge/feebridge/transport"
)

// fileJob describes a job that turns each inbound file into at most one
// outbound file.
type fileJob struct {
	job    string
	in     *transport.Drop
	inDir  string
	out    *transport.Drop
	outDir string
	// takenDir, when set, is the folder on out where the consumer of the
	// outputs moves each file it took (PeopleSoft's loaded/, the folder of
	// Alma's import), keeping its name.
	takenDir string
	outName  func(sha string) string
	// decide reads d.src, journals each record through d and writes the
	// output to d.out. An error of type *fileError fails the file; any
	// other error stops the run.
	decide func(ctx context.Context, d *decision) error
	// input, when set, is kept in the file's row (re-drives).
	input string
	// claim says when a file of in is complete enough to be claimed.
	claim ClaimRule
	// counts, when set, returns the counts a file name must hold (from
	// the JOB_END of the job that wrote it), or nil when none are known;
	// recordCounts writes the outcome of the check after its decision.
	counts       func(ctx context.Context, name string) (*countCheck, error)
	recordCounts func(ctx context.Context, c *countCheck, err error) error
}

// runner runs the crash-safe sequence of every file job, one file at a
// time:
//
//  1. claim the file (move it to processing/) and copy it here;
//  2. decide every record in one journal transaction, the file marked
//     "publishing" with its output name (deterministic from its content);
//  3. publish: put the output atomically;
//  4. commit: mark the file "published";
//  5. move the source to done/ (failed/, with a reason, when unreadable).
//
// A rerun after a crash at any point finds the file's row and converges.
type runner struct {
	store Store
	opts  *Options
	log   *slog.Logger
	// guard, when set, is called before a job publishes anything: it
	// fails when the journal is behind the drops (see MarkDir).
	guard func(ctx context.Context) error
}

// hook calls the fault hook before step, if there is one.
func (rn *runner) hook(step string) error {
	if rn.opts.faultHook == nil {
		return nil
	}
	if err := rn.opts.faultHook(step); err != nil {
		return fmt.Errorf("reconcile: fault at step %s: %w", step, err)
	}
	return nil
}

// lock takes the job's lease, except in a dry run, and returns the
// run's context: its journal writes fenced by the lease, renewed every
// LockTTL/3 while the run lasts, and cancelled when the lease is lost
// (see holdLease); release stops the renewal and frees the lease.
func (rn *runner) lock(ctx context.Context, job string) (context.Context, func(), error) {
	if rn.opts.DryRun {
		return ctx, func() {}, nil
	}
	return holdLease(ctx, rn.store, rn.log, "job:"+job, rn.opts.LockTTL)
}

// files runs fj over every pending file of its inbox: first those an
// earlier run left claimed, then those complete enough to be claimed
// (fj.claim), waiting within the run, once, for those it saw first.
func (rn *runner) files(ctx context.Context, fj fileJob) (res RunResult, err error) {
	ctx, release, err := rn.lock(ctx, fj.job)
	if err != nil {
		return res, err
	}
	defer release()
	defer func() { err = leaseErr(ctx, err) }()
	if err := rn.checkGuard(ctx); err != nil {
		return res, err
	}
	if err := rn.removeUploadTemps(ctx, fj); err != nil {
		return res, err
	}
	rn.removeStaleTemps(ctx)
	if err := checkFolders(ctx, fj); err != nil {
		return res, err
	}
	inbox := &transport.Inbox{Drop: fj.in, Dir: fj.inDir}
	resumed, fresh, err := rn.pending(ctx, fj, inbox)
	if err != nil {
		return res, err
	}
	if err := rn.each(ctx, fj, inbox, resumed, &res); err != nil {
		return res, err
	}
	seen := rn.opts.Now()
	ready, wait, err := rn.sift(ctx, fj, fresh, seen)
	if err != nil {
		return res, err
	}
	if err := rn.each(ctx, fj, inbox, ready, &res); err != nil {
		return res, err
	}
	start := rn.opts.Now()
	if d := rn.settleWait(wait, start); d > 0 {
		rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: waiting for files to settle", slog.String("job", fj.job),
			slog.Int("files", len(wait)), slog.Duration("wait", d))
		if err := rn.sleep(ctx, d); err != nil {
			return res, err
		}
		if _, fresh, err = rn.pending(ctx, fj, inbox); err != nil {
			return res, err
		}
		handled := make(map[string]bool, len(ready))
		for _, fi := range ready {
			handled[fi.Name] = true
		}
		fresh = slices.DeleteFunc(fresh, func(fi transport.FileInfo) bool { return handled[fi.Name] })
		// The wait itself is the time that passed, whatever the clock
		// says (a clock that stands still).
		now := rn.opts.Now()
		if waited := start.Add(d); now.Before(waited) {
			now = waited
		}
		if ready, wait, err = rn.sift(ctx, fj, fresh, now); err != nil {
			return res, err
		}
		if err := rn.each(ctx, fj, inbox, ready, &res); err != nil {
			return res, err
		}
	}
	res.Waiting = append(res.Waiting, rn.logWaiting(ctx, fj, wait)...)
	if err := rn.watchInbound(ctx, fj.job, fj.inDir); err != nil {
		return res, err
	}
	rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: run finished", slog.String("job", fj.job),
		slog.Int("files", res.Files), slog.Int("records", res.Records), slog.Int("rejected", len(res.Rejected)),
		slog.Int("failed", len(res.Failed)), slog.Int("waiting", len(res.Waiting)), slog.Bool("dry_run", rn.opts.DryRun))
	return res, nil
}

// pending lists the inbox: the files left claimed, and those not yet.
func (rn *runner) pending(ctx context.Context, fj fileJob, inbox *transport.Inbox) (resumed, fresh []transport.FileInfo, err error) {
	resumed, fresh, err = inbox.PendingSplit(ctx)
	if transport.ErrorCode(err) == transport.NotFound {
		return nil, nil, &FolderError{Job: fj.job, Folder: fj.inDir, Err: err}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	return resumed, fresh, nil
}

// each runs fj over the files of list, adding to res.
func (rn *runner) each(ctx context.Context, fj fileJob, inbox *transport.Inbox, list []transport.FileInfo, res *RunResult) error {
	for _, fi := range list {
		if fi.IsDir {
			continue
		}
		if err := transport.ValidName(fi.Name); err != nil || strings.Contains(fi.Name, "/") {
			// It cannot be claimed, moved or read; stopping here would
			// hold back every file after it, run after run.
			reason := fmt.Sprintf("the name %q cannot be used (%v); the file is left where it is: rename or remove it", fi.Name, err)
			rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: skipped an inbound file", slog.String("job", fj.job), slog.String("reason", reason))
			res.Files++
			res.Failed = append(res.Failed, FileFailure{File: strconv.Quote(fi.Name), Reason: reason})
			continue
		}
		r, err := rn.file(ctx, fj, inbox, fi.Name)
		res.add(r)
		if err != nil {
			return err
		}
	}
	return nil
}

// file claims the file name of the inbox, copies it here and processes it.
func (rn *runner) file(ctx context.Context, fj fileJob, inbox *transport.Inbox, name string) (res RunResult, err error) {
	res.Files = 1
	var claim transport.Claimed
	src := path.Join(fj.inDir, transport.ProcessingDir, name)
	if rn.opts.DryRun {
		if _, err := fj.in.Stat(ctx, src); err != nil {
			src = path.Join(fj.inDir, name)
		}
	} else {
		claim, err = inbox.Claim(ctx, name)
		if err != nil {
			return res, fmt.Errorf("reconcile: %s: claim %s: %w", fj.job, name, err)
		}
		src = claim.Path
		if err := rn.claimed(ctx, fj, name); err != nil {
			return res, err
		}
	}
	before, err := fj.in.Stat(ctx, src)
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: read %s: %w", fj.job, src, err)
	}
	tmp, sha, err := rn.fetch(ctx, fj.job, fj.in, src)
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: read %s: %w", fj.job, src, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	st, err := tmp.Stat()
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	return rn.process(ctx, fj, name, sha, tmp, fileHooks{
		done:  func() error { return inbox.Done(ctx, claim) },
		fail:  func(reason string) error { return inbox.Fail(ctx, claim, reason) },
		check: func() error { return rn.recheck(ctx, fj, name, src, before, st.Size()) },
		back: func() error {
			to, err := inbox.Unclaim(ctx, claim)
			if err == nil && to != name {
				rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: a file of the same name came meanwhile: the file put back was renamed",
					slog.String("job", fj.job), slog.String("file", name), slog.String("renamed", to))
			}
			return err
		},
	})
}

// fileHooks are what process does with the file it decides: done moves
// it to done/, fail to failed/ with a reason; check, when set, returns an
// *untrustedError if the file changed since it was read, and back then
// moves it back to the inbound folder.
type fileHooks struct {
	done  func() error
	fail  func(reason string) error
	check func() error
	back  func() error
}

// process decides the input src (a local copy of the file name, whose
// content has the hex SHA-256 sha), publishes its output and calls done,
// or fail with a reason when src cannot be read: steps 2 to 5.
func (rn *runner) process(ctx context.Context, fj fileJob, name, sha string, src io.Reader, h fileHooks) (RunResult, error) {
	file, finished, err := rn.resume(ctx, fj, name, sha)
	if err != nil {
		return RunResult{Files: 1}, err
	}
	// A decision already committed may have been put before the crash.
	rerun := file.Status == FilePublishing
	if finished {
		res := RunResult{Files: 1, Duplicates: 1}
		if rn.opts.DryRun {
			return res, nil
		}
		if err := rn.hook(StepDone); err != nil {
			return res, err
		}
		return res, h.done()
	}
	var counts *countCheck
	if fj.counts != nil {
		if counts, err = fj.counts(ctx, name); err != nil {
			return RunResult{Files: 1}, fmt.Errorf("reconcile: %s: counts of %s: %w", fj.job, name, err)
		}
	}
	outs := rn.newOutputs(fj.job, path.Join(fj.outDir, fj.outName(sha)))
	defer outs.remove()
	res, file, err := rn.decide(ctx, fj, file, src, outs, h.check, counts)
	if counts != nil {
		if rerr := fj.recordCounts(ctx, counts, err); rerr != nil {
			return res, fmt.Errorf("reconcile: %s: counts of %s: %w", fj.job, name, rerr)
		}
	}
	var fe *fileError
	if errors.As(err, &fe) && h.check != nil {
		// A file cut short by a sender still writing fails to read: it is
		// put back, not failed.
		if cerr := h.check(); cerr != nil {
			err = cerr
		}
	}
	var ue *untrustedError
	if errors.As(err, &ue) {
		return rn.untrusted(ctx, fj, ue, h.back)
	}
	if errors.As(err, &fe) {
		return rn.fail(ctx, fj, file, fe, h.fail)
	}
	if err != nil || rn.opts.DryRun {
		return res, err
	}
	if file.Status == FilePublishing {
		if err := rn.publish(ctx, fj, file, outs, rerun); err != nil {
			return res, err
		}
		res.Outputs = append(res.Outputs, outputNames(file.Output)...)
	}
	if err := rn.hook(StepDone); err != nil {
		return res, err
	}
	if err := h.done(); err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: file processed", slog.String("job", fj.job),
		slog.String("file", name), slog.String("output", strings.Join(outputNames(file.Output), ",")), slog.Int("records", res.Records),
		slog.Int("rejected", len(res.Rejected)), slog.Int("skipped", res.Skipped))
	return res, nil
}

// resume looks the content sha up in the journal: finished when a file of
// that content was handled (a rerun after a crash before the move, or the
// same content dropped again; a new name is journaled as its duplicate),
// else the file to decide: the row of a decision that did not finish, to
// decide again with the same date (which yields the same output), or a
// new one.
func (rn *runner) resume(ctx context.Context, fj fileJob, name, sha string) (file FileRecord, finished bool, err error) {
	prior, err := rn.store.FilesBySHA(ctx, fj.job, sha)
	if err != nil {
		return file, false, err
	}
	now := rn.opts.Now()
	file = FileRecord{Job: fj.job, Name: name, SHA256: sha, Status: FileDeciding, Decided: now, Input: fj.input}
	if len(prior) == 0 {
		return file, false, nil
	}
	p := prior[0]
	switch p.Status {
	case FilePublished, FileDone, FileDuplicate:
		return file, true, rn.duplicate(ctx, fj, name, prior)
	case FilePublishing, FileFailed:
		file = p
		if p.Status == FileFailed {
			file.Decided = now
		}
	}
	return file, false, nil
}

// duplicate journals the file name as a duplicate of prior[0], the best
// of the files handled with the same content, unless one of them has its
// name (a rerun) or this is a dry run.
func (rn *runner) duplicate(ctx context.Context, fj fileJob, name string, prior []FileRecord) error {
	if rn.opts.DryRun {
		return nil
	}
	for _, q := range prior {
		if q.Name == name {
			return nil
		}
	}
	p := prior[0]
	id := p.ID
	if p.DuplicateOf != 0 {
		id = p.DuplicateOf
	}
	now := rn.opts.Now()
	if _, err := rn.store.AddFile(ctx, FileRecord{Job: fj.job, Name: name, SHA256: p.SHA256, Status: FileDuplicate,
		DuplicateOf: id, Reason: "same content as " + p.Name, Decided: now, Updated: now}); err != nil {
		return err
	}
	rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: duplicate file", slog.String("job", fj.job),
		slog.String("file", name), slog.String("same_as", p.Name))
	return nil
}

// decide decides every record of src into out in one journal transaction
// and commits it with the file marked publishing (or done, when nothing
// is to be published), except in a dry run. A *fileError leaves the
// journal as it was and returns file as it was before. check, when set,
// runs after the decision and before the commit: its error (the file
// changed since it was read) leaves the journal as it was.
func (rn *runner) decide(ctx context.Context, fj fileJob, file FileRecord, src io.Reader, outs *outputs, check func() error, counts *countCheck) (RunResult, FileRecord, error) {
	res := RunResult{Files: 1}
	now := rn.opts.Now()
	view, err := rn.store.Begin(ctx, file, now)
	if err != nil {
		return res, file, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	defer view.Rollback()
	d := &decision{view: view, file: view.File(), src: src, out: lazyWriter{outs, ""}, outs: outs, output: outs.base,
		asOf: file.Decided, result: RunResult{Files: 1}, counts: counts}
	if err := fj.decide(ctx, d); err != nil {
		return res, file, err
	}
	if err := outs.flush(); err != nil {
		return res, file, err
	}
	res, file = d.result, d.file
	if err := rn.hook(StepDecide); err != nil {
		return res, file, err
	}
	if check != nil {
		if err := check(); err != nil {
			return res, file, err
		}
	}
	file.Records, file.Rejected, file.Total = res.Records, len(res.Rejected), res.Total
	file.Status, file.Reason, file.Updated = FileDone, "", now
	if res.Records > 0 {
		file.Status, file.Output = FilePublishing, outs.names()
	}
	if rn.opts.DryRun {
		res.Outputs = append(res.Outputs, outputNames(file.Output)...)
		return res, file, nil
	}
	if err := view.Commit(ctx, file); err != nil {
		return res, file, fmt.Errorf("reconcile: %s: journal commit for %s: %w", fj.job, file.Name, err)
	}
	return res, file, nil
}

// publish puts the outputs of file, decided into outs, one after the
// other, and marks the file published. On a rerun (the decision was
// committed by a run that stopped), an output already in place or already
// taken by its consumer (see publishedAs) is not put again: a run that
// stopped between two outputs puts the rest only. The folder must exist:
// it is never created here (see checkFolders).
func (rn *runner) publish(ctx context.Context, fj fileJob, file FileRecord, outs *outputs, rerun bool) error {
	for _, p := range outs.list() {
		if err := rn.hook(StepPublish); err != nil {
			return err
		}
		if err := rn.put(ctx, fj, p.name, p.f, rerun); err != nil {
			return err
		}
	}
	if err := rn.hook(StepCommit); err != nil {
		return err
	}
	file.Status, file.Updated = FilePublished, rn.opts.Now()
	return rn.publishStamped(ctx, fj, file)
}

// put puts the output name, whose content is out, unless rerun finds it
// delivered already.
func (rn *runner) put(ctx context.Context, fj fileJob, name string, out io.ReadSeeker, rerun bool) error {
	if rerun {
		found, err := rn.publishedAs(ctx, fj, name, out)
		if err != nil {
			return fmt.Errorf("reconcile: %s: publish %s: %w", fj.job, name, err)
		}
		if found != "" {
			return nil
		}
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := fj.out.PutOwned(ctx, name, out); err != nil {
		if transport.ErrorCode(err) == transport.NotFound {
			return &FolderError{Job: fj.job, Folder: fj.outDir, Outbound: true, Err: err}
		}
		return fmt.Errorf("reconcile: %s: publish %s: %w", fj.job, name, err)
	}
	return nil
}

// checkGuard calls the guard, if there is one.
func (rn *runner) checkGuard(ctx context.Context) error {
	if rn.guard == nil {
		return nil
	}
	return rn.guard(ctx)
}

// fail journals a file that cannot be read and moves it to failed/.
func (rn *runner) fail(ctx context.Context, fj fileJob, file FileRecord, fe *fileError, fail func(string) error) (RunResult, error) {
	res := RunResult{Files: 1, Failed: []FileFailure{{File: file.Name, Reason: fe.Error()}}}
	rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: file failed", slog.String("job", fj.job),
		slog.String("file", file.Name), slog.String("reason", fe.Error()))
	if rn.opts.DryRun {
		return res, nil
	}
	file.Status, file.Reason, file.Updated = FileFailed, fe.Error(), rn.opts.Now()
	var err error
	if file.ID == 0 {
		_, err = rn.store.AddFile(ctx, file)
	} else {
		err = rn.store.UpdateFile(ctx, file)
	}
	if err != nil {
		return res, err
	}
	if err := fail(fe.Error()); err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	return res, nil
}
