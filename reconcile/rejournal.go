package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"

	"github.com/feebridge/feebridge/transport"
)

// Rejournal brings a journal restored from an older backup up to what the
// drops show was done after it: every input file in the done/ folder of
// the charges, credits and payments jobs that the journal does not know
// (by name, then by content) was processed and its output published by
// the journal that was lost. Each is decided again, its records journaled
// as sent in the output its content names (the output name is made from
// the input's content), and marked published without publishing anything.
// Then the same file delivered again is a duplicate, and a record of it in
// another file is skipped: nothing is sent twice.
//
// Its result counts the files re-journaled (Files), their records, and
// lists the outputs they name (Outputs). A file that cannot be read is
// listed in Failed and left alone. [Jobs.AcceptMarks] is still needed for
// the jobs to publish again. Redrive outputs are not re-journaled (their
// input is in the journal, not in a drop): CheckMarks lists them.
func (j *Jobs) Rejournal(ctx context.Context) (RunResult, error) {
	var res RunResult
	var jobs []fileJob
	if j.missing[JobCharges] == nil {
		jobs = append(jobs, j.exportJob(JobCharges, j.opts.Folders.Exports, j.opts.ChargePrefix))
	}
	if j.missing[JobCredits] == nil {
		jobs = append(jobs, j.exportJob(JobCredits, j.opts.Folders.Credits, j.opts.CreditPrefix))
	}
	if j.missing[JobPayments] == nil {
		jobs = append(jobs, j.paymentsJob())
	}
	for _, fj := range jobs {
		r, err := j.run.rejournal(ctx, fj)
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// rejournal re-journals the files of fj's done/ folder that the journal
// does not know.
func (rn *runner) rejournal(ctx context.Context, fj fileJob) (res RunResult, err error) {
	ctx, release, err := rn.lock(ctx, fj.job)
	if err != nil {
		return res, err
	}
	defer release()
	defer func() { err = leaseErr(ctx, err) }()
	dir := path.Join(fj.inDir, transport.DoneDir)
	list, err := fj.in.List(ctx, dir)
	if transport.ErrorCode(err) == transport.NotFound {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	known, err := rn.store.Files(ctx, fj.job)
	if err != nil {
		return res, err
	}
	names := make(map[string]bool, len(known))
	for _, f := range known {
		if f.Status != FileDeciding && f.Status != FilePublishing {
			names[f.Name] = true
		}
	}
	for _, fi := range list {
		if fi.IsDir || names[fi.Name] {
			continue
		}
		r, err := rn.rejournalFile(ctx, fj, path.Join(dir, fi.Name), fi.Name)
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// rejournalFile re-journals the done file src (called name), unless its
// content is known.
func (rn *runner) rejournalFile(ctx context.Context, fj fileJob, src, name string) (RunResult, error) {
	tmp, sha, err := rn.fetch(ctx, fj.job, fj.in, src)
	if err != nil {
		return RunResult{}, fmt.Errorf("reconcile: %s: read %s: %w", fj.job, src, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	file, finished, err := rn.resume(ctx, fj, name, sha)
	if err != nil || finished {
		return RunResult{}, err
	}
	outs := rn.newOutputs(fj.job, path.Join(fj.outDir, fj.outName(sha)))
	defer outs.remove()
	res, file, err := rn.decide(ctx, fj, file, tmp, outs, nil, nil)
	var fe *fileError
	if errors.As(err, &fe) {
		return RunResult{Files: 1, Failed: []FileFailure{{File: src, Reason: fe.Error()}}}, nil
	}
	if err != nil || rn.opts.DryRun {
		return res, err
	}
	if file.Status == FilePublishing {
		file.Status, file.Updated = FilePublished, rn.opts.Now()
		file.Reason = "re-journaled after a restore from " + src + ": published by the journal lost, not sent again"
		if err := rn.store.UpdateFile(ctx, file); err != nil {
			return res, err
		}
		res.Outputs = append(res.Outputs, outputNames(file.Output)...)
	}
	rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: re-journaled a file processed after the backup", slog.String("job", fj.job),
		slog.String("file", src), slog.String("output", file.Output), slog.Int("records", res.Records))
	return res, nil
}
