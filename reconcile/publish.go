package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"path"

	"github.com/feebridge/feebridge/transport"
)

// This file holds what makes publishing exactly once where the drops
// allow it (README, "Exactly once, drop by drop"):
//
//   - A run first removes the temporary files that a killed upload of one
//     of its job's outputs left in the output folder. The output's name
//     is in the journal before the upload starts (the file's row,
//     "publishing"), and [transport.Drop.PutOwned] writes under a
//     temporary name derived from it alone, so the run removes them by
//     name, under the job's lock, at once rather than a day later, even
//     where the folder's listing hides them.
//   - A rerun after a crash between the upload and the journal's
//     "published" looks for the output before it puts it again: in the
//     output folder, and in the folder where the consumer moves what it
//     took, when one is configured. The same name with the same content
//     (size and SHA-256) is the output already delivered: it is marked
//     published, not put a second time.

// removeUploadTemps removes the temporary files of the outputs of fj's
// files that were being published when a run stopped. It runs under the
// job's lock, so no upload of those names is under way. Not in a dry run.
func (rn *runner) removeUploadTemps(ctx context.Context, fj fileJob) error {
	if rn.opts.DryRun || fj.out == nil {
		return nil
	}
	files, err := rn.store.Files(ctx, fj.job)
	if err != nil {
		return fmt.Errorf("reconcile: %s: %w", fj.job, err)
	}
	for _, f := range files {
		if f.Status != FilePublishing {
			continue
		}
		for _, output := range outputNames(f.Output) {
			removed, err := fj.out.RemoveTemps(ctx, output)
			if err != nil {
				return fmt.Errorf("reconcile: %s: remove the temporary files of %s: %w", fj.job, output, err)
			}
			for _, p := range removed {
				rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: removed the temporary file of an upload that did not finish",
					slog.String("job", fj.job), slog.String("output", output), slog.String("temp", p))
			}
		}
	}
	return nil
}

// publishedAs looks for the output name, whose content is out, where a
// put before a crash would have left it: in its folder, or in fj's taken
// folder when the consumer has already moved it there. It returns the
// path of a file of the same name, size and SHA-256 (the size alone when
// the drop lets the file be listed but not read), or "" when there is
// none. out is read to its end.
func (rn *runner) publishedAs(ctx context.Context, fj fileJob, name string, out io.ReadSeeker) (string, error) {
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	size, err := io.Copy(h, out)
	if err != nil {
		return "", err
	}
	sum := h.Sum(nil)
	places := []string{name}
	if fj.takenDir != "" {
		places = append(places, path.Join(fj.takenDir, path.Base(name)))
	}
	for _, p := range places {
		fi, err := fj.out.Stat(ctx, p)
		switch {
		case transport.ErrorCode(err) == transport.NotFound:
			continue
		case err != nil:
			return "", err
		case fi.IsDir || fi.Size != size:
			continue
		}
		same, err := sameContent(ctx, fj.out, p, sum)
		switch transport.ErrorCode(err) {
		case transport.NotFound:
			continue // taken between the listing and the read: look further
		case transport.Permission, transport.Unsupported:
			rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: an output found with the same size could not be read; taken as the same",
				slog.String("job", fj.job), slog.String("output", name), slog.String("found", p), slog.String("error", err.Error()))
			same, err = true, nil
		}
		if err != nil {
			return "", err
		}
		if same {
			rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: the output was delivered before the run stopped; not put again",
				slog.String("job", fj.job), slog.String("output", name), slog.String("found", p), slog.Int64("size", size))
			return p, nil
		}
	}
	return "", nil
}

// sameContent reports whether file name of drop has the SHA-256 sum.
func sameContent(ctx context.Context, drop *transport.Drop, name string, sum []byte) (bool, error) {
	rc, err := drop.Open(ctx, name)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	_, err = io.Copy(h, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	return bytes.Equal(h.Sum(nil), sum), nil
}
