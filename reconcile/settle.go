package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/feebridge/feebridge/transport"
)

// ClaimRule says when a file that a sender writes into an inbound folder
// is complete enough for a job to claim it (see the README, "What a
// sender must do for a file to be claimed"). The zero value claims every
// file at once.
//
// Settle: a file is claimed once two listings at least Settle apart show
// it with the same size and modification time. The journal keeps what
// each listing saw (its sightings table, on the clock of [Options].Now),
// so a file unchanged since an earlier run is claimed at once. A run
// waits within itself, once, for the files that would settle within 5
// minutes (those it sees first, when Settle is that short): it claims
// what is ready, waits until they would settle ([Options].Sleep), lists
// them again and claims those that did not change. The others stay where
// they are, logged as "waiting for it to settle", for a later run.
//
// DoneMarker: when set (".done"), file X is claimed only once X.done
// exists beside it. Marker files are never read as data; a marker is
// removed once its file is claimed, so that a file sent again under the
// same name needs a new one.
//
// A claimed file is checked once more after it was read and decided,
// before anything of it is committed: if its size or modification time
// changed (its sender was still writing), nothing of it is applied and it
// is moved back to the inbound folder for a later run (see RunResult's
// Waiting).
type ClaimRule struct {
	Settle     time.Duration
	DoneMarker string
}

// settleWaitMax bounds how long a run waits, within itself, for the files
// it saw first to settle; a longer wait is left to a later run.
const settleWaitMax = 5 * time.Minute

// waiting is a file of an inbound folder that a run leaves where it is.
type waiting struct {
	fi     transport.FileInfo
	until  time.Time // when it settles if it does not change; zero when only its marker is missing
	reason string
}

// splitMarkers returns the files of list that are data, and the names of
// the data files whose marker is in list.
func splitMarkers(list []transport.FileInfo, marker string) (data []transport.FileInfo, marked map[string]bool) {
	if marker == "" {
		return list, nil
	}
	marked = make(map[string]bool)
	for _, fi := range list {
		if base, ok := strings.CutSuffix(fi.Name, marker); ok && base != "" {
			marked[base] = true
			continue
		}
		data = append(data, fi)
	}
	return data, marked
}

// sift sorts the files of fj's inbound folder not yet claimed into those
// that can be claimed and those that must wait, and journals what it saw
// of each (not in a dry run). now is the time of the listing fresh.
func (rn *runner) sift(ctx context.Context, fj fileJob, fresh []transport.FileInfo, now time.Time) (ready []transport.FileInfo, wait []waiting, err error) {
	rule := fj.claim
	data, marked := splitMarkers(fresh, rule.DoneMarker)
	seen, err := rn.sightings(ctx, fj, data)
	if err != nil {
		return nil, nil, err
	}
	for _, fi := range data {
		if badName(fi.Name) {
			ready = append(ready, fi) // files() reports it
			continue
		}
		w := waiting{fi: fi}
		var why []string
		if rule.Settle > 0 {
			s, ok := seen[fi.Name]
			if !ok || s.Size != fi.Size || !s.ModTime.Equal(fi.ModTime) {
				s = Sighting{Job: fj.job, Name: fi.Name, Size: fi.Size, ModTime: fi.ModTime, FirstSeen: now}
				if !rn.opts.DryRun {
					if err := rn.store.SetSighting(ctx, s); err != nil {
						return nil, nil, err
					}
				}
			}
			if until := s.FirstSeen.Add(rule.Settle); now.Before(until) {
				w.until = until
				why = append(why, fmt.Sprintf("waiting for it to settle: %d bytes, unchanged since %s; it is claimed once unchanged for %s",
					fi.Size, s.FirstSeen.UTC().Format(time.RFC3339), rule.Settle))
			}
		}
		if rule.DoneMarker != "" && !marked[fi.Name] {
			why = append(why, "waiting for its marker "+fi.Name+rule.DoneMarker)
		}
		if len(why) == 0 {
			ready = append(ready, fi)
			continue
		}
		w.reason = strings.Join(why, "; ")
		wait = append(wait, w)
	}
	return ready, wait, nil
}

// sightings returns the journal's sightings of fj by name, after
// forgetting those of files no longer in data (claimed, or removed).
func (rn *runner) sightings(ctx context.Context, fj fileJob, data []transport.FileInfo) (map[string]Sighting, error) {
	if fj.claim.Settle <= 0 {
		return nil, nil
	}
	list, err := rn.store.Sightings(ctx, fj.job)
	if err != nil {
		return nil, err
	}
	here := make(map[string]bool, len(data))
	for _, fi := range data {
		here[fi.Name] = true
	}
	seen := make(map[string]Sighting, len(list))
	var gone []string
	for _, s := range list {
		if here[s.Name] {
			seen[s.Name] = s
		} else {
			gone = append(gone, s.Name)
		}
	}
	if len(gone) > 0 && !rn.opts.DryRun {
		if err := rn.store.ForgetSightings(ctx, fj.job, gone); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// settleWait returns how long the run waits for the files of wait, seen
// at now, to settle: until the last of those that settle within
// settleWaitMax, if they do not change; 0 for none, or in a dry run.
func (rn *runner) settleWait(wait []waiting, now time.Time) time.Duration {
	if rn.opts.DryRun {
		return 0
	}
	var d time.Duration
	for _, w := range wait {
		if w.until.IsZero() {
			continue
		}
		if left := w.until.Sub(now); left <= settleWaitMax {
			d = max(d, left)
		}
	}
	return d
}

// sleep waits d with Options.Sleep, or on a timer.
func (rn *runner) sleep(ctx context.Context, d time.Duration) error {
	if rn.opts.Sleep != nil {
		return rn.opts.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// claimed forgets the sighting of a file just claimed and removes its
// marker, if any. A marker that cannot be removed is logged: it stays,
// and would let a file sent again under the same name be claimed without
// a new one.
func (rn *runner) claimed(ctx context.Context, fj fileJob, name string) error {
	if fj.claim.Settle > 0 {
		if err := rn.store.ForgetSightings(ctx, fj.job, []string{name}); err != nil {
			return err
		}
	}
	if fj.claim.DoneMarker == "" {
		return nil
	}
	marker := path.Join(fj.inDir, name+fj.claim.DoneMarker)
	if err := fj.in.Remove(ctx, marker); err != nil && transport.ErrorCode(err) != transport.NotFound {
		rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: could not remove the marker of a claimed file", slog.String("job", fj.job),
			slog.String("file", name), slog.String("marker", marker), slog.String("error", err.Error()))
	}
	return nil
}

// logWaiting logs the files left to wait and returns them for the result.
func (rn *runner) logWaiting(ctx context.Context, fj fileJob, wait []waiting) []FileFailure {
	var out []FileFailure
	for _, w := range wait {
		rn.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: file left in the inbound folder", slog.String("job", fj.job),
			slog.String("file", w.fi.Name), slog.String("reason", w.reason))
		out = append(out, FileFailure{File: w.fi.Name, Reason: w.reason})
	}
	return out
}

// untrustedError is a claimed file that changed after it was claimed:
// its sender was still writing it.
type untrustedError struct {
	name          string
	before, after transport.FileInfo
	read          int64
}

func (e *untrustedError) Error() string {
	return fmt.Sprintf("%s changed while it was read (%d bytes modified %s when claimed, %d bytes read, %d bytes modified %s after): "+
		"not trusted, nothing of it was applied; it was put back for a later run", e.name,
		e.before.Size, e.before.ModTime.UTC().Format(time.RFC3339Nano), e.read, e.after.Size, e.after.ModTime.UTC().Format(time.RFC3339Nano))
}

// recheck returns an *untrustedError when the file src of fj, read as
// read bytes, no longer has the size and modification time of before.
func (rn *runner) recheck(ctx context.Context, fj fileJob, name, src string, before transport.FileInfo, read int64) error {
	after, err := fj.in.Stat(ctx, src)
	if err != nil {
		return fmt.Errorf("reconcile: %s: check %s again: %w", fj.job, src, err)
	}
	if after.Size != before.Size || !after.ModTime.Equal(before.ModTime) || read != after.Size {
		return &untrustedError{name: name, before: before, after: after, read: read}
	}
	return nil
}

// untrusted logs a file that changed while it was read and calls back,
// which puts it back in the inbound folder (not in a dry run).
func (rn *runner) untrusted(ctx context.Context, fj fileJob, ue *untrustedError, back func() error) (RunResult, error) {
	rn.log.LogAttrs(ctx, slog.LevelWarn, "reconcile: file not trusted", slog.String("job", fj.job),
		slog.String("file", ue.name), slog.String("reason", ue.Error()))
	res := RunResult{Waiting: []FileFailure{{File: ue.name, Reason: ue.Error()}}}
	if rn.opts.DryRun || back == nil {
		return res, nil
	}
	if err := back(); err != nil {
		return res, fmt.Errorf("reconcile: %s: put %s back: %w", fj.job, ue.name, err)
	}
	return res, nil
}

// badName reports whether a file of an inbound folder cannot be claimed
// for its name.
func badName(name string) bool {
	return transport.ValidName(name) != nil || strings.Contains(name, "/")
}
