package transport

import (
	"context"
	"errors"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Folders of an [Inbox], inside its Dir, and the suffix of reason files.
const (
	ProcessingDir = "processing"
	DoneDir       = "done"
	FailedDir     = "failed"
	ReasonSuffix  = ".reason.txt"
)

// Inbox is the claim protocol every job uses on an inbound folder:
//
//  1. [Inbox.Pending] lists what is to do: files in Dir, and files left in
//     Dir/processing by a run that stopped halfway (those come first and
//     must be finished before anything else).
//  2. [Inbox.Claim] moves Dir/name to Dir/processing/name. Claiming a file
//     that is already there resumes it.
//  3. After processing, [Inbox.Done] moves it to Dir/done/name, or
//     [Inbox.Fail] writes Dir/failed/name.reason.txt (atomically) and then
//     moves the file to Dir/failed/name.
//
// Nothing is deleted and nothing is overwritten: if done/ or failed/
// already holds a file of that name, the new one gets a number before its
// extension ("pay.csv", then "pay.1.csv", "pay.2.csv").
//
// Every step is a single rename (or an atomic write before one), so a crash
// at any point leaves each file in exactly one of Dir, processing/, done/
// or failed/, and running the same steps again finishes the work. A file
// in processing/ may therefore be processed twice (once before a crash,
// once after): the job's journal must make that harmless, by keying
// records on their content.
//
// The protocol assumes one runner per inbox at a time (the scheduler's
// job); it does not lock against a second runner.
type Inbox struct {
	Drop *Drop
	Dir  string // the inbound folder, relative to the drop's root; "" is the root
}

// Claimed is a file held in the processing folder of an [Inbox].
type Claimed struct {
	Name    string // the file's base name
	Path    string // where it is now: Dir/processing/Name
	Resumed bool   // it was already in processing/, left there by an earlier run
}

func (in *Inbox) dir(sub string) string { return join(in.Dir, sub) }

// Pending returns the files to process: first those left in processing/
// by an earlier run, then those in Dir, each group sorted by name. A file
// in Dir whose name is also in processing/ waits for the next run, so
// that the resumed one is finished first. Folders are left out. Returns
// NotFound if Dir does not exist.
func (in *Inbox) Pending(ctx context.Context) ([]FileInfo, error) {
	resumed, fresh, err := in.PendingSplit(ctx)
	return append(resumed, fresh...), err
}

// PendingSplit returns what [Inbox.Pending] does in its two groups: the
// files left in processing/ by an earlier run (already claimed), and the
// files of Dir not yet claimed.
func (in *Inbox) PendingSplit(ctx context.Context) (resumed, fresh []FileInfo, err error) {
	top, err := in.Drop.List(ctx, in.Dir)
	if err != nil {
		return nil, nil, err
	}
	proc, err := in.Drop.List(ctx, in.dir(ProcessingDir))
	if err != nil && ErrorCode(err) != NotFound {
		return nil, nil, err
	}
	busy := make(map[string]bool)
	for _, fi := range proc {
		if !fi.IsDir {
			resumed = append(resumed, fi)
			busy[fi.Name] = true
		}
	}
	for _, fi := range top {
		if !fi.IsDir && !busy[fi.Name] {
			fresh = append(fresh, fi)
		}
	}
	return resumed, fresh, nil
}

// Unclaim moves a claimed file back from processing/ to Dir, for a later
// run to claim again (a file found still changing after it was claimed),
// and returns its name in Dir: its own, or, when Dir holds a file of that
// name already, the first free [Numbered] name.
func (in *Inbox) Unclaim(ctx context.Context, c Claimed) (string, error) {
	if err := ValidName(c.Name); err != nil || strings.Contains(c.Name, "/") {
		return "", invalid("unclaim", c.Name, errors.New("not a claimed inbox file"))
	}
	list, err := in.Drop.List(ctx, in.Dir)
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(list))
	for _, fi := range list {
		taken[fi.Name] = true
	}
	target := c.Name
	for n := 1; taken[target]; n++ {
		target = Numbered(c.Name, n)
	}
	return target, in.Drop.Rename(ctx, c.Path, join(in.Dir, target))
}

// Claim moves Dir/name to Dir/processing/name and returns the claim. If
// processing/ already holds name, the claim is resumed (Resumed is true)
// and Dir/name, if any, is left for a later run. Returns NotFound if the
// file is in neither place and InvalidName if name has a folder in it.
func (in *Inbox) Claim(ctx context.Context, name string) (Claimed, error) {
	if err := ValidName(name); err != nil || strings.Contains(name, "/") {
		if err == nil {
			err = errors.New("an inbox file name has no folder")
		}
		return Claimed{}, invalid("claim", name, err)
	}
	c := Claimed{Name: name, Path: join(in.dir(ProcessingDir), name)}
	if err := in.Drop.MkdirAll(ctx, in.dir(ProcessingDir)); err != nil {
		return Claimed{}, err
	}
	_, err := in.Drop.Stat(ctx, c.Path)
	switch ErrorCode(err) {
	case OK:
		c.Resumed = true
		return c, nil
	case NotFound:
	default:
		return Claimed{}, err
	}
	err = in.Drop.Rename(ctx, join(in.Dir, name), c.Path)
	if ErrorCode(err) == NotFound {
		if _, serr := in.Drop.Stat(ctx, c.Path); serr == nil {
			c.Resumed = true
			return c, nil
		}
	}
	if err != nil {
		return Claimed{}, err
	}
	return c, nil
}

// Done moves a claimed file to Dir/done. Calling it again for the same
// claim, once the file has left processing/, does nothing.
func (in *Inbox) Done(ctx context.Context, c Claimed) error {
	return in.finish(ctx, c, DoneDir, "")
}

// Fail moves a claimed file to Dir/failed, after writing the reason to a
// file of the same name plus ".reason.txt" beside it. Calling it again for
// the same claim, once the file has left processing/, does nothing.
func (in *Inbox) Fail(ctx context.Context, c Claimed, reason string) error {
	if !strings.HasSuffix(reason, "\n") {
		reason += "\n"
	}
	return in.finish(ctx, c, FailedDir, reason)
}

func (in *Inbox) finish(ctx context.Context, c Claimed, sub, reason string) error {
	if err := ValidName(c.Name); err != nil || strings.Contains(c.Name, "/") {
		return invalid("finish", c.Name, errors.New("not a claimed inbox file"))
	}
	src := join(in.dir(ProcessingDir), c.Name)
	dst := in.dir(sub)
	if err := in.Drop.MkdirAll(ctx, dst); err != nil {
		return err
	}
	list, err := in.Drop.List(ctx, dst)
	if err != nil {
		return err
	}
	taken := make(map[string]bool, len(list))
	for _, fi := range list {
		taken[fi.Name] = true
	}
	if _, err := in.Drop.Stat(ctx, src); err != nil {
		if ErrorCode(err) == NotFound && slices.ContainsFunc(list, func(fi FileInfo) bool {
			return isNumbered(fi.Name, c.Name)
		}) {
			return nil // finished by an earlier call
		}
		return err
	}
	target := c.Name
	for n := 1; taken[target]; n++ {
		target = Numbered(c.Name, n)
	}
	if reason != "" {
		// A reason file without its data file (a crash between the two
		// steps) is simply written again.
		if err := in.Drop.WriteFile(ctx, join(dst, target+ReasonSuffix), []byte(reason)); err != nil {
			return err
		}
	}
	return in.Drop.Rename(ctx, src, join(dst, target))
}

// Numbered returns name with number n put before its extension:
// Numbered("pay.csv", 2) is "pay.2.csv", Numbered("pay", 2) is "pay.2".
// [Inbox] uses it to keep files of the same name apart in done/ and failed/.
func Numbered(name string, n int) string {
	ext := path.Ext(name)
	if ext == name { // ".profile"
		ext = ""
	}
	return strings.TrimSuffix(name, ext) + "." + strconv.Itoa(n) + ext
}

// isNumbered reports whether got is name or Numbered(name, n) for some n.
func isNumbered(got, name string) bool {
	if got == name {
		return true
	}
	ext := path.Ext(name)
	if ext == name {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext) + "."
	if !strings.HasPrefix(got, stem) || !strings.HasSuffix(got, ext) || len(got) <= len(stem)+len(ext) {
		return false
	}
	n, err := strconv.Atoi(got[len(stem) : len(got)-len(ext)])
	return err == nil && n > 0
}
